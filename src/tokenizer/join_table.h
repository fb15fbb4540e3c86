// Where a SentencePiece-style word can be cut without changing its BPE result.
//
// Without a pre-tokenizer the whole document is one BPE word. But a final token can only span
// the boundary between characters x and y if some merge (a, b) has a ending in x and b starting
// with y: the merge that first joins the symbol holding x to the one holding y is such a merge.
// Where the merge list has none, the two sides never interact, so the word can be cut there and
// each part encoded (and cached) on its own with the same result. This table holds, for every
// merge, the pair (last character of a, first character of b).
//
// It is exact only when unknown characters cannot interact across a cut: byte fallback covers
// every byte (or unknowns are not fused) and no merge involves a byte-fallback token; the
// loader checks that and leaves the table disabled otherwise.
#pragma once

#include <bitset>
#include <cstdint>
#include <string_view>

#include "hash.h"

namespace longctx::tokenizer {

class JoinTable {
 public:
  bool enabled() const { return enabled_; }
  void enable() { enabled_ = true; }

  void reserve(size_t merges) { pairs_.reserve(merges); }
  void add(uint32_t x, uint32_t y) {
    if (x < 128 && y < 128) {
      ascii_.set(x * 128 + y);
    } else {
      pairs_.insert(pair_key(x, y), 1);
    }
  }
  // True when some merge may join a symbol ending in x to one starting with y.
  bool joinable(uint32_t x, uint32_t y) const {
    if (x < 128 && y < 128) return ascii_.test(x * 128 + y);
    return pairs_.find(pair_key(x, y)) != nullptr;
  }

 private:
  bool enabled_ = false;
  std::bitset<128 * 128> ascii_;
  FlatMap64<uint8_t> pairs_;
};

}  // namespace longctx::tokenizer
