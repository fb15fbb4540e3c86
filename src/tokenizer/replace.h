// Replacing every occurrence of a string, for Replace normalizers and decoders and Metaspace.
#pragma once

#include <string>
#include <string_view>

namespace longctx::tokenizer {

// Replaces every non-overlapping occurrence of `from` in s (left to right) with `to`; tmp is
// scratch space, kept by callers on hot paths to avoid an allocation per call.
inline void replace_all(std::string& s, std::string_view from, std::string_view to, std::string& tmp) {
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
