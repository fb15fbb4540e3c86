// Piece → token ids, per thread. Most pre-tokenized pieces of real text repeat ("▁the", " and"),
// so encoding a piece once and looking it up afterwards is where most of the speed comes from.
//
// Open addressing over 32-byte slots. Keys of up to 16 bytes live inside the slot (no pointer
// chase, compared as two integers), as do up to two ids; longer keys and id lists live in two
// arenas. When full the cache is cleared rather than evicted piecemeal: cheap, and results never
// depend on what is cached.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <sys/mman.h>

#include "hash.h"

namespace longctx::tokenizer {

// Memory for the cache's tables in 2 MB pages where the system allows (transparent huge pages in
// "madvise" mode, Debian's default): the main table outgrows what the TLB covers in 4 KB pages, and
// a lookup that misses the hot table then pays a page walk besides the cache miss.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  static constexpr size_t kHuge = size_t{1} << 21;
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

class PieceCache {
 public:
  // Longer pieces rarely repeat, and caching every unique one costs more than it saves (measured
  // on text without whitespace: 256 was ~7% slower for LLaMA-3, ordinary text the same).
  static constexpr size_t kMaxPieceBytes = 32;
  static constexpr size_t kInitialSlots = 1 << 12;
  static constexpr size_t kMaxSlots = 1 << 19;

  // A key prepared once for both lookup and insertion.
  struct Key {
    std::string_view bytes;
    uint64_t k0 = 0, k1 = 0;  // inline form (zero-padded) for keys of up to 16 bytes
    uint64_t hash = 0;
  };

  // A small direct-mapped table in front of the main one, holding copies of recently used slots:
  // the main table outgrows L2 on real corpora, while a few thousand pieces make up most of
  // the lookups (the 1,000 commonest ~70% of LLaMA-3 pieces in the mixed benchmark text).
  static constexpr size_t kHotSlots = 1 << 13;

  PieceCache() : slots_(kInitialSlots), mask_(kInitialSlots - 1), hot_(kHotSlots) {}

  // The key of a piece that is followed by at least kPad readable bytes (the encoder cuts pieces
  // from a padded copy of the text, EncoderState::pad). Up to 16 bytes: the bytes zero-padded into
  // two integers, read as two 8-byte loads masked to the piece's length, with no branch on the
  // length (branches there were mispredicted on most pieces of real text, whose lengths vary at
  // random); longer: a hash of the bytes, compared in full on a match.
  static constexpr size_t kPad = 16;
  [[gnu::always_inline]] static Key make_key(std::string_view bytes) {
    Key k;
    k.bytes = bytes;
    if (bytes.size() > 16) {
      k.hash = hash_bytes(bytes);
      return k;
    }
    static constexpr auto masks = [] {
      struct M {
        uint64_t lo[17], hi[17];
      } m{};
      for (size_t n = 0; n <= 16; ++n) {
        m.lo[n] = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
        m.hi[n] = n <= 8 ? 0 : n == 16 ? ~0ULL : (1ULL << (8 * (n - 8))) - 1;
      }
      return m;
    }();
    uint64_t a, b;
    std::memcpy(&a, bytes.data(), 8);
    std::memcpy(&b, bytes.data() + 8, 8);
    k.k0 = a & masks.lo[bytes.size()];
    k.k1 = b & masks.hi[bytes.size()];
    k.hash = mix64(k.k0 * 0x9E3779B97F4A7C15ULL ^ (k.k1 + bytes.size()) * 0xC2B2AE3D27D4EB4FULL);
    return k;
  }

  // Appends the cached ids of key to out; false if not cached.
  [[gnu::always_inline]] bool find(const Key& key, std::vector<uint32_t>& out) {
    const auto len = static_cast<uint16_t>(key.bytes.size());
    Slot& hot = hot_slot(key);
    if (hot.key_len == len && matches(hot, key)) {
      emit(hot, out);
      return true;
    }
    size_t i = key.hash & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return false;
      if (s.key_len == len && matches(s, key)) {
        emit(s, out);
        hot = s;
        return true;
      }
      i = (i + 1) & mask_;
    }
  }

  // Hints for a lookup a few pieces ahead (EncoderState::words): first the hot slot; later, once
  // that has arrived, the main table's first slot unless the hot slot holds the key. Never change
  // what find() answers.
  [[gnu::always_inline]] void prefetch_hot(const Key& key) const { __builtin_prefetch(&hot_slot(key)); }
  [[gnu::always_inline]] void prefetch_main(const Key& key) const {
    const Slot& hot = hot_slot(key);
    const bool hit = hot.key_len == key.bytes.size() && hot.k0 == key.k0 && hot.k1 == key.k1;
    const Slot* target = &slots_[key.hash & mask_];
    __builtin_prefetch(hit ? &hot : target);  // a select, not a branch: hits vary at random
  }

  void insert(const Key& key, const uint32_t* ids, size_t count) {
    // Empty results (dropped unknown characters) and giant id lists are cheap or rare: not cached.
    if (count == 0 || count > 0xFFFF || key.bytes.empty() || key.bytes.size() > kMaxPieceBytes) return;
    if (entries_ >= slots_.size() / 2) {
      if (slots_.size() < kMaxSlots) {
        grow();
      } else {
        clear();
      }
    }
    Slot s;
    s.key_len = static_cast<uint16_t>(key.bytes.size());
    s.count = static_cast<uint16_t>(count);
    if (key.bytes.size() <= 16) {
      s.k0 = key.k0;
      s.k1 = key.k1;
    } else {
      s.k0 = key.hash;
      s.k1 = keys_.size();
      keys_.append(key.bytes);
    }
    if (count <= 2) {
      s.v0 = ids[0];
      s.v1 = count == 2 ? ids[1] : 0;
    } else {
      s.v0 = static_cast<uint32_t>(ids_.size());
      ids_.insert(ids_.end(), ids, ids + count);
    }
    s.hash_lo = static_cast<uint32_t>(key.hash);
    place(s, key.hash);
    ++entries_;
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    std::fill(hot_.begin(), hot_.end(), Slot{});
    keys_.clear();
    ids_.clear();
    entries_ = 0;
  }

 private:
  struct Slot {
    uint64_t k0 = 0, k1 = 0;  // key bytes (<= 16) or {hash, offset in keys_}
    uint32_t v0 = 0, v1 = 0;  // ids (count <= 2) or {offset in ids_, unused}
    uint16_t key_len = 0;     // 0: empty slot
    uint16_t count = 0;
    uint32_t hash_lo = 0;     // low hash bits, to re-place slots when growing
  };
  static_assert(sizeof(Slot) == 32);

  // The hot table's slot for key (high hash bits: the main table indexes by the low ones).
  [[gnu::always_inline]] Slot& hot_slot(const Key& key) { return hot_[(key.hash >> 40) & (kHotSlots - 1)]; }
  [[gnu::always_inline]] const Slot& hot_slot(const Key& key) const { return hot_[(key.hash >> 40) & (kHotSlots - 1)]; }

  [[gnu::always_inline]] void emit(const Slot& s, std::vector<uint32_t>& out) const {
    if (s.count == 1) {
      out.push_back(s.v0);
    } else if (s.count == 2) {
      const size_t at = out.size();
      out.resize(at + 2);
      out[at] = s.v0;
      out[at + 1] = s.v1;
    } else {
      out.insert(out.end(), ids_.data() + s.v0, ids_.data() + s.v0 + s.count);
    }
  }
  [[gnu::always_inline]] bool matches(const Slot& s, const Key& key) const {
    if (key.bytes.size() <= 16) return s.k0 == key.k0 && s.k1 == key.k1;
    return s.k0 == key.hash && std::memcmp(keys_.data() + s.k1, key.bytes.data(), key.bytes.size()) == 0;
  }
  void place(const Slot& slot, uint64_t hash) {
    size_t i = hash & mask_;
    while (slots_[i].key_len != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
  void grow() {
    std::vector<Slot, HugePageAllocator<Slot>> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.key_len) place(s, s.hash_lo);
  }

  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  size_t mask_;
  std::vector<Slot> hot_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

}  // namespace longctx::tokenizer
