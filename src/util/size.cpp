#include "longctx/util/size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "longctx/util/error.h"

namespace longctx {

uint64_t parse_size(const std::string& text, const std::string& flag) {
  auto bad = [&] { return Error(flag + ": expected a size like 5B, 500M, 128K or 131072, found \"" + text + "\""); };
  if (text.empty()) throw bad();
  double mult = 1;
  std::string num = text;
  switch (std::toupper(static_cast<unsigned char>(num.back()))) {
    case 'K': mult = 1024; break;
    case 'M': mult = 1e6; break;
    case 'B': mult = 1e9; break;
    case 'T': mult = 1e12; break;
    default: break;
  }
  if (mult != 1) num.pop_back();
  if (num.empty() || !(std::isdigit(static_cast<unsigned char>(num[0])))) throw bad();
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (*end || !std::isfinite(v) || v < 0) throw bad();
  const double r = v * mult;
  if (r != std::floor(r) || r > 9.2e18) throw bad();
  return static_cast<uint64_t>(r);
}

}  // namespace longctx
