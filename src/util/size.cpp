#include "longctx/util/size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "longctx/util/error.h"

namespace longctx {

uint64_t parse_size(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return Error(flag + ": expected a size like 131072, 128K (K = 1024), 1Mi (= 1024K), 500M (M = 10^6) or 5B (10^9), found \"" +
                 text + "\"");
  };
  if (text.empty()) throw bad();
  double mult = 1;
  std::string num = text;
  auto up = [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); };
  if (num.size() >= 2 && up(num.back()) == 'I') {  // binary: Ki, Mi, Gi, Ti
    switch (up(num[num.size() - 2])) {
      case 'K': mult = 1024.0; break;
      case 'M': mult = 1024.0 * 1024; break;
      case 'G': mult = 1024.0 * 1024 * 1024; break;
      case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
      default: throw bad();
    }
    num.resize(num.size() - 2);
  } else if (!num.empty() && std::isalpha(static_cast<unsigned char>(num.back()))) {
    switch (up(num.back())) {
      case 'K': mult = 1024; break;
      case 'M': mult = 1e6; break;
      case 'B': mult = 1e9; break;
      case 'T': mult = 1e12; break;
      default: throw bad();
    }
    num.pop_back();
  }
  if (num.empty() || !std::isdigit(static_cast<unsigned char>(num[0])) || !std::isdigit(static_cast<unsigned char>(num.back())))
    throw bad();
  for (const char c : num)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') throw bad();
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (*end || !std::isfinite(v) || v < 0) throw bad();
  const double r = v * mult;
  if (r != std::floor(r) || r > 9.2e18) throw bad();
  return static_cast<uint64_t>(r);
}

}  // namespace longctx
