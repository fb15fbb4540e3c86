// Spot checks of the generated class tables against the Unicode Character Database (values read
// from UnicodeData.txt / PropList.txt by hand). The full tables are checked end to end by the
// oracle tests, which encode every code point of planes 0-2 and compare with HF.
#include "longctx/text/unicode.h"

#include <gtest/gtest.h>

namespace longctx::text {
namespace {

TEST(Unicode, Letters) {
  for (uint32_t cp : {0x61u, 0x5Au, 0xE9u, 0x4E2Du, 0x05D0u /*ALEF*/, 0x02B0u /*Lm*/, 0x01C5u /*Lt*/})
    EXPECT_EQ(char_class(cp), kLetter) << std::hex << cp;
}

TEST(Unicode, Numbers) {
  for (uint32_t cp : {0x30u, 0x39u, 0x0663u /*ARABIC-INDIC 3*/, 0x216Bu /*ROMAN XII, Nl*/, 0xBDu /*1/2, No*/})
    EXPECT_EQ(char_class(cp), kNumber) << std::hex << cp;
}

TEST(Unicode, WhiteSpace) {
  for (uint32_t cp : {0x20u, 0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x2028u, 0x202Fu, 0x3000u})
    EXPECT_EQ(char_class(cp), kSpace) << std::hex << cp;
}

TEST(Unicode, Neither) {
  // ZERO WIDTH SPACE and BOM are format characters, not White_Space; marks, symbols,
  // punctuation, controls, unassigned and out-of-range values have no class.
  for (uint32_t cp : {0x200Bu, 0xFEFFu, 0x0301u, 0x1F600u, 0x21u, 0x5Fu, 0x1Cu, 0x0378u, 0x110000u})
    EXPECT_EQ(char_class(cp), 0) << std::hex << cp;
}

}  // namespace
}  // namespace longctx::text
