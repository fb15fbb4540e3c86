// Linear-time BPE for long words: the backtracking encoder of van Antwerpen & Neubeck (GitHub's
// rust-gems `bpe` crate, 2024), here for merge lists as Hugging Face stores them.
//
// It rests on one property: a token sequence is the BPE encoding of its concatenation exactly
// when every adjacent pair (a, b) is "compatible", i.e. BPE(bytes(a) + bytes(b)) = [a, b], and
// every token is its own encoding. So the encoding can be built left to right: at each position
// take the longest token that matches the text and is compatible with the previous one; when
// none is, back up. Encodings of prefixes are unique, so a position from which nothing fits is
// dead for good, which bounds the backtracking. The heap algorithm costs O(n log n) with a large
// constant (one heap operation and hash probe per merge); this does a trie walk per token.
//
// Compatibility of (a, b) is decided without re-encoding: walk up the right spine of a's merge
// tree and the left spine of b's, in rank order, and check whether the merge across the
// boundary would fire before the symbols next to it change (see valid_pair()).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bpe_model.h"
#include "hash.h"

namespace longctx::tokenizer {

class BpeBacktrack {
 public:
  static constexpr uint32_t kNone = ~0u;

  // Builds the trie of reachable tokens and every token's merge tree (~0.1 s for 128K tokens).
  explicit BpeBacktrack(const BpeModel& model);
  // The same tables as a previous build wrote them out (tokenizer_cache.cpp); `ok` is false when
  // they do not hold together for this model (the caller then builds them anew).
  struct Arrays {
    std::span<const uint32_t> rank, left, right, length, next_prefix, nodes, dense;
    std::span<const uint8_t> edge;
  };
  BpeBacktrack(const BpeModel& model, const Arrays& a, bool* ok);
  Arrays arrays() const;

  // Appends the encoding of s, whose every character must be a single-symbol token (the caller
  // splits unknown characters off first).
  void encode(std::string_view s, std::vector<uint32_t>& out, BpeScratch& scratch) const;

  // BPE(bytes(a) + bytes(b)) == [a, b], for reachable a and b.
  bool valid_pair(uint32_t a, uint32_t b, PairCache& cache) const;
  // The spine walk behind valid_pair. allow_top: the merge of (a, b) itself may fire last (is
  // a's and b's merge the last step of BPE(bytes(a) + bytes(b))?).
  bool spine_walk(uint32_t a, uint32_t b, bool allow_top, PairCache& cache) const;
  // valid_pair through a per-thread memo (pairs repeat: most text reuses a few thousand tokens).
  bool valid_pair_memo(uint32_t a, uint32_t b, BpeScratch& scratch) const;
  static constexpr size_t kPairMemoSize = 1 << 16;

  // The id of the symbol (character or byte) starting at p, or kNone if it is not a token.
  uint32_t symbol_at(const char* p, const char* end, int* len) const;

 private:
  uint32_t longest_match(const char* p, const char* end) const;
  uint32_t child(uint32_t node, uint8_t byte) const {
    const Node& n = nodes_[node];
    if (n.dense != kNone) return dense_[n.dense * 256 + byte];
    for (uint32_t c = n.first_child, e = n.first_child + n.children; c < e; ++c)
      if (edge_[c] == byte) return c;
    return kNone;
  }
  void build_trie(const std::vector<uint32_t>& reachable_tokens);

  const BpeModel& model_;
  // Per token: the merge that made it in its own encoding (kNone for base symbols and for
  // tokens BPE never produces), its length in bytes, and its longest proper prefix that is a
  // reachable token. These and the trie are built here, or used in place from the load cache's
  // mapping (no copy: ~4 MB for a 128K vocabulary, which cost each load ~1,000 page faults).
  FlatArray<uint32_t> rank_, left_, right_, length_, next_prefix_;
  // Byte trie over reachable tokens, laid out breadth-first so that a node's children are
  // contiguous (a short scan, not a hash probe per byte); nodes with many children (the root,
  // and nodes near it) get a 256-entry table instead.
  static constexpr uint32_t kDenseFrom = 12;
  struct Node {  // four uint32 (Arrays::nodes holds them flat)
    uint32_t first_child = 0;
    uint32_t children = 0;
    uint32_t token = kNone;  // the token ending here
    uint32_t dense = kNone;  // index of its table in dense_, if it has one
  };
  FlatArray<Node> nodes_;
  FlatArray<uint8_t> edge_;  // edge_[i]: the byte leading into node i
  FlatArray<uint32_t> dense_;
};

}  // namespace longctx::tokenizer
