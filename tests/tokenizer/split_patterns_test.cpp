// Pre-tokenizer scanners against pieces Hugging Face tokenizers 0.23 produced for the same
// strings (PreTokenizer.preTokenizeString through the Node binding; see tests/oracle/hf.mjs).
#include "tokenizer/split_patterns.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace longctx::tokenizer {
namespace {

std::vector<std::string> pieces(SplitPattern p, const std::string& s) {
  std::vector<Span> spans;
  split_pieces(p, s, 0, static_cast<uint32_t>(s.size()), spans);
  std::vector<std::string> out;
  for (const Span& sp : spans) out.push_back(s.substr(sp.begin, sp.end - sp.begin));
  return out;
}

using V = std::vector<std::string>;

TEST(SplitPatterns, Llama3MatchesHuggingFace) {
  const auto p = SplitPattern::kLlama3;
  EXPECT_EQ(pieces(p, "Hello world!"), (V{"Hello", " world", "!"}));
  EXPECT_EQ(pieces(p, "I'M you're 'S"), (V{"I", "'M", " you", "'re", " '", "S"}));
  EXPECT_EQ(pieces(p, "  two spaces"), (V{" ", " two", " spaces"}));
  EXPECT_EQ(pieces(p, "a\n\n  b"), (V{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(pieces(p, "x   \n"), (V{"x", "   \n"}));
  EXPECT_EQ(pieces(p, "1234567 89"), (V{"123", "456", "7", " ", "89"}));
  EXPECT_EQ(pieces(p, "  !!\n\nz"), (V{" ", " !!\n\n", "z"}));
  EXPECT_EQ(pieces(p, "tab\tx\ty"), (V{"tab", "\tx", "\ty"}));
  EXPECT_EQ(pieces(p, "\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87 word's"), (V{"\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87", " word", "'s"}));
  EXPECT_EQ(pieces(p, "trailing  "), (V{"trailing", "  "}));
  // U+017F LATIN SMALL LETTER LONG S case-folds to 's'; the Kelvin sign is not in any contraction.
  EXPECT_EQ(pieces(p, "'\xC5\xBF and 'K"), (V{"'\xC5\xBF", " and", " '", "K"}));
}

TEST(SplitPatterns, Gpt2MatchesHuggingFace) {
  const auto p = SplitPattern::kGpt2;
  EXPECT_EQ(pieces(p, "Hello world!"), (V{"Hello", " world", "!"}));
  EXPECT_EQ(pieces(p, "I'M you're 'S"), (V{"I", "'", "M", " you", "'re", " '", "S"}));
  EXPECT_EQ(pieces(p, "a\n\n  b"), (V{"a", "\n\n ", " b"}));
  EXPECT_EQ(pieces(p, "1234567 89"), (V{"1234567", " 89"}));
  EXPECT_EQ(pieces(p, "  !!\n\nz"), (V{" ", " !!", "\n", "\n", "z"}));
  EXPECT_EQ(pieces(p, "tab\tx\ty"), (V{"tab", "\t", "x", "\t", "y"}));
  EXPECT_EQ(pieces(p, "'\xC5\xBF and 'K"), (V{"'", "\xC5\xBF", " and", " '", "K"}));
}

TEST(SplitPatterns, SingleDigitVariant) {
  EXPECT_EQ(pieces(SplitPattern::kLlama3SingleDigits, "2024 ab"), (V{"2", "0", "2", "4", " ab"}));
}

TEST(SplitPatterns, PiecesTileTheInput) {
  // Every byte belongs to exactly one piece, in order, for arbitrary (even invalid) UTF-8.
  std::string s;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s.push_back(static_cast<char>(x & 0xFF));
  }
  for (auto p : {SplitPattern::kLlama3, SplitPattern::kLlama3SingleDigits, SplitPattern::kGpt2}) {
    std::vector<Span> spans;
    split_pieces(p, s, 0, static_cast<uint32_t>(s.size()), spans);
    uint32_t at = 0;
    for (const Span& sp : spans) {
      ASSERT_EQ(sp.begin, at);
      ASSERT_GT(sp.end, sp.begin);
      at = sp.end;
    }
    EXPECT_EQ(at, s.size());
  }
}

TEST(SplitPatterns, RecognisesOnlyKnownRegexes) {
  EXPECT_EQ(recognise_split_pattern(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"),
            SplitPattern::kGpt2);
  EXPECT_FALSE(recognise_split_pattern(R"(\w+|\s+)").has_value());
}

}  // namespace
}  // namespace longctx::tokenizer
