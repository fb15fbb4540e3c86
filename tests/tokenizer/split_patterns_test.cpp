// Pre-tokenizer scanners against pieces Hugging Face tokenizers 0.23 produced for the same
// strings (PreTokenizer.preTokenizeString through the Node binding; see tests/oracle/hf_pretokenize.mjs).
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

TEST(SplitPatterns, O200kMatchesHuggingFace) {
  const auto p = SplitPattern::kO200k;
  // Words split on letter case: the greedy upper run [Lu Lt Lm Lo M]* gives back its last Lm/Lo/M
  // character when no Ll follows (" \u0301ABC": the mark is first the prefix, then the word).
  EXPECT_EQ(pieces(p, "HelloWorld McDONALD's ABCdef iPhone"),
            (V{"Hello", "World", " Mc", "DONALD's", " ABCdef", " i", "Phone"}));
  EXPECT_EQ(pieces(p, "I'M you'RE we'Ll THEY'VE it\xC5\xBF 'd"),
            (V{"I'M", " you'RE", " we'Ll", " THEY'VE", " it\xC5\xBF", " '", "d"}));
  EXPECT_EQ(pieces(p, "a/b\n/ x//\n\n/y"),
            (V{"a", "/b", "\n", "/", " x", "//\n\n/", "y"}));
  EXPECT_EQ(pieces(p, "1234567 89"),
            (V{"123", "456", "7", " ", "89"}));
  EXPECT_EQ(pieces(p, "  !!\n\nz"),
            (V{" ", " !!\n\n", "z"}));
  EXPECT_EQ(pieces(p, "x   \n\t y  "),
            (V{"x", "   \n", "\t", " y", "  "}));
  EXPECT_EQ(pieces(p, "cafe\xCC\x81 \xCC\x81" "abc \xCC\x81" "ABC !\xCC\x81" "A \xCC\x81's"),
            (V{"cafe\xCC\x81", " \xCC\x81" "abc", " \xCC\x81", "ABC", " !\xCC\x81", "A", " \xCC\x81's"}));
  EXPECT_EQ(pieces(p, "\xCA\xB0" "A\xCA\xB0" "a ABC\xE3\x80\x85" "def \xC7\x85ungla"),
            (V{"\xCA\xB0" "A\xCA\xB0" "a", " ABC\xE3\x80\x85" "def", " \xC7\x85ungla"}));
  EXPECT_EQ(pieces(p, "\xE4\xB8\xAD\xE6\x96\x87" "abc \xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A" "123\xE6\xBC\xA2\xE5\xAD\x97"),
            (V{"\xE4\xB8\xAD\xE6\x96\x87" "abc", " \xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A", "123", "\xE6\xBC\xA2\xE5\xAD\x97"}));
  EXPECT_EQ(pieces(p, "\xE3\x82\xAB\xE3\x83\xBB\xE3\x82\xAB \xE3\x82\x9B\xE3\x81\x82 9\xE4\xB8\xAD"),
            (V{"\xE3\x82\xAB", "\xE3\x83\xBB\xE3\x82\xAB", " \xE3\x82\x9B", "\xE3\x81\x82", " ", "9", "\xE4\xB8\xAD"}));
  EXPECT_EQ(pieces(p, "emoji \xF0\x9F\x98\x80\xF0\x9F\x98\x80 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xE2\x9D\xA4\xEF\xB8\x8F!"),
            (V{"emoji", " \xF0\x9F\x98\x80\xF0\x9F\x98\x80", " \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", " \xE2\x9D\xA4\xEF\xB8\x8F!"}));
  EXPECT_EQ(pieces(p, "a\xE2\x80\x8D" "b \x01x \xC2\xA0y\xE2\x80\xA8z\xC2\x85w"),
            (V{"a", "\xE2\x80\x8D" "b", " \x01", "x", " ", "\xC2\xA0y", "\xE2\x80\xA8z", "\xC2\x85w"}));
  EXPECT_EQ(pieces(p, "word  1 .Hello '\xC3\xA9"),
            (V{"word", " ", " ", "1", " .", "Hello", " '", "\xC3\xA9"}));
}

TEST(SplitPatterns, DeepSeekV3MatchesHuggingFace) {
  const auto p = SplitPattern::kDeepSeekV3;
  // Three Split passes: digits in threes, then CJK / kana runs (the range holds U+30FB, a Po, and
  // U+309B, a Sk), then the main regex on every piece alone, so white space before a digit or CJK
  // piece ends at that piece ("word  1"), and what it matches nowhere (ZWJ, U+0001 before a space)
  // stays a piece of its own.
  EXPECT_EQ(pieces(p, "HelloWorld McDONALD's ABCdef iPhone"),
            (V{"HelloWorld", " McDONALD", "'s", " ABCdef", " iPhone"}));
  EXPECT_EQ(pieces(p, "I'M you'RE we'Ll THEY'VE it\xC5\xBF 'd"),
            (V{"I", "'M", " you", "'RE", " we", "'Ll", " THEY", "'VE", " it\xC5\xBF", " '", "d"}));
  EXPECT_EQ(pieces(p, "a/b\n/ x//\n\n/y"),
            (V{"a", "/b", "\n", "/", " x", "//\n\n", "/y"}));
  EXPECT_EQ(pieces(p, "1234567 89"),
            (V{"123", "456", "7", " ", "89"}));
  EXPECT_EQ(pieces(p, "  !!\n\nz"),
            (V{" ", " !!\n\n", "z"}));
  EXPECT_EQ(pieces(p, "x   \n\t y  "),
            (V{"x", "   \n", "\t", " y", "  "}));
  EXPECT_EQ(pieces(p, "cafe\xCC\x81 \xCC\x81" "abc \xCC\x81" "ABC !\xCC\x81" "A \xCC\x81's"),
            (V{"cafe\xCC\x81", " \xCC\x81" "abc", " \xCC\x81" "ABC", " !", "\xCC\x81" "A", " \xCC\x81", "'s"}));
  EXPECT_EQ(pieces(p, "\xCA\xB0" "A\xCA\xB0" "a ABC\xE3\x80\x85" "def \xC7\x85ungla"),
            (V{"\xCA\xB0" "A\xCA\xB0" "a", " ABC\xE3\x80\x85" "def", " \xC7\x85ungla"}));
  EXPECT_EQ(pieces(p, "\xE4\xB8\xAD\xE6\x96\x87" "abc \xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A" "123\xE6\xBC\xA2\xE5\xAD\x97"),
            (V{"\xE4\xB8\xAD\xE6\x96\x87", "abc", " ", "\xE3\x81\xB2\xE3\x82\x89\xE3\x81\x8C\xE3\x81\xAA\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A", "123", "\xE6\xBC\xA2\xE5\xAD\x97"}));
  EXPECT_EQ(pieces(p, "\xE3\x82\xAB\xE3\x83\xBB\xE3\x82\xAB \xE3\x82\x9B\xE3\x81\x82 9\xE4\xB8\xAD"),
            (V{"\xE3\x82\xAB", "\xE3\x83\xBB", "\xE3\x82\xAB", " ", "\xE3\x82\x9B", "\xE3\x81\x82", " ", "9", "\xE4\xB8\xAD"}));
  EXPECT_EQ(pieces(p, "emoji \xF0\x9F\x98\x80\xF0\x9F\x98\x80 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xE2\x9D\xA4\xEF\xB8\x8F!"),
            (V{"emoji", " \xF0\x9F\x98\x80\xF0\x9F\x98\x80", " \xF0\x9F\x91\xA8", "\xE2\x80\x8D", "\xF0\x9F\x91\xA9", " \xE2\x9D\xA4", "\xEF\xB8\x8F", "!"}));
  EXPECT_EQ(pieces(p, "a\xE2\x80\x8D" "b \x01x \xC2\xA0y\xE2\x80\xA8z\xC2\x85w"),
            (V{"a", "\xE2\x80\x8D" "b", " ", "\x01x", " ", "\xC2\xA0y", "\xE2\x80\xA8z", "\xC2\x85w"}));
  EXPECT_EQ(pieces(p, "word  1 .Hello '\xC3\xA9"),
            (V{"word", "  ", "1", " .", "Hello", " '", "\xC3\xA9"}));
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
  for (auto p : {SplitPattern::kLlama3, SplitPattern::kLlama3SingleDigits, SplitPattern::kGpt2, SplitPattern::kO200k,
                 SplitPattern::kDeepSeekV3}) {
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
  // o200k as its tokenizer.json spells it (escapes), and with CR / LF as the characters themselves.
  const std::string o200k =
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
      R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
      R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  EXPECT_EQ(recognise_split_pattern(o200k), SplitPattern::kO200k);
  std::string literal_crlf = o200k;
  for (size_t k; (k = literal_crlf.find("\\r\\n")) != std::string::npos;) literal_crlf.replace(k, 4, "\r\n");
  EXPECT_EQ(recognise_split_pattern(literal_crlf), SplitPattern::kO200k);
  EXPECT_FALSE(recognise_split_pattern(o200k.substr(0, o200k.size() - 1)).has_value());
}

TEST(SplitPatterns, RecognisesTheDeepSeekV3Sequence) {
  // As in DeepSeek-V3's tokenizer.json (JSON-decoded): CJK ranges as UTF-8, CR / LF as characters.
  const std::vector<std::string> ds = {
      R"(\p{N}{1,3})", "[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+",
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
      "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"};
  EXPECT_EQ(recognise_split_sequence(ds), SplitPattern::kDeepSeekV3);
  auto reordered = ds;
  std::swap(reordered[0], reordered[1]);
  EXPECT_FALSE(recognise_split_sequence(reordered).has_value());
  EXPECT_FALSE(recognise_split_sequence({ds[0], ds[1]}).has_value());
  EXPECT_FALSE(recognise_split_sequence({ds[0], ds[1], ds[2], ds[2]}).has_value());
  // A one-regex sequence is that regex.
  EXPECT_EQ(recognise_split_sequence({R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"}),
            SplitPattern::kGpt2);
  EXPECT_FALSE(recognise_split_sequence({ds[0]}).has_value());
}

TEST(SplitPatterns, SubrangeSeesOnlyItsPiece) {
  // Offsets are relative to s; the scanner sees nothing outside [begin, end), as HF gives each
  // piece to the regex alone: the spaces before "x" end the piece, so they stay one piece.
  const std::string s = "ab  x";
  for (auto p : {SplitPattern::kO200k, SplitPattern::kDeepSeekV3}) {
    std::vector<Span> spans;
    split_pieces(p, s, 1, 4, spans);
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_EQ(spans[0].begin, 1u);
    EXPECT_EQ(spans[0].end, 2u);
    EXPECT_EQ(spans[1].begin, 2u);
    EXPECT_EQ(spans[1].end, 4u);
  }
}

}  // namespace
}  // namespace longctx::tokenizer
