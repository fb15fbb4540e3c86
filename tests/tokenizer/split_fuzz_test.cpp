// Differential fuzzing: each hand-written scanner (tokenizer/split_patterns.h) against the general
// Oniguruma path (tokenizer/regex.h) over the same regexes, on seeded Unicode-heavy inputs
// (split_reference.h). The general path is checked against HF itself by
// tests/oracle/check_split_patterns.py; bench/split_fuzz runs the same comparison at scale.
#include <gtest/gtest.h>

#include "longctx/text/utf8.h"
#include "split_reference.h"

namespace longctx::tokenizer {
namespace {

constexpr int kInputsPerPattern = 20000;  // 100,000 in all, well under a second

class SplitFuzz : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitFuzz, ScannerEqualsGeneralPath) {
  const split_reference::Named* named = split_reference::find(GetParam());
  ASSERT_NE(named, nullptr);
  split_reference::General general(named->regexes);
  split_reference::Generator gen(20240615);
  std::vector<Span> ours, ref;
  int mismatches = 0;
  for (int n = 0; n < kInputsPerPattern && mismatches < 5; ++n) {
    const std::string s = gen.next();
    // One input in four is cut to a character-aligned sub-range, as the encoder hands the scanner
    // the text between added tokens: the scanner must see nothing outside it.
    uint32_t begin = 0, end = static_cast<uint32_t>(s.size());
    if (n % 4 == 3 && end > 2) {
      for (uint32_t k = 0; k < 3 && begin < end; ++k) begin += text::utf8_len(static_cast<uint8_t>(s[begin]));
    }
    ours.clear();
    split_pieces(named->pattern, s, begin, end, ours);
    if (begin == 0) {
      general.pieces(s, ref);
    } else {
      // The general path over the sub-range alone, offsets moved back into s.
      general.pieces(std::string_view(s).substr(begin, end - begin), ref);
      for (Span& sp : ref) sp.begin += begin, sp.end += begin;
    }
    if (split_reference::first_difference(ours, ref) >= 0) {
      ++mismatches;
      ADD_FAILURE() << named->name << " input " << n << ": \"" << [&] {
        std::string e;
        text::json_escape_append(e, s);
        return e;
      }() << "\" [" << begin << ", " << end << ")\n  scanner " << split_reference::pieces_json(s, ours)
                    << "\n  general " << split_reference::pieces_json(s, ref);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPatterns, SplitFuzz,
                         ::testing::Values("llama3", "qwen2", "gpt2", "o200k", "deepseek-v3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace longctx::tokenizer
