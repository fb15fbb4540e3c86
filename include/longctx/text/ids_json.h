// Token ids as JSON arrays, written straight into a buffer two digits at a time (ids are the bulk
// of tokenize's and pack's JSON output; std::to_chars plus per-character appends showed in
// profiles).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace longctx::text {

// Number of decimal digits of v (1 to 10).
inline int decimal_digits(uint32_t v) {
  if (v < 100000) {
    if (v < 100) return v < 10 ? 1 : 2;
    if (v < 10000) return v < 1000 ? 3 : 4;
    return 5;
  }
  if (v < 10000000) return v < 1000000 ? 6 : 7;
  if (v < 1000000000) return v < 100000000 ? 8 : 9;
  return 10;
}

// Writes v in decimal at p, returns the end. The length is known first, so the digits go straight
// to their places (two at a time): no scratch buffer and no variable-length copy, which was a libc
// memcpy call per id.
inline char* write_decimal(char* p, uint32_t v) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char* const end = p + decimal_digits(v);
  char* b = end;
  while (v >= 100) {
    b -= 2;
    std::memcpy(b, kPairs + (v % 100) * 2, 2);
    v /= 100;
  }
  if (v >= 10) {
    std::memcpy(b - 2, kPairs + v * 2, 2);
  } else {
    b[-1] = static_cast<char>('0' + v);
  }
  return end;
}

namespace detail {

// "0000" to "9999" as the 4-byte words that hold those bytes in memory order (40 KB: stays in L2).
struct Digits4 {
  uint32_t w[10000];
  constexpr Digits4() : w() {
    for (uint32_t v = 0; v < 10000; ++v) {
      const uint32_t d[4] = {v / 1000, v / 100 % 10, v / 10 % 10, v % 10};
      w[v] = 0;
      for (int k = 0; k < 4; ++k) w[v] |= ('0' + d[k]) << (8 * k);  // little-endian: first byte lowest
    }
  }
};
inline constexpr Digits4 kDigits4{};
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "kDigits4 words are stored in memory order");

// v < 10000 without leading zeros: the word shifted right by the zeros' bytes, all 4 bytes
// stored (the caller leaves 4 bytes of room), the digits' count returned as the advance.
[[gnu::always_inline]] inline char* put_upto4(char* p, uint32_t v) {
  const int d = v < 100 ? (v < 10 ? 1 : 2) : (v < 1000 ? 3 : 4);
  const uint32_t w = kDigits4.w[v] >> (8 * (4 - d));
  std::memcpy(p, &w, 4);
  return p + d;
}

}  // namespace detail

// Writes each id followed by ',' at p and returns the end. Ids below 10^8 (every vocabulary's)
// are written as at most two table words, a division by 10^4 between them, instead of a division
// per two digits; each id's word may write up to 3 bytes past its digits, so the caller leaves 11
// bytes an id (the widest id and its comma) plus 4.
inline char* write_ids_scalar(char* p, const uint32_t* ids, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t v = ids[i];
    if (v < 10000) {
      p = detail::put_upto4(p, v);
    } else if (v < 100000000) {
      const uint32_t hi = v / 10000, lo = v - hi * 10000;
      p = detail::put_upto4(p, hi);
      std::memcpy(p, &detail::kDigits4.w[lo], 4);
      p += 4;
    } else {
      p = write_decimal(p, v);
    }
    *p++ = ',';
  }
  return p;
}

// The same with AVX-512 (VBMI2's byte compress), 16 ids a step, where text::avx512_text_kernels()
// (cpu.h) allows; the scalar writer otherwise. Writes up to 64 bytes past its output: room for 11
// bytes an id plus 64.
char* write_ids(char* p, const uint32_t* ids, size_t n);

// Appends "[1,2,3]" (no newline).
inline void append_ids_json(std::string& out, std::span<const uint32_t> ids) {
  const size_t old = out.size();
  out.resize(old + 2 + ids.size() * 11 + 64);
  char* p = out.data() + old;
  *p++ = '[';
  p = write_ids(p, ids.data(), ids.size());
  if (!ids.empty()) --p;  // the last comma
  *p++ = ']';
  out.resize(p - out.data());
}

}  // namespace longctx::text
