// The needle context builder and scorers, with the real LLaMA-2 tokenizer.
#include <gtest/gtest.h>

#include <algorithm>

#include "longctx/eval/needle.h"
#include "longctx/util/file.h"

namespace longctx::eval {
namespace {

std::string haystack() {
  std::string s;
  for (int i = 0; i < 400; ++i)
    s += "Call me Ishmael number " + std::to_string(i) + ". Some years ago, never mind how long precisely, I thought I would sail about a little. ";
  return s;
}

TEST(NeedleBuilder, ContextHasThePlannedTokensAndTheNeedleFollowsASentenceEnd) {
  const auto tok = tokenizer::Tokenizer::load(LONGCTX_SOURCE_DIR "/data/tokenizers/llama2/tokenizer.json");
  NeedleSpec spec;
  const NeedleBuilder b(*tok, haystack(), spec);
  const auto& needle = b.needle_ids();
  ASSERT_FALSE(needle.empty());
  // The needle as a continuation of a sentence: after a ".", it reads ". The best thing ...".
  auto dot_needle = tok->encode(".", {false, false});
  dot_needle.insert(dot_needle.end(), needle.begin(), needle.end());
  EXPECT_EQ(tok->decode(dot_needle), ". " + std::string(kPaperNeedle));
  for (const uint64_t L : {1000, 5000, 12345})
    for (const double d : {0.0, 10.0, 33.0, 50.0, 99.0, 100.0}) {
      const auto p = b.build(L, d);
      SCOPED_TRACE("length " + std::to_string(L) + " depth " + std::to_string(d));
      EXPECT_EQ(p.context_tokens, L - kPromptReserve);  // L - 200 - |needle| haystack tokens + the needle
      ASSERT_LE(p.needle_token_index + needle.size(), p.prompt.size());
      EXPECT_TRUE(std::equal(needle.begin(), needle.end(), p.prompt.begin() + static_cast<long>(p.needle_token_index)));
      const auto prefix = tok->encode("<|im_start|> This is a very long story book: <book> ", {true, false});
      const uint64_t context_start = prefix.size();
      EXPECT_EQ(std::vector<uint32_t>(p.prompt.begin(), p.prompt.begin() + static_cast<long>(context_start)), prefix);
      if (d == 0) {
        EXPECT_EQ(p.needle_token_index, context_start);  // first
      } else if (d == 100) {
        EXPECT_EQ(p.needle_token_index + needle.size(), context_start + p.context_tokens);  // last
      } else {
        // Right after a sentence end, and at or before the planned depth.
        const auto prev = tok->id_to_token(p.prompt[p.needle_token_index - 1]);
        ASSERT_TRUE(prev.has_value());
        EXPECT_EQ(prev->back(), '.');
        const uint64_t hay = p.context_tokens - needle.size();
        EXPECT_LE(p.needle_token_index - context_start, static_cast<uint64_t>(hay * d / 100));
      }
      // The prompt ends with the question part, spliced as a continuation.
      const std::string tail = tok->decode(std::vector<uint32_t>(p.prompt.end() - 12, p.prompt.end()));
      EXPECT_NE(tail.find("San Francisco?\nAnswer:"), std::string::npos) << tail;
    }
}

TEST(NeedleScores, HandComputed) {
  const auto perfect = score_needle("eat a sandwich and sit in Dolores Park on a sunny day.", kPaperAnswer);
  EXPECT_DOUBLE_EQ(perfect.paper_recall, 11.0 / 12.0);  // the paper's ceiling: "a" repeats
  EXPECT_DOUBLE_EQ(perfect.recall, 1.0);
  EXPECT_DOUBLE_EQ(perfect.rouge1_f, 1.0);
  EXPECT_EQ(perfect.substring, 1);
  const auto part = score_needle("You should eat a sandwich", kPaperAnswer);
  EXPECT_DOUBLE_EQ(part.paper_recall, 3.0 / 12.0);  // eat, a, sandwich
  EXPECT_DOUBLE_EQ(part.recall, 3.0 / 11.0);
  // ROUGE-1: 3 of the prediction's 5 words are in the 12-word reference: P = 3/5, R = 3/12.
  EXPECT_NEAR(part.rouge1_f, 2 * (3.0 / 5) * (3.0 / 12) / (3.0 / 5 + 3.0 / 12), 1e-12);
  EXPECT_EQ(part.substring, 0);
  const auto none = score_needle("I do not know.", kPaperAnswer);
  EXPECT_EQ(none.paper_recall, 0);
  EXPECT_EQ(none.rouge1_f, 0);
  // Case and the answer's trailing period: "day." counts only with its period (the paper's split).
  const auto caps = score_needle("EAT A SANDWICH AND SIT IN DOLORES PARK ON A SUNNY DAY", kPaperAnswer);
  EXPECT_DOUBLE_EQ(caps.paper_recall, 10.0 / 12.0);
  EXPECT_EQ(caps.substring, 1);
}

TEST(Ruler, SeveralNeedlesTargetsTogetherDistractorsAfterSentenceEnds) {
  const auto tok = tokenizer::Tokenizer::load(LONGCTX_SOURCE_DIR "/data/tokenizers/llama2/tokenizer.json");
  const NeedleBuilder b(*tok, haystack(), NeedleSpec{});
  const RulerTrial t = make_ruler_trial({5, 2, 2, 7}, 3000, 40);
  ASSERT_EQ(t.needles.size(), 2u * 2 + 3);  // 2 asked keys x 2 values, 3 distractor keys
  ASSERT_EQ(t.targets, 4);
  ASSERT_EQ(t.answers.size(), 4u);
  EXPECT_NE(t.question.find("What are all the special magic numbers for"), std::string::npos);
  const auto again = make_ruler_trial({5, 2, 2, 7}, 3000, 40);
  EXPECT_EQ(again.needles, t.needles);  // seeded
  const auto p = b.build_multi(3000, 40, t, {5, 70, 95});
  EXPECT_EQ(p.context_tokens, 3000 - kPromptReserve);
  const std::string text = tok->decode(p.prompt);
  for (const auto& n : t.needles) EXPECT_NE(text.find(n), std::string::npos) << n;
  // The asked needles come together, in order, at needle_token_index, after a sentence end.
  const std::string from_target = tok->decode(std::vector<uint32_t>(p.prompt.begin() + static_cast<long>(p.needle_token_index), p.prompt.end()));
  std::string together;
  for (int i = 0; i < t.targets; ++i) together += (i ? " " : "") + t.needles[i];
  EXPECT_EQ(from_target.rfind(together, 0), 0u) << from_target.substr(0, 200);
  EXPECT_EQ(tok->id_to_token(p.prompt[p.needle_token_index - 1])->back(), '.');
  EXPECT_NE(text.find(t.question), std::string::npos);
}

TEST(Ruler, StringMatch) {
  EXPECT_DOUBLE_EQ(string_match_all("The numbers are 1234567 and 7654321.", {"1234567", "7654321", "1111111"}), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(string_match_part("The numbers are 1234567 and 7654321.", {"1234567", "1111111"}), 1.0);
  EXPECT_DOUBLE_EQ(string_match_part("none", {"1234567"}), 0.0);
  EXPECT_DOUBLE_EQ(string_match_all("ABC", {"abc"}), 1.0);  // case-insensitive, as RULER
}

TEST(BookQa, ScoresHandComputed) {
  // The paper's recall: distinct lower-cased answer words found among the prediction's words.
  // Words are split at spaces only: "ishmael," and "sailor." do not match, "the" does.
  EXPECT_DOUBLE_EQ(bookqa_recall("He was called Ishmael, the sailor.", "Ishmael the sailor"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(bookqa_recall("ishmael the sailor", "Ishmael the Sailor"), 1.0);
  EXPECT_DOUBLE_EQ(bookqa_recall("", "Ishmael"), 0.0);
  // InfiniteBench's F1: punctuation and articles gone; "the white whale" vs "A white whale!" -> [white, whale] both.
  EXPECT_DOUBLE_EQ(qa_f1("A white whale!", {"the white whale"}), 1.0);
  // pred [captain, ahab, hunts, whale], truth [ahab]: P = 1/4, R = 1 -> F1 = 0.4; the best answer counts.
  EXPECT_DOUBLE_EQ(qa_f1("Captain Ahab hunts the whale", {"Ishmael", "Ahab"}), 0.4);
  EXPECT_DOUBLE_EQ(qa_f1("nothing", {"Ahab"}), 0.0);
}

TEST(BookQa, MiddleTruncation) {
  std::vector<uint32_t> ids(10);
  for (uint32_t i = 0; i < 10; ++i) ids[i] = i;
  EXPECT_EQ(truncate_middle(ids, 4), (std::vector<uint32_t>{0, 1, 8, 9}));
  EXPECT_EQ(truncate_middle(ids, 10), ids);
  EXPECT_EQ(truncate_middle(ids, 5).size(), 4u);  // the paper's max // 2 on each side
}

TEST(NeedleGrid, PaperDefaults) {
  const auto L = paper_lengths();
  ASSERT_EQ(L.size(), 40u);
  EXPECT_EQ(L.front(), 1000u);
  EXPECT_EQ(L[1], 4256u);  // 1000 + 127000/39 = 4256.41
  EXPECT_EQ(L.back(), 128000u);
  const auto d = linear_depths(10);
  EXPECT_EQ(d, (std::vector<double>{0, 11, 22, 33, 44, 56, 67, 78, 89, 100}));
  const auto s = sigmoid_depths(10);
  EXPECT_EQ(s.front(), 0);
  EXPECT_EQ(s.back(), 100);
  EXPECT_LT(s[1], 11);  // denser near the ends than linear
}

}  // namespace
}  // namespace longctx::eval
