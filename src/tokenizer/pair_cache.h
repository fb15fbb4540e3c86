// A per-thread, direct-mapped cache in front of the merge table. The merge table of a 128K
// vocabulary is ~8 MB, so a probe usually misses the CPU caches; the pairs real text asks about
// repeat heavily, and this 256 KB table stays in L2.
#pragma once

#include <cstdint>
#include <vector>

#include "hash.h"

namespace longctx::tokenizer {

struct MergeValue {
  uint32_t rank, result;  // rank == ~0u: no such merge
};

class PairCache {
 public:
  static constexpr size_t kEntries = 1 << 14;

  // The slot of a pair key whose hash is h = mix64(key) (the hash the merge table and its filter
  // use too, so it is computed once); at(slot, key): its cached value, or nullptr; put: caches it.
  size_t slot_of(uint64_t h) {
    if (entries_.empty()) entries_.assign(kEntries, Entry{~0ULL, {0, 0}});
    return h & (kEntries - 1);
  }
  const MergeValue* at(size_t slot, uint64_t key) const {
    const Entry& e = entries_[slot];
    return e.key == key ? &e.value : nullptr;
  }
  void put(size_t slot, uint64_t key, MergeValue v) { entries_[slot] = Entry{key, v}; }
  // For callers that look up several pairs at once (BpeModel::lookup_pairs).
  void prefetch(size_t slot) const { __builtin_prefetch(&entries_[slot]); }

 private:
  struct Entry {
    uint64_t key;
    MergeValue value;
  };
  std::vector<Entry> entries_;
};

}  // namespace longctx::tokenizer
