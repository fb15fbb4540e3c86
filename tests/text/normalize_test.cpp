// Hand cases for text/normalize.h, from UAX #15 and checked against HF tokenizers 0.23 (the full
// comparison is tests/oracle/check_normalize.py).
#include "longctx/text/normalize.h"

#include <gtest/gtest.h>

#include <string>

#include "longctx/text/utf8.h"

namespace longctx::text {
namespace {

std::string u(std::initializer_list<uint32_t> cps) {
  std::string s;
  for (uint32_t c : cps) utf8_append(s, c);
  return s;
}

std::string norm(NormalForm f, const std::string& s) {
  std::string out;
  normalize(f, s, out);
  EXPECT_EQ(is_normalized(f, s), out == s) << s;
  return out;
}

std::string lower(const std::string& s) {
  std::string out;
  lowercase(s, out);
  return out;
}

constexpr auto NFC = NormalForm::kNFC, NFD = NormalForm::kNFD, NFKC = NormalForm::kNFKC, NFKD = NormalForm::kNFKD;

TEST(Normalize, CanonicalOrderingAndComposition) {
  const auto s = u({0x1E0A, 0x0323});  // D with dot above, dot below
  EXPECT_EQ(norm(NFC, s), u({0x1E0C, 0x0307}));
  EXPECT_EQ(norm(NFD, s), u({0x44, 0x0323, 0x0307}));
  EXPECT_EQ(norm(NFC, u({0x44, 0x0307, 0x0323})), u({0x1E0C, 0x0307}));
  EXPECT_EQ(norm(NFC, u({0x61, 0x0301})), u({0xE1}));
  EXPECT_EQ(norm(NFD, u({0xE1})), u({0x61, 0x0301}));
  EXPECT_EQ(norm(NFC, u({0x0344})), u({0x0308, 0x0301}));  // non-starter decomposition
  EXPECT_EQ(norm(NFC, u({0x0958})), u({0x0915, 0x093C}));  // composition exclusion
  EXPECT_EQ(norm(NFC, u({0x09C7, 0x09BE})), u({0x09CB}));  // two starters compose
  EXPECT_EQ(norm(NFC, u({0x0995, 0x09BE})), u({0x0995, 0x09BE}));
}

TEST(Normalize, Singletons) {
  for (auto f : {NFC, NFKC}) {
    EXPECT_EQ(norm(f, u({0x212B})), u({0xC5}));  // ANGSTROM SIGN
    EXPECT_EQ(norm(f, u({0x2126})), u({0x03A9}));  // OHM SIGN
  }
  EXPECT_EQ(norm(NFD, u({0x212B})), u({0x41, 0x030A}));
}

TEST(Normalize, Hangul) {
  EXPECT_EQ(norm(NFC, u({0x1100, 0x1161, 0x11A8})), u({0xAC01}));
  EXPECT_EQ(norm(NFC, u({0xAC00, 0x11A8})), u({0xAC01}));
  EXPECT_EQ(norm(NFC, u({0x1100, 0x1161, 0x11A7})), u({0xAC00, 0x11A7}));  // T_BASE is not a trailing consonant
  EXPECT_EQ(norm(NFD, u({0xAC01})), u({0x1100, 0x1161, 0x11A8}));
  EXPECT_EQ(norm(NFKD, u({0x320E})), u({0x28, 0x1100, 0x1161, 0x29}));
  EXPECT_EQ(norm(NFKC, u({0x320E})), u({0x28, 0xAC00, 0x29}));
}

TEST(Normalize, Compatibility) {
  EXPECT_EQ(norm(NFKC, u({0xFB01})), "fi");
  EXPECT_EQ(norm(NFC, u({0xFB01})), u({0xFB01}));
  EXPECT_EQ(norm(NFKC, u({0xBD})), u({0x31, 0x2044, 0x32}));
  EXPECT_EQ(norm(NFKC, u({0xFF76, 0xFF9E})), u({0x30AC}));  // half-width katakana + voiced mark
  EXPECT_EQ(norm(NFKD, u({0xFF76, 0xFF9E})), u({0x30AB, 0x3099}));
  const auto s = u({0x1E9B, 0x0323});  // UAX #15's long s example
  EXPECT_EQ(norm(NFC, s), s);
  EXPECT_EQ(norm(NFD, s), u({0x017F, 0x0323, 0x0307}));
  EXPECT_EQ(norm(NFKC, s), u({0x1E69}));
  EXPECT_EQ(norm(NFKD, s), u({0x73, 0x0323, 0x0307}));
}

// The crate's tables are Unicode 9.0: later characters neither decompose nor reorder.
TEST(Normalize, NewerThanUnicode9Unchanged) {
  for (auto f : {NFC, NFD, NFKC, NFKD}) {
    EXPECT_EQ(norm(f, u({0x11938})), u({0x11938}));  // DIVES AKURU VOWEL SIGN O (13.0) = 11935 11930
    EXPECT_EQ(norm(f, u({0x11935, 0x11930})), u({0x11935, 0x11930}));
  }
  // U+1DF6 (10.0, combining class 232 since) has class 0 here, so it blocks reordering.
  EXPECT_EQ(norm(NFD, u({0x61, 0x0301, 0x1DF6, 0x0316})), u({0x61, 0x0301, 0x1DF6, 0x0316}));
  EXPECT_EQ(norm(NFC, u({0x61, 0x0301, 0x1DF6, 0x0316})), u({0xE1, 0x1DF6, 0x0316}));
}

TEST(Normalize, AsciiRunsAndSegments) {
  const std::string ascii(100, 'x');
  const std::string s = ascii + u({0x65, 0x0301}) + ascii + u({0x212B}) + "tail";
  EXPECT_EQ(norm(NFC, s), ascii + u({0xE9}) + ascii + u({0xC5}) + "tail");
  EXPECT_EQ(norm(NFD, s), ascii + u({0x65, 0x0301}) + ascii + u({0x41, 0x030A}) + "tail");
  EXPECT_TRUE(is_normalized(NFC, ascii + u({0xE9, 0x4E2D, 0xAC00})));
  EXPECT_FALSE(is_normalized(NFD, ascii + u({0xE9})));
  EXPECT_EQ(norm(NFC, ""), "");
  EXPECT_EQ(norm(NFC, u({0x0301, 0x61})), u({0x0301, 0x61}));  // leading non-starter
}

TEST(Lowercase, RustToLowercasePerCharacter) {
  EXPECT_EQ(lower("Hello, WORLD 123 @[`{"), "hello, world 123 @[`{");
  EXPECT_EQ(lower(u({0x0130})), u({0x69, 0x0307}));  // the one multi-character lowercase
  EXPECT_EQ(lower(u({0x03A3, 0x0391, 0x03A3})), u({0x03C3, 0x03B1, 0x03C3}));  // no final sigma
  EXPECT_EQ(lower(u({0x01C5})), u({0x01C6}));
  EXPECT_EQ(lower(u({0x1E9E})), u({0xDF}));
  EXPECT_EQ(lower(u({0x212A})), "k");
  EXPECT_EQ(lower(u({0xA7CE})), u({0xA7CF}));  // Unicode 17.0
  EXPECT_EQ(lower(u({0x10D50})), u({0x10D70}));  // Unicode 16.0
  EXPECT_EQ(lower(u({0x2C2F})), u({0x2C5F}));
}

}  // namespace
}  // namespace longctx::text
