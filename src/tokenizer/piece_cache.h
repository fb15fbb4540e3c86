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
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <sys/mman.h>

#include "hash.h"

namespace longctx::tokenizer {

// The main table's memory once it is large: one anonymous mapping of the largest size the table
// may reach, 2 MB aligned and in 2 MB pages (the table outgrows what the TLB covers in 4 KB pages,
// and a lookup missing the hot table would pay a page walk besides the cache miss). The table
// grows inside it (PieceCache::grow), so a run touches each page once: fresh pages come zeroed
// from the kernel, which is what an empty slot is. A new table per doubling touched about twice
// the final size and zero-filled it once more; first touches are slow on virtual machines (perf
// put 4-30% of the samples of a 10 MB tokenize run in the kernel's page zeroing under the old
// grow), and the old and new tables were both alive while rehashing.
class SlotRegion {
 public:
  SlotRegion() = default;
  ~SlotRegion() {
    if (map_) munmap(map_, map_bytes_);
  }
  SlotRegion(const SlotRegion&) = delete;
  SlotRegion& operator=(const SlotRegion&) = delete;

  bool mapped() const { return map_ != nullptr; }
  void* data() const { return data_; }
  void map(size_t bytes) {
    constexpr size_t kHuge = size_t{1} << 21;
    map_bytes_ = bytes + kHuge;  // room to align
    void* p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    map_ = p;
    data_ = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
    madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
  }

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  void* data_ = nullptr;
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

  // Tables of up to this many slots (1 MB) live on the heap, in 4 KB pages: an encoder that sees
  // little text (one call of the Python binding) does not map or zero a 2 MB page.
  static constexpr size_t kSmallSlots = 1 << 15;

  PieceCache()
      : small_(kInitialSlots),
        slots_(small_.data()),
        size_(kInitialSlots),
        mask_(kInitialSlots - 1),
        hot_(kHotSlots) {}

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
    if (entries_ >= size_ / 2) {
      if (size_ < kMaxSlots) {
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
    std::memset(static_cast<void*>(slots_), 0, size_ * sizeof(Slot));
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

  // One push_back per id: no library call (resize() to append two ids called _M_default_append,
  // insert() of longer lists memmove, each costing more than the few ids it copies).
  [[gnu::always_inline]] void emit(const Slot& s, std::vector<uint32_t>& out) const {
    const uint32_t inline_ids[2] = {s.v0, s.v1};
    const uint32_t* ids = s.count <= 2 ? inline_ids : ids_.data() + s.v0;
    for (uint32_t k = 0; k < s.count; ++k) out.push_back(ids[k]);
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

  // Doubles the table in place (in its vector while small, in the region after). The run of
  // occupied slots at the start, which may hold entries that wrapped around from the end, is set
  // aside and put back last as ordinary inserts. The other slots [z, n) are taken out in
  // increasing order and each is put at the first empty slot from its new home, its old home h
  // or h + n. This never passes a slot still waiting to be moved, so no probe chain gets a hole:
  // from h (z < h <= its old place i, as nothing before slot z wraps), every slot up to i was
  // occupied and has already been moved (each to h' <= its old place, or above n), and i itself
  // is empty now; from h + n, only moved entries and fresh slots lie above n, and a probe that
  // wraps past the end finds [0, z) empty. The new half is fresh memory: zero, i.e. empty.
  void grow() {
    const size_t n = size_;
    std::vector<Slot> head;
    size_t z = 0;
    for (; slots_[z].key_len != 0; ++z) {  // load 1/2: an empty slot exists
      head.push_back(slots_[z]);
      slots_[z] = Slot{};
    }
    size_ = 2 * n;
    mask_ = size_ - 1;
    if (size_ <= kSmallSlots) {
      small_.resize(size_);  // new slots zero, i.e. empty
      slots_ = small_.data();
    } else if (!region_.mapped()) {
      region_.map(kMaxSlots * sizeof(Slot));
      std::memcpy(region_.data(), static_cast<const void*>(small_.data()), n * sizeof(Slot));
      slots_ = static_cast<Slot*>(region_.data());
      small_ = std::vector<Slot>();
    }
    for (size_t i = z; i < n; ++i) {
      if (slots_[i].key_len == 0) continue;
      const Slot s = slots_[i];
      slots_[i] = Slot{};
      place(s, s.hash_lo);
    }
    for (const Slot& s : head) place(s, s.hash_lo);
  }

  std::vector<Slot> small_;  // the table while it has at most kSmallSlots slots
  SlotRegion region_;        // then
  Slot* slots_;
  size_t size_;  // slots in the table, a power of two
  size_t mask_;
  std::vector<Slot> hot_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

}  // namespace longctx::tokenizer
