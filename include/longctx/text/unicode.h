// Unicode character properties as the pre-tokenizer regexes of Hugging Face tokenizers see them,
// Unicode 16.0 as in the Oniguruma of HF tokenizers 0.23. Tables are generated at build time by
// scripts/gen_unicode_tables.mjs.
#pragma once

#include <cstdint>

namespace longctx::text {

// \p{L} (general category L*), \p{N} (N*), \s (White_Space): what the hot scanners test; and the
// Alphabetic property (part of the regex crate's \w).
enum CharClass : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4, kAlphabetic = 8 };

// General categories; Cn (unassigned) is 0. The order is the generator's CATEGORIES list.
enum class Gc : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po, Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf,
  Cs, Co, kCount
};

namespace detail {
extern const uint8_t kStage1[0x110000 / 256];
extern const uint8_t kStage2[];  // block 0 (U+0000..U+00FF) comes first
extern const uint16_t kGc1[0x110000 / 256];
extern const uint8_t kGc2[];
}  // namespace detail

// Class bits of a code point (0 for punctuation, symbols, marks, controls, unassigned).
inline uint8_t char_class(uint32_t cp) {
  if (cp < 256) return detail::kStage2[cp];
  if (cp >= 0x110000) return 0;
  return detail::kStage2[detail::kStage1[cp >> 8] * 256 + (cp & 255)];
}

// The White_Space property: Rust's char::is_whitespace, Oniguruma's \s.
inline bool is_white_space(uint32_t cp) { return char_class(cp) & kSpace; }

inline Gc general_category(uint32_t cp) {
  if (cp >= 0x110000) return Gc::Cn;
  return static_cast<Gc>(detail::kGc2[detail::kGc1[cp >> 8] * 256u + (cp & 255)]);
}

// Bit masks over Gc values, for testing membership in a union of categories.
constexpr uint32_t gc_bit(Gc g) { return 1u << static_cast<unsigned>(g); }
inline constexpr uint32_t kGcLetter = gc_bit(Gc::Lu) | gc_bit(Gc::Ll) | gc_bit(Gc::Lt) | gc_bit(Gc::Lm) | gc_bit(Gc::Lo);
inline constexpr uint32_t kGcMark = gc_bit(Gc::Mn) | gc_bit(Gc::Mc) | gc_bit(Gc::Me);
inline constexpr uint32_t kGcNumber = gc_bit(Gc::Nd) | gc_bit(Gc::Nl) | gc_bit(Gc::No);
inline constexpr uint32_t kGcPunctuation = gc_bit(Gc::Pc) | gc_bit(Gc::Pd) | gc_bit(Gc::Ps) | gc_bit(Gc::Pe) |
                                           gc_bit(Gc::Pi) | gc_bit(Gc::Pf) | gc_bit(Gc::Po);
inline constexpr uint32_t kGcSymbol = gc_bit(Gc::Sm) | gc_bit(Gc::Sc) | gc_bit(Gc::Sk) | gc_bit(Gc::So);
inline constexpr uint32_t kGcSeparator = gc_bit(Gc::Zs) | gc_bit(Gc::Zl) | gc_bit(Gc::Zp);
inline constexpr uint32_t kGcOther = gc_bit(Gc::Cc) | gc_bit(Gc::Cf) | gc_bit(Gc::Cs) | gc_bit(Gc::Co) | gc_bit(Gc::Cn);

inline bool in_categories(uint32_t cp, uint32_t mask) { return (mask >> static_cast<unsigned>(general_category(cp))) & 1u; }

}  // namespace longctx::text
