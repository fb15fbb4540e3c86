// Replacing every occurrence of a string, for Replace normalizers and decoders and Metaspace.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace longctx::tokenizer {

// Replaces every non-overlapping occurrence of `from` in s (left to right) with `to`; tmp is
// scratch space, kept by callers on hot paths to avoid an allocation per call.
// One bit (bit 7) per byte of w that is zero. Exact, no false positives: (b & 0x7F) + 0x7F sets
// bit 7 iff the low bits are non-zero, and OR-ing b adds bit 7 of b itself; no sum carries
// across bytes.
inline uint64_t zero_bytes(uint64_t w) {
  constexpr uint64_t k7F = 0x7F7F7F7F7F7F7F7FULL;
  return ~(((w & k7F) + k7F) | w | k7F);
}

// The reference for replace_byte: the plain byte loop.
inline void replace_byte_reference(std::string& s, char from, std::string_view to, std::string& tmp) {
  tmp.clear();
  for (const char c : s) {
    if (c == from) tmp.append(to);
    else tmp += c;
  }
  s.swap(tmp);
}

// A one-byte `from` (SentencePiece's " " → "▁", on every byte of the text): the same result as
// the general loop below and as replace_byte_reference, 8 bytes at a time. Counting: each byte
// equal to `from` is a zero byte of w ^ from*0x01..01 (zero_bytes is exact). Writing: for every
// such byte in a group, the bytes before it are written by one 8-byte store of the group shifted
// down (only the bytes up to the match are kept: d advances by that many and the rest is
// overwritten next), then `to`; the rest of the group likewise. A store writes at most 8 bytes
// past d, and d never passes the final size, so 8 bytes of slack keep every store in bounds.
inline void replace_byte(std::string& s, char from, std::string_view to, std::string& tmp) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "byte k of a load is bits 8k..8k+7");
  const uint64_t pattern = 0x0101010101010101ULL * static_cast<uint8_t>(from);
  const char* src = s.data();
  const size_t n = s.size();
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    // Matches in the group: zero_bytes sets only bit 7 of a byte, so shifted to bit 0 every byte is
    // 0 or 1, and the multiply sums the eight bytes into the top one (at most 8: no carry). The
    // baseline x86-64 target has no popcnt instruction: __builtin_popcountll was a libgcc call.
    count += static_cast<size_t>(((zero_bytes(w ^ pattern) >> 7) * 0x0101010101010101ULL) >> 56);
  }
  for (; i < n; ++i) count += src[i] == from;
  if (count == 0) return;
  const size_t size = n + count * to.size() - count;
  tmp.resize(size + 8);
  char* d = tmp.data();
  auto put_to = [&] {
    for (const char t : to) *d++ = t;  // a few bytes: a libc memcpy call would cost more
  };
  for (i = 0; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    uint64_t z = zero_bytes(w ^ pattern);
    unsigned done = 0;  // bytes of this group written
    while (z) {
      const unsigned at = static_cast<unsigned>(__builtin_ctzll(z)) / 8;
      const uint64_t rest = w >> (8 * done);  // done <= at <= 7: shift < 64
      std::memcpy(d, &rest, 8);
      d += at - done;
      put_to();
      done = at + 1;
      z &= z - 1;
    }
    if (done < 8) {
      const uint64_t rest = w >> (8 * done);
      std::memcpy(d, &rest, 8);
      d += 8 - done;
    }
  }
  for (; i < n; ++i) {
    if (src[i] == from) put_to();
    else *d++ = src[i];
  }
  tmp.resize(size);
  s.swap(tmp);
}

inline void replace_all(std::string& s, std::string_view from, std::string_view to, std::string& tmp) {
  if (from.size() == 1) {
    replace_byte(s, from[0], to, tmp);
    return;
  }
  if (from.empty() || s.find(from) == std::string::npos) return;
  tmp.clear();
  size_t pos = 0;
  while (true) {
    const size_t k = s.find(from, pos);
    if (k == std::string::npos) break;
    tmp.append(s, pos, k - pos);
    tmp.append(to);
    pos = k + from.size();
  }
  tmp.append(s, pos);
  s.swap(tmp);
}

}  // namespace longctx::tokenizer
