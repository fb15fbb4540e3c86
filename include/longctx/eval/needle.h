// Needle-in-a-haystack as the paper ran it (../shared/PAPER.md §4), built in token space with the
// model's tokenizer: keep L - 200 - len(needle) haystack tokens, put the needle at depth x that
// many tokens, moved back to just after the nearest preceding sentence end (depth 100 appends),
// and splice the context between the template's token-encoded halves.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "longctx/tokenizer/tokenizer.h"

namespace longctx::eval {

inline constexpr const char* kPaperNeedle =
    "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.";
inline constexpr const char* kPaperQuestion = "What is the best thing to do in San Francisco?";
inline constexpr const char* kPaperAnswer = "eat a sandwich and sit in Dolores Park on a sunny day.";
inline constexpr const char* kPaperTemplate =
    "<|im_start|> This is a very long story book: <book> {context} </book>.\n Based on the content of the book, Question: "
    "{question}\nAnswer:";
inline constexpr uint64_t kPromptReserve = 200;  // tokens the paper leaves for the template and question

struct NeedleSpec {
  std::string needle = kPaperNeedle, question = kPaperQuestion, answer = kPaperAnswer;
  std::string prompt_template = kPaperTemplate;  // must hold {context} and {question}
  std::string answer_prefix;                     // appended after the template (e.g. " The best thing to do in San Francisco is")
};

struct NeedleTrialPlan {
  uint64_t length = 0;
  double depth = 0;
  std::vector<uint32_t> prompt;     // the exact token ids the model sees
  uint64_t context_tokens = 0;      // haystack tokens kept + needle tokens
  uint64_t needle_token_index = 0;  // where the needle starts in `prompt`
};

// RULER-style trials: "One of the special magic numbers for KEY is: VALUE." needles, `keys` keys
// of which `queries` are asked about, `values` values per asked key; the asked needles go at the
// trial's depth, the others at seeded random depths. Scored by string-match-all / -part.
struct RulerSpec {
  int keys = 0, values = 1, queries = 1;  // keys 0: the paper's single needle
  uint64_t seed = 0;
};

struct RulerTrial {
  std::vector<std::string> needles;  // targets first
  int targets = 0;
  std::string question;
  std::vector<std::string> answers;  // the values asked for
};
RulerTrial make_ruler_trial(const RulerSpec& spec, uint64_t length, double depth);

class NeedleBuilder {
 public:
  // Throws Error for a template without {context}/{question}, or a haystack without sentences.
  NeedleBuilder(const tokenizer::Tokenizer& tok, const std::string& haystack_text, const NeedleSpec& spec);
  NeedleTrialPlan build(uint64_t length, double depth) const;
  // Several needles: targets (in order) at `depth`, the rest at `other_depths`; the question
  // replaces the spec's. needle_token_index is the first target's.
  NeedleTrialPlan build_multi(uint64_t length, double depth, const RulerTrial& t, const std::vector<double>& other_depths) const;
  const std::vector<uint32_t>& needle_ids() const { return needle_; }

 private:
  std::vector<uint32_t> continuation(const std::string& text) const;
  std::vector<uint32_t> suffix_for(const std::string& question) const;
  uint64_t sentence_start(const std::vector<uint32_t>& ctx, double depth) const;
  const tokenizer::Tokenizer& tok_;
  NeedleSpec spec_;
  std::vector<uint32_t> hay_, needle_, prefix_, suffix_;
  std::vector<bool> period_;  // per id: the token's text ends a sentence
};

// round(linspace(1000, 128000, 40)) and round(linspace(0, 100, n)) as numpy rounds (half to even);
// sigmoid spacing puts more depths near both ends.
std::vector<uint64_t> paper_lengths();
std::vector<double> linear_depths(int n);
std::vector<double> sigmoid_depths(int n);

struct NeedleScores {
  double paper_recall = 0;  // |words(response) ∩ words(answer)| / 12: the paper's, max 11/12 ("a" repeats)
  double recall = 0;        // the same over the distinct answer words: max 1
  double rouge1_f = 0;      // unigram F1 (ROUGE-1) on lowercased alphanumeric words
  int substring = 0;        // the normalised answer appears in the normalised response
};
NeedleScores score_needle(const std::string& response, const std::string& answer);

// RULER's string_match_all (share of the references found, case-insensitively, in the response)
// and string_match_part (1 if any is).
double string_match_all(const std::string& response, const std::vector<std::string>& refs);
double string_match_part(const std::string& response, const std::vector<std::string>& refs);

// Book QA (InfiniteBench longbook_qa_eng) scores.
// The paper's: |set(answer[0].lower().split()) ∩ set(prediction.lower().split())| / |set(answer words)|.
double bookqa_recall(const std::string& prediction, const std::string& answer);
// InfiniteBench's qa_f1_score: SQuAD normalisation (lowercase, punctuation and articles removed),
// token F1 with multiplicity, the best over the answers.
double qa_f1(const std::string& prediction, const std::vector<std::string>& answers);

// The paper's LLaMA template for longbook_qa_eng ({context}, {question}).
inline constexpr const char* kBookQaTemplate =
    "<|im_start|>Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\nAnswer:";

// A longbook_qa_eng row: {"id", "context", "input" (the question), "answer" (a string or a list)}.
struct BookQaRow {
  std::string id;  // the id as JSON text (a number or a string), as results record it
  std::string context, question;
  std::vector<std::string> answers;
};
// The rows of a JSONL file, blank lines skipped. Throws Error "PATH:LINE: expected ..., found ...".
std::vector<BookQaRow> read_bookqa_rows(const std::string& path);

// A results file of `bookqa` (RUN/bookqa.jsonl, one {"id", "recall", "f1", ...} per line): the ids
// done (as JSON text) and the sums of the scores. Throws Error "PATH:LINE: ..." for a bad line.
struct BookQaResults {
  std::set<std::string> ids;
  uint64_t rows = 0;
  double recall = 0, f1 = 0;
};
BookQaResults read_bookqa_results(const std::string& path);

// Middle truncation in token space, as the paper's eval code: the first max/2 and the last max/2.
std::vector<uint32_t> truncate_middle(const std::vector<uint32_t>& ids, uint64_t max_length);

}  // namespace longctx::eval
