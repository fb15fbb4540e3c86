// The general path for Split / Replace patterns: an Oniguruma regex compiled and iterated exactly
// as Hugging Face tokenizers 0.23 does it (the onig crate's Regex::new: default syntax, UTF-8, no
// options; its find_iter; HF's find_matches, which tiles the input with matches and the gaps
// between them).
//
// One difference from simply calling Debian's Oniguruma (6.9.8, Unicode 14): HF's Oniguruma has
// Unicode 16 tables, so before compiling, general-category properties (\p{L}, \p{Lu}, \P{N},
// \p{^M}, inside and outside brackets) and \d are rewritten into explicit code-point ranges from
// our Unicode 16 tables (src/text). \s (White_Space) is the same in both versions and is left
// alone. Other properties (scripts, \w, POSIX brackets) keep Oniguruma's own tables.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace longctx::tokenizer {

struct RegexPiece {
  uint32_t begin, end;  // byte offsets into the searched string
  bool match;           // a match (true) or a gap between matches (false)
};

class Regex {
 public:
  // Compiles `pattern` (HF's {"Regex": ...} text). Throws Error("cannot compile regex: <Oniguruma's
  // message>") when Oniguruma refuses it; callers prefix file and part.
  explicit Regex(std::string_view pattern);
  // A {"String": ...} pattern: HF escapes it and compiles it as a regex; here a literal.
  static Regex literal(std::string_view text);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // HF's find_matches over the piece s[begin, end) alone (the regex sees nothing outside it, as
  // HF gives each piece to the regex as its own string): appends matches and gaps, in order,
  // tiling [begin, end). An empty piece gives one empty gap, as in HF. Thread-safe.
  void find_matches(std::string_view s, uint32_t begin, uint32_t end, std::vector<RegexPiece>& out) const;

  // The pattern after the Unicode-16 rewrite, as handed to Oniguruma (for tests and messages).
  const std::string& compiled_pattern() const { return compiled_; }

 private:
  Regex() = default;
  struct Onig;
  std::unique_ptr<Onig> re_;
  std::string compiled_;
  std::string literal_;  // non-empty: a String pattern, matched without Oniguruma
  bool is_literal_ = false;
};

}  // namespace longctx::tokenizer
