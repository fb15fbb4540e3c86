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

#include <cstdint>
#include <string_view>

#include "hash.h"

namespace longctx::tokenizer {

class JoinTable {
 public:
  bool enabled() const { return enabled_; }
  void enable() { enabled_ = true; }

  void add(uint32_t x, uint32_t y) {
    if (x < 128 && y < 128) {
      ascii_[(x * 128 + y) >> 6] |= 1ULL << ((x * 128 + y) & 63);
    } else {
      if (pairs_.slots().empty()) pairs_.reserve(1024);  // grows: most merges repeat a pair
      pairs_.insert(pair_key(x, y));
    }
  }
  // True when some merge may join a symbol ending in x to one starting with y.
  bool joinable(uint32_t x, uint32_t y) const {
    if (x < 128 && y < 128) return (ascii_[(x * 128 + y) >> 6] >> ((x * 128 + y) & 63)) & 1;
    return pairs_.contains(pair_key(x, y));
  }

 private:
  friend struct CacheCodec;  // tokenizer_cache.cpp stores and restores the arrays
  static constexpr size_t kAsciiWords = 128 * 128 / 64;
  bool enabled_ = false;
  uint64_t ascii_[kAsciiWords] = {};
  FlatSet64 pairs_;
};

}  // namespace longctx::tokenizer
