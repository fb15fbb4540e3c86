#include "longctx/text/utf8.h"

#include <gtest/gtest.h>

namespace longctx::text {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

// Expected values follow Unicode's "substitution of maximal subparts" (Unicode 15, section 3.9,
// Table 3-8), which Rust's String::from_utf8_lossy implements.
TEST(Utf8Lossy, ValidTextIsUnchanged) {
  EXPECT_EQ(utf8_lossy("plain ASCII"), "plain ASCII");
  EXPECT_EQ(utf8_lossy("\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80"), "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
}

TEST(Utf8Lossy, MaximalSubpartsBecomeOneReplacementEach) {
  EXPECT_EQ(utf8_lossy("Hello\xF0\x90\x80World"), "Hello" + kFFFD + "World");  // Rust's doc example
  EXPECT_EQ(utf8_lossy("\xC0\x80"), kFFFD + kFFFD);                            // C0 never starts a sequence
  EXPECT_EQ(utf8_lossy("\xE0\x80\x80"), kFFFD + kFFFD + kFFFD);                // overlong: E0 needs A0..BF
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);                // surrogate
  EXPECT_EQ(utf8_lossy("\xF4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);    // above U+10FFFF
  EXPECT_EQ(utf8_lossy("a\xE2\x82"), "a" + kFFFD);                             // truncated at the end
  EXPECT_EQ(utf8_lossy("\xE2\x82z"), kFFFD + "z");
  EXPECT_EQ(utf8_lossy("\x80\xBF"), kFFFD + kFFFD);                            // lone continuations
}

TEST(Utf8, AppendAndDecodeRoundTrip) {
  for (uint32_t cp : {0x41u, 0xE9u, 0x7FFu, 0x800u, 0x4E2Du, 0xFFFDu, 0x10000u, 0x1F600u, 0x10FFFFu}) {
    std::string s;
    utf8_append(s, cp);
    int len;
    EXPECT_EQ(utf8_decode(s.data(), s.data() + s.size(), &len), cp);
    EXPECT_EQ(static_cast<size_t>(len), s.size());
  }
}

TEST(Utf8, JsonEscape) {
  std::string out;
  json_escape_append(out, std::string("a\"b\\c\n\t\x01\x7F\xC3\xA9", 11));
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\t\\u0001\x7F\xC3\xA9");
}

}  // namespace
}  // namespace longctx::text
