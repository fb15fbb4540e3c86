#include "byte_level.h"

#include <array>

#include "longctx/text/utf8.h"

namespace longctx::tokenizer {
namespace {

struct Maps {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 324> to_byte{};  // characters used are < U+0144
  Maps() {
    to_byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? b : 256 + extra++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

const Maps& maps() {
  static const Maps m;
  return m;
}

}  // namespace

std::string byte_level_to_bytes(std::string_view token, bool* exact) {
  const Maps& m = maps();
  std::string out;
  out.reserve(token.size());
  if (exact) *exact = true;
  const char* p = token.data();
  const char* end = p + token.size();
  while (p < end) {
    int len;
    const uint32_t cp = text::utf8_decode(p, end, &len);
    const int b = cp < m.to_byte.size() ? m.to_byte[cp] : -1;
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(p, len);
      if (exact) *exact = false;
    }
    p += len;
  }
  return out;
}

}  // namespace longctx::tokenizer
