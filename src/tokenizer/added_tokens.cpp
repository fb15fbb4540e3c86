#include "added_tokens.h"

#include <cstring>

#include "longctx/text/unicode.h"
#include "longctx/text/utf8.h"

namespace longctx::tokenizer {

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  nodes_.emplace_back();
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const std::string& c = tokens_[t].content;
    if (c.empty()) continue;
    has_non_special_ |= !tokens_[t].special;
    first_byte_[static_cast<uint8_t>(c[0])] = true;
    uint32_t node = 0;
    for (const char ch : c) {
      const auto b = static_cast<uint8_t>(ch);
      uint32_t next = child(node, b);
      if (!next) {
        next = static_cast<uint32_t>(nodes_.size());
        Node n;
        n.byte = b;
        n.next_sibling = nodes_[node].first_child;
        nodes_.push_back(n);
        nodes_[node].first_child = next;
      }
      node = next;
    }
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<int32_t>(t);
  }
}

uint32_t AddedTokenMatcher::child(uint32_t node, uint8_t byte) const {
  for (uint32_t c = nodes_[node].first_child; c; c = nodes_[c].next_sibling)
    if (nodes_[c].byte == byte) return c;
  return 0;
}

namespace {
// Rust's char::is_whitespace (White_Space) and the alphanumeric test HF uses for single_word.
bool is_space_cp(uint32_t cp) { return text::is_white_space(cp); }
bool is_word_cp(uint32_t cp) { return (text::char_class(cp) & (text::kLetter | text::kNumber)) || cp == '_'; }

uint32_t cp_before(std::string_view s, uint32_t i) {
  const size_t k = text::utf8_last_char_start(s.substr(0, i));
  int len;
  return text::utf8_decode(s.data() + k, s.data() + i, &len);
}
}  // namespace

void AddedTokenMatcher::find(std::string_view text, bool parse_special, std::vector<AddedMatch>& out) const {
  if (tokens_.empty()) return;
  const auto n = static_cast<uint32_t>(text.size());
  uint32_t consumed = 0;  // end of the previous match (stripped whitespace included)
  uint32_t i = 0;
  while (i < n) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) {
      ++i;
      continue;
    }
    // Longest token starting at i.
    int32_t best = -1;
    uint32_t best_end = 0;
    uint32_t node = 0;
    for (uint32_t k = i; k < n; ++k) {
      node = child(node, static_cast<uint8_t>(text[k]));
      if (!node) break;
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        best_end = k + 1;
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const AddedToken& tok = tokens_[best];
    uint32_t begin = i, end = best_end;
    i = best_end;  // the scan moves past a match even when it is then discarded, as HF's does
    if (tok.special && !parse_special) continue;
    if (tok.single_word) {
      int len;
      const bool left_ok = begin == 0 || !is_word_cp(cp_before(text, begin));
      const bool right_ok = end == n || !is_word_cp(text::utf8_decode(text.data() + end, text.data() + n, &len));
      if (!left_ok || !right_ok) continue;
    }
    if (tok.lstrip) {
      while (begin > consumed) {
        const uint32_t cp = cp_before(text, begin);
        if (!is_space_cp(cp)) break;
        begin = static_cast<uint32_t>(text::utf8_last_char_start(text.substr(0, begin)));
      }
    }
    if (tok.rstrip) {
      while (end < n) {
        int len;
        const uint32_t cp = text::utf8_decode(text.data() + end, text.data() + n, &len);
        if (!is_space_cp(cp)) break;
        end += len;
      }
    }
    out.push_back(AddedMatch{begin, end, tok.id});
    consumed = end;
    if (end > i) i = end;
  }
}

}  // namespace longctx::tokenizer
