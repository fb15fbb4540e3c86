// Token ids as JSON arrays, written straight into a buffer two digits at a time (ids are the bulk
// of tokenize's and pack's JSON output; std::to_chars plus per-character appends showed in
// profiles).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace longctx::text {

// Appends "[1,2,3]" (no newline).
inline void append_ids_json(std::string& out, std::span<const uint32_t> ids) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  const size_t old = out.size();
  out.resize(old + 2 + ids.size() * 11);  // "[", "]", and per id at most 10 digits and a comma
  char* p = out.data() + old;
  *p++ = '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) *p++ = ',';
    char buf[10];
    char* e = buf + sizeof buf;
    char* b = e;
    uint32_t v = ids[i];
    while (v >= 100) {
      b -= 2;
      std::memcpy(b, kPairs + (v % 100) * 2, 2);
      v /= 100;
    }
    if (v >= 10) {
      b -= 2;
      std::memcpy(b, kPairs + v * 2, 2);
    } else {
      *--b = static_cast<char>('0' + v);
    }
    std::memcpy(p, b, e - b);
    p += e - b;
  }
  *p++ = ']';
  out.resize(p - out.data());
}

}  // namespace longctx::text
