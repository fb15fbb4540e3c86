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

// Appends "[1,2,3]" (no newline).
inline void append_ids_json(std::string& out, std::span<const uint32_t> ids) {
  const size_t old = out.size();
  out.resize(old + 2 + ids.size() * 11);  // "[", "]", and per id at most 10 digits and a comma
  char* p = out.data() + old;
  *p++ = '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) *p++ = ',';
    p = write_decimal(p, ids[i]);
  }
  *p++ = ']';
  out.resize(p - out.data());
}

}  // namespace longctx::text
