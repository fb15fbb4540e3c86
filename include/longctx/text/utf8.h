// UTF-8 helpers that work on bytes. Inputs reaching the tokenizer are valid UTF-8 (JSON strings
// are); decode functions still never read past `end`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace longctx::text {

// Length of the UTF-8 sequence a lead byte starts (1 for ASCII and for stray continuation bytes).
inline int utf8_len(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point at p (valid UTF-8 assumed, truncated sequences clamped to end); sets *len.
inline uint32_t utf8_decode(const char* p, const char* end, int* len) {
  const auto b0 = static_cast<uint8_t>(p[0]);
  int n = utf8_len(b0);
  if (n > end - p) n = static_cast<int>(end - p);
  *len = n;
  switch (n) {
    case 1: return b0;
    case 2: return ((b0 & 0x1Fu) << 6) | (static_cast<uint8_t>(p[1]) & 0x3Fu);
    case 3:
      return ((b0 & 0x0Fu) << 12) | ((static_cast<uint8_t>(p[1]) & 0x3Fu) << 6) |
             (static_cast<uint8_t>(p[2]) & 0x3Fu);
    default:
      return ((b0 & 0x07u) << 18) | ((static_cast<uint8_t>(p[1]) & 0x3Fu) << 12) |
             ((static_cast<uint8_t>(p[2]) & 0x3Fu) << 6) | (static_cast<uint8_t>(p[3]) & 0x3Fu);
  }
}

void utf8_append(std::string& out, uint32_t cp);

// Byte offset of the last code point's start in s (0 for empty s).
size_t utf8_last_char_start(std::string_view s);

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD
// (Unicode's "substitution of maximal subparts"), which is what Hugging Face's decoders produce.
std::string utf8_lossy(std::string_view bytes);

// Appends s to out as the body of a JSON string (quotes not included), escaping what JSON requires.
void json_escape_append(std::string& out, std::string_view s);

}  // namespace longctx::text
