// Piece → token ids, per thread. Most pre-tokenized pieces of real text repeat ("▁the", " and"),
// so encoding a piece once and looking it up afterwards is where most of the speed comes from.
// Open addressing over one slot array; keys and ids live in two arenas. When full, it is cleared
// rather than evicted piecemeal: cheap, and results never depend on what is cached.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hash.h"

namespace longctx::tokenizer {

class PieceCache {
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0;
    uint32_t ids_off = 0, ids_len = 0;  // ids_len == 0: empty slot
  };

 public:
  static constexpr size_t kMaxPieceBytes = 256;  // longer pieces rarely repeat; not cached
  static constexpr size_t kInitialSlots = 1 << 10;
  static constexpr size_t kMaxSlots = 1 << 18;

  PieceCache() : slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

  // Ids cached for key (with hash h), or nullptr; *count receives their number.
  const uint32_t* find(std::string_view key, uint64_t h, uint32_t* count) const {
    size_t i = h & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.ids_len == 0) return nullptr;
      if (s.hash == h && s.key_len == key.size() && std::string_view(keys_.data() + s.key_off, s.key_len) == key) {
        *count = s.ids_len;
        return ids_.data() + s.ids_off;
      }
      i = (i + 1) & mask_;
    }
  }

  void insert(std::string_view key, uint64_t h, const uint32_t* ids, uint32_t count) {
    if (count == 0) return;  // a piece that yields nothing (dropped unknowns) is cheap to redo
    if (entries_ >= slots_.size() / 2) {
      if (slots_.size() < kMaxSlots) {
        grow();
      } else {
        clear();
      }
    }
    place(Slot{h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()),
               static_cast<uint32_t>(ids_.size()), count});
    keys_.append(key);
    ids_.insert(ids_.end(), ids, ids + count);
    ++entries_;
  }

 private:
  void place(const Slot& slot) {
    size_t i = slot.hash & mask_;
    while (slots_[i].ids_len != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.ids_len) place(s);
  }
 public:
  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    keys_.clear();
    ids_.clear();
    entries_ = 0;
  }

 private:
  std::vector<Slot> slots_;
  size_t mask_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

}  // namespace longctx::tokenizer
