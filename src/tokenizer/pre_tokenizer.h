// Pre-tokenizers of tokenizer.json, run as Hugging Face tokenizers 0.23 runs them: a list of steps
// (a Sequence is flattened), each splitting every current piece on its own (a regex sees only its
// piece) and dropping empty pieces, or rewriting pieces in place (Metaspace, ByteLevel's prefix
// space). This is the general path; encoder.cpp keeps faster equivalents for the common shapes
// (a hand-written scanner, a lone Metaspace, no pre-tokenizer) and uses this for the rest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regex.h"
#include "split_patterns.h"

namespace longctx::tokenizer {

// SentencePiece's word-boundary character, U+2581 "▁".
inline constexpr std::string_view kMetaspace = "\xE2\x96\x81";

// HF's SplitDelimiterBehavior: what happens to the delimiters (matches, or gaps when inverted).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct MetaspaceSpec {
  enum class Scheme { kAlways, kFirst, kNever };
  std::string replacement{kMetaspace};
  Scheme scheme = Scheme::kAlways;
  bool split = true;
};

struct PreTokenizerStep {
  enum class Kind {
    kSplit,            // regex / String pattern with a behaviour and invert
    kScanner,          // a hand-written scanner standing in for Isolated Split regexes
    kByteLevel,        // prefix space per piece, then the GPT-2 regex if use_regex
    kMetaspace,
    kDigits,           // char::is_numeric: Isolated (individual_digits) or Contiguous
    kPunctuation,      // ASCII or Unicode punctuation, with a behaviour
    kWhitespace,       // \w+|[^\w\s]+ (the regex crate's classes), whitespace removed
    kWhitespaceSplit,  // split on White_Space, removed
    kCharDelimiter,    // split on one character, removed
  };
  Kind kind;
  std::shared_ptr<const Regex> regex;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  SplitPattern scanner = SplitPattern::kGpt2;
  bool add_prefix_space = false, use_regex = false;  // ByteLevel
  MetaspaceSpec metaspace;
  uint32_t delimiter = 0;  // CharDelimiter: a code point
};

// What Metaspace does to a piece before it splits: spaces become the replacement, which is also
// prepended as the scheme says (`at_zero`: the piece starts at original offset 0). s is non-empty.
void apply_metaspace(const MetaspaceSpec& m, bool at_zero, std::string& s, std::string& tmp);
// ByteLevel's add_prefix_space: a space before a non-empty piece that does not start with one.
void add_prefix_space(std::string& s);

struct PiecesSpan {
  uint32_t begin, end;
  bool at_zero;  // starts at original offset 0 (Metaspace "first")
};

// Runs the steps over one normalized run of text. `at_zero`: the run starts the input. The pieces
// index into *text, which the run may rewrite. Scratch vectors are kept by the caller (per thread).
class PreTokenizerRun {
 public:
  void run(const std::vector<PreTokenizerStep>& steps, std::string& text, bool at_zero, std::vector<PiecesSpan>& out);

 private:
  void split(const PreTokenizerStep& step, const std::string& text, std::vector<PiecesSpan>& pieces);
  void rewrite(const PreTokenizerStep& step, std::string& text, std::vector<PiecesSpan>& pieces);

  std::vector<PiecesSpan> next_;
  std::vector<RegexPiece> matches_, marked_;
  std::vector<Span> spans_;
  std::string buf_, piece_, tmp_;
};

}  // namespace longctx::tokenizer
