// Walking the lines of a JSON-lines file held in memory.
#pragma once
#include <cstddef>
#include <string_view>

namespace longctx {

// Calls f(line, line_no, unterminated) for every line of `text` that is not blank (1-based line
// numbers; `unterminated`: the last line has no newline, as when a writer was killed mid-line).
// f returns false to stop.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    const bool unterminated = nl == std::string_view::npos;
    const std::string_view line = text.substr(pos, unterminated ? std::string_view::npos : nl - pos);
    pos = unterminated ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!f(line, line_no, unterminated)) return;
  }
}

}  // namespace longctx
