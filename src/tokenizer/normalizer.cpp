#include "normalizer.h"

#include "longctx/text/normalize.h"
#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"
#include "replace.h"

namespace longctx::tokenizer {
namespace {

bool is_space_at(std::string_view s, size_t i, int* len) {
  return text::is_white_space(text::utf8_decode(s.data() + i, s.data() + s.size(), len));
}

// HF's lrstrip: leading / trailing characters with Rust's char::is_whitespace (White_Space).
// Returns whether anything was removed on the left.
bool strip(std::string& s, bool left, bool right) {
  size_t b = 0, e = s.size();
  int len;
  if (left)
    while (b < e && is_space_at(s, b, &len)) b += len;
  if (right)
    while (e > b) {
      const size_t k = text::utf8_last_char_start(std::string_view(s).substr(0, e));
      if (!is_space_at(s, k, &len)) break;
      e = k;
    }
  const bool moved = b > 0;
  if (b > 0 || e < s.size()) s = s.substr(b, e - b);
  return moved;
}

// HF's StripAccents: drops combining marks (M*, as of Unicode 9.0 like the crate it asks).
void strip_accents(std::string& s, std::string& tmp) {
  tmp.clear();
  for (size_t i = 0; i < s.size();) {
    int len;
    const uint32_t cp = text::utf8_decode(s.data() + i, s.data() + s.size(), &len);
    if (!text::is_combining_mark_v9(cp)) tmp.append(s, i, len);
    i += len;
  }
  s.swap(tmp);
}

void regex_replace(const Regex& re, std::string& s, std::string_view content, std::string& tmp) {
  std::vector<RegexPiece> pieces;
  re.find_matches(s, 0, static_cast<uint32_t>(s.size()), pieces);
  tmp.clear();
  for (const RegexPiece& p : pieces) {
    if (p.match) tmp.append(content);
    else tmp.append(s, p.begin, p.end - p.begin);
  }
  s.swap(tmp);
}

void unicode_form(text::NormalForm f, std::string& s, std::string& tmp) {
  if (text::is_normalized(f, s)) return;
  text::normalize(f, s, tmp);
  s.swap(tmp);
}

}  // namespace

bool normalize(const std::vector<NormalizerStep>& steps, std::string_view s, std::string& out, std::string& tmp) {
  out.assign(s);
  bool at_zero = true;
  using K = NormalizerStep::Kind;
  for (const NormalizerStep& n : steps) {
    switch (n.kind) {
      case K::kPrepend:
        if (!out.empty()) out.insert(0, n.text);
        break;
      case K::kReplace:
        if (n.regex) regex_replace(*n.regex, out, n.content, tmp);
        else replace_all(out, n.text, n.content, tmp);
        break;
      case K::kNfc: unicode_form(text::NormalForm::kNFC, out, tmp); break;
      case K::kNfd: unicode_form(text::NormalForm::kNFD, out, tmp); break;
      case K::kNfkc: unicode_form(text::NormalForm::kNFKC, out, tmp); break;
      case K::kNfkd: unicode_form(text::NormalForm::kNFKD, out, tmp); break;
      case K::kLowercase:
        text::lowercase(out, tmp);
        out.swap(tmp);
        break;
      case K::kStrip:
        if (strip(out, n.left, n.right)) at_zero = false;
        break;
      case K::kStripAccents: strip_accents(out, tmp); break;
    }
  }
  return at_zero;
}

}  // namespace longctx::tokenizer
