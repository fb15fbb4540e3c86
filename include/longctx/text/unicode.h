// Unicode character classes as the pre-tokenizer regexes of Hugging Face tokenizers see them:
// \p{L} (general category L*), \p{N} (N*), \s (White_Space), Unicode 16.0 as in the Oniguruma of
// HF tokenizers 0.23. Tables are generated at build time by scripts/gen_unicode_tables.mjs.
#pragma once

#include <cstdint>

namespace longctx::text {

enum CharClass : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4 };

namespace detail {
extern const uint8_t kStage1[0x110000 / 256];
extern const uint8_t kStage2[];  // block 0 (U+0000..U+00FF) comes first
}  // namespace detail

// Class bits of a code point (0 for punctuation, symbols, marks, controls, unassigned).
inline uint8_t char_class(uint32_t cp) {
  if (cp < 256) return detail::kStage2[cp];
  if (cp >= 0x110000) return 0;
  return detail::kStage2[detail::kStage1[cp >> 8] * 256 + (cp & 255)];
}

}  // namespace longctx::text
