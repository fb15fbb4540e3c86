// Finds added tokens (special and not) in raw text, as Hugging Face's AddedVocabulary does before
// normalization: leftmost-longest matches over all added tokens, then the single_word / lstrip /
// rstrip rules, and special tokens skipped unless parse_special is on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace longctx::tokenizer {

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct AddedMatch {
  uint32_t begin, end;  // byte range in the text, including stripped whitespace
  uint32_t id;
};

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  bool empty() const { return tokens_.empty(); }
  bool has_non_special() const { return has_non_special_; }

  // Appends the matches in text, left to right.
  void find(std::string_view text, bool parse_special, std::vector<AddedMatch>& out) const;

 private:
  struct Node {
    uint32_t first_child = 0;  // index into nodes_, 0 = none
    uint32_t next_sibling = 0;
    int32_t token = -1;  // index into tokens_ when a token ends here
    uint8_t byte = 0;
  };
  uint32_t child(uint32_t node, uint8_t byte) const;

  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  bool first_byte_[256] = {};
  bool has_non_special_ = false;
};

}  // namespace longctx::tokenizer
