#include "split_patterns.h"

#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"

namespace longctx::tokenizer {

using text::kLetter;
using text::kNumber;
using text::kSpace;

std::optional<SplitPattern> recognise_split_pattern(std::string_view regex) {
  static constexpr std::string_view kLlama3Regex =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kQwen2Regex =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  if (regex == kLlama3Regex) return SplitPattern::kLlama3;
  if (regex == kQwen2Regex) return SplitPattern::kLlama3SingleDigits;
  if (regex == kGpt2Regex) return SplitPattern::kGpt2;
  return std::nullopt;
}

namespace {

// A cursor over UTF-8 text that knows each character's class.
struct Scanner {
  const char* s;
  uint32_t end;

  // Class and byte length of the character at i (i < end).
  uint8_t cls(uint32_t i, int* len) const {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      *len = 1;
      return text::char_class(b);
    }
    return text::char_class(text::utf8_decode(s + i, s + end, len));
  }
  uint8_t cls_at(uint32_t i) const {
    int len;
    return cls(i, &len);
  }
  // End of the run, starting at i, of characters whose class has a bit of `want`.
  uint32_t run(uint32_t i, uint8_t want) const {
    while (i < end) {
      const auto b = static_cast<uint8_t>(s[i]);
      if (b < 0x80) {
        if (!(text::char_class(b) & want)) break;
        ++i;
        continue;
      }
      int len;
      if (!(cls(i, &len) & want)) break;
      i += len;
    }
    return i;
  }
  // End of the run, starting at i, of characters that are neither letter, number nor space.
  uint32_t run_other(uint32_t i) const {
    while (i < end) {
      int len;
      if (cls(i, &len) & (kLetter | kNumber | kSpace)) break;
      i += len;
    }
    return i;
  }
  bool is_other(uint32_t i) const { return i < end && !(cls_at(i) & (kLetter | kNumber | kSpace)); }
  bool is_letter(uint32_t i) const { return i < end && (cls_at(i) & kLetter); }
  bool is_number(uint32_t i) const { return i < end && (cls_at(i) & kNumber); }

  // Length (bytes after the apostrophe at i) of a contraction 's 't 're 've 'm 'll 'd, or 0.
  // Case-insensitive matching follows Unicode simple case folding, in which U+017F LATIN SMALL
  // LETTER LONG S folds to 's'.
  uint32_t contraction(uint32_t i, bool ignore_case) const {
    auto letter = [&](uint32_t k, char want, int* len) -> bool {
      *len = 1;
      if (k >= end) return false;
      const char c = s[k];
      if (c == want) return true;
      if (!ignore_case) return false;
      if (c == want - 'a' + 'A') return true;
      if (want == 's' && k + 1 < end && static_cast<uint8_t>(c) == 0xC5 && static_cast<uint8_t>(s[k + 1]) == 0xBF) {
        *len = 2;
        return true;
      }
      return false;
    };
    int l1, l2;
    const uint32_t j = i + 1;
    if (letter(j, 's', &l1) || letter(j, 't', &l1) || letter(j, 'm', &l1) || letter(j, 'd', &l1)) return l1;
    if (letter(j, 'r', &l1) && letter(j + l1, 'e', &l2)) return l1 + l2;
    if (letter(j, 'v', &l1) && letter(j + l1, 'e', &l2)) return l1 + l2;
    if (letter(j, 'l', &l1) && letter(j + l1, 'l', &l2)) return l1 + l2;
    return 0;
  }

  // Whitespace handling shared by all patterns at a whitespace character i:
  //   (newline_alt) \s*[\r\n]+  then  \s+(?!\S)  then  \s+
  uint32_t whitespace(uint32_t i, bool newline_alt) const {
    uint32_t last_char = i, last_newline_end = 0, j = i;
    while (j < end) {
      int len;
      if (!(cls(j, &len) & kSpace)) break;
      if (s[j] == '\r' || s[j] == '\n') last_newline_end = j + 1;
      last_char = j;
      j += len;
    }
    if (newline_alt && last_newline_end) return last_newline_end;
    if (j == end) return j;         // \s+(?!\S) at the end of input
    if (last_char > i) return last_char;  // \s+(?!\S) gives back the last space
    return j;                       // \s+
  }
};

void split_llama3(const Scanner& sc, uint32_t i, std::vector<Span>& out, uint32_t max_digits) {
  while (i < sc.end) {
    const uint32_t start = i;
    const char c = sc.s[i];
    int len;
    const uint8_t cls = sc.cls(i, &len);
    uint32_t j;
    uint32_t m;
    if (c == '\'' && (m = sc.contraction(i, true)) != 0) {
      j = i + 1 + m;
    } else if (cls & kLetter) {
      j = sc.run(i + len, kLetter);
    } else if (c != '\r' && c != '\n' && !(cls & kNumber) && sc.is_letter(i + len)) {
      j = sc.run(i + len, kLetter);
    } else if (cls & kNumber) {
      j = i + len;
      for (uint32_t k = 1; k < max_digits && sc.is_number(j); ++k) {
        int l;
        sc.cls(j, &l);
        j += l;
      }
    } else if (!(cls & kSpace) || (c == ' ' && sc.is_other(i + 1))) {
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      j = sc.run_other(c == ' ' ? i + 1 : i);
      while (j < sc.end && (sc.s[j] == '\r' || sc.s[j] == '\n')) ++j;
    } else {
      j = sc.whitespace(i, true);
    }
    out.push_back(Span{start, j});
    i = j;
  }
}

void split_gpt2(const Scanner& sc, uint32_t i, std::vector<Span>& out) {
  while (i < sc.end) {
    const uint32_t start = i;
    const char c = sc.s[i];
    int len;
    const uint8_t cls = sc.cls(i, &len);
    const uint32_t after_space = c == ' ' ? i + 1 : i;  // the optional leading ' '
    uint32_t j;
    uint32_t m;
    if (c == '\'' && (m = sc.contraction(i, false)) != 0) {
      j = i + 1 + m;
    } else if ((cls & kLetter) || (c == ' ' && sc.is_letter(after_space))) {
      j = sc.run(after_space, kLetter);
    } else if ((cls & kNumber) || (c == ' ' && sc.is_number(after_space))) {
      j = sc.run(after_space, kNumber);
    } else if (!(cls & kSpace) || (c == ' ' && sc.is_other(after_space))) {
      j = sc.run_other(after_space);
    } else {
      j = sc.whitespace(i, false);
    }
    out.push_back(Span{start, j});
    i = j;
  }
}

}  // namespace

void split_pieces(SplitPattern pattern, std::string_view s, uint32_t begin, uint32_t end, std::vector<Span>& out) {
  const Scanner sc{s.data(), end};
  switch (pattern) {
    case SplitPattern::kLlama3: split_llama3(sc, begin, out, 3); break;
    case SplitPattern::kLlama3SingleDigits: split_llama3(sc, begin, out, 1); break;
    case SplitPattern::kGpt2: split_gpt2(sc, begin, out); break;
  }
}

}  // namespace longctx::tokenizer
