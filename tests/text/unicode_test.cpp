// Spot checks of the generated class tables against the Unicode Character Database (values read
// from UnicodeData.txt / PropList.txt by hand). The full tables are checked end to end by the
// oracle tests, which encode every code point of planes 0-2 and compare with HF.
#include "longctx/text/unicode.h"

#include <gtest/gtest.h>

namespace longctx::text {
namespace {

constexpr uint8_t kRegexClasses = kLetter | kNumber | kSpace;

TEST(Unicode, Letters) {
  for (uint32_t cp : {0x61u, 0x5Au, 0xE9u, 0x4E2Du, 0x05D0u /*ALEF*/, 0x02B0u /*Lm*/, 0x01C5u /*Lt*/})
    EXPECT_EQ(char_class(cp) & kRegexClasses, kLetter) << std::hex << cp;
}

TEST(Unicode, Numbers) {
  for (uint32_t cp : {0x30u, 0x39u, 0x0663u /*ARABIC-INDIC 3*/, 0x216Bu /*ROMAN XII, Nl*/, 0xBDu /*1/2, No*/})
    EXPECT_EQ(char_class(cp) & kRegexClasses, kNumber) << std::hex << cp;
}

TEST(Unicode, WhiteSpace) {
  for (uint32_t cp : {0x20u, 0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x2028u, 0x202Fu, 0x3000u})
    EXPECT_EQ(char_class(cp) & kRegexClasses, kSpace) << std::hex << cp;
}

TEST(Unicode, Neither) {
  // ZERO WIDTH SPACE and BOM are format characters, not White_Space; marks, symbols,
  // punctuation, controls, unassigned and out-of-range values have no class.
  for (uint32_t cp : {0x200Bu, 0xFEFFu, 0x0301u, 0x1F600u, 0x21u, 0x5Fu, 0x1Cu, 0x0378u, 0x110000u})
    EXPECT_EQ(char_class(cp) & kRegexClasses, 0) << std::hex << cp;
}

TEST(Unicode, Alphabetic) {
  // Letters, letter numbers and Other_Alphabetic marks and symbols (circled letters are So).
  for (uint32_t cp : {0x61u, 0x4E2Du, 0x216Bu /*Nl*/, 0x0345u /*Mn, Other_Alphabetic*/, 0x24B6u /*So*/})
    EXPECT_TRUE(char_class(cp) & kAlphabetic) << std::hex << cp;
  for (uint32_t cp : {0x30u, 0x0301u, 0x5Fu, 0x20u, 0xBDu})
    EXPECT_FALSE(char_class(cp) & kAlphabetic) << std::hex << cp;
}

TEST(Unicode, GeneralCategory) {
  // Values from UnicodeData.txt.
  EXPECT_EQ(general_category('A'), Gc::Lu);
  EXPECT_EQ(general_category('a'), Gc::Ll);
  EXPECT_EQ(general_category(0x01C5), Gc::Lt);
  EXPECT_EQ(general_category(0x02B0), Gc::Lm);
  EXPECT_EQ(general_category(0x4E2D), Gc::Lo);
  EXPECT_EQ(general_category(0x0301), Gc::Mn);
  EXPECT_EQ(general_category(0x0903), Gc::Mc);
  EXPECT_EQ(general_category(0x20DD), Gc::Me);
  EXPECT_EQ(general_category('7'), Gc::Nd);
  EXPECT_EQ(general_category(0x216B), Gc::Nl);
  EXPECT_EQ(general_category(0xBD), Gc::No);
  EXPECT_EQ(general_category('_'), Gc::Pc);
  EXPECT_EQ(general_category('-'), Gc::Pd);
  EXPECT_EQ(general_category('('), Gc::Ps);
  EXPECT_EQ(general_category(')'), Gc::Pe);
  EXPECT_EQ(general_category(0xAB), Gc::Pi);
  EXPECT_EQ(general_category(0xBB), Gc::Pf);
  EXPECT_EQ(general_category('!'), Gc::Po);
  EXPECT_EQ(general_category('+'), Gc::Sm);
  EXPECT_EQ(general_category('$'), Gc::Sc);
  EXPECT_EQ(general_category('^'), Gc::Sk);
  EXPECT_EQ(general_category(0x1F600), Gc::So);
  EXPECT_EQ(general_category(' '), Gc::Zs);
  EXPECT_EQ(general_category(0x2028), Gc::Zl);
  EXPECT_EQ(general_category(0x2029), Gc::Zp);
  EXPECT_EQ(general_category('\n'), Gc::Cc);
  EXPECT_EQ(general_category(0x200B), Gc::Cf);
  EXPECT_EQ(general_category(0xD800), Gc::Cs);
  EXPECT_EQ(general_category(0xE000), Gc::Co);
  EXPECT_EQ(general_category(0x0378), Gc::Cn);
  // New in Unicode 16.0: GARAY CAPITAL LETTER A (Lu), and a Garay digit (Nd).
  EXPECT_EQ(general_category(0x10D50), Gc::Lu);
  EXPECT_EQ(general_category(0x10D40), Gc::Nd);
  EXPECT_EQ(general_category(0x110000), Gc::Cn);
}

}  // namespace
}  // namespace longctx::text
