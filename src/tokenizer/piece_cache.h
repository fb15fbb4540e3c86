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

// The main table's memory: one anonymous mapping of the largest size the table may reach, made
// once. The table grows inside it (PieceCache::grow), so a run touches each page once, and only
// pages the table has reached: fresh pages come zeroed from the kernel, which is what an empty
// slot is. A new vector per doubling touched about twice the final size and zero-filled it once
// more; first touches are slow on virtual machines (perf put 4-30% of the samples of a 10 MB
// tokenize run in the kernel's page zeroing under the old grow), and the old and new tables were
// both alive while rehashing.
class SlotRegion {
 public:
  explicit SlotRegion(size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = p;
  }
  ~SlotRegion() { munmap(data_, bytes_); }
  SlotRegion(const SlotRegion&) = delete;
  SlotRegion& operator=(const SlotRegion&) = delete;
  void* data() const { return data_; }
  // 2 MB pages from here on, once the table outgrows what the TLB covers in 4 KB pages (a lookup
  // missing the hot table then pays a page walk besides the cache miss). Advice only. Not from
  // the start: a small encoder would then zero a whole 2 MB page for a few KB of table.
  void use_huge_pages() {
    if (!huge_) madvise(data_, bytes_, MADV_HUGEPAGE);
    huge_ = true;
  }

 private:
  void* data_;
  size_t bytes_;
  bool huge_ = false;
};

class PieceCache {
 public:
  // Longer pieces rarely repeat, and caching every unique one costs more than it saves (measured
  // on text without whitespace: 256 was ~7% slower for LLaMA-3, ordinary text the same).
  static constexpr size_t kMaxPieceBytes = 32;
  static constexpr size_t kInitialSlots = 1 << 12;
  static constexpr size_t kMaxSlots = 1 << 19;
  // Probing does not wrap around: it runs on into kTail slots past the table's end, and one more
  // slot after those is never written, so every probe meets an empty slot. A key whose probe
  // would pass the tail (never seen at load 1/2) clears the cache instead.
  static constexpr size_t kTail = 64;

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

  PieceCache()
      : region_((kMaxSlots + kTail + 1) * sizeof(Slot)),
        slots_(static_cast<Slot*>(region_.data())),
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
      ++i;
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
    size_t at = free_slot(key.hash);
    if (at == kNoSlot) {  // before the arenas below take the key: clear() empties them
      clear();
      at = key.hash & mask_;
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
    slots_[at] = s;
    ++entries_;
  }

  void clear() {
    std::memset(static_cast<void*>(slots_), 0, (size_ + kTail) * sizeof(Slot));
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
  static constexpr size_t kNoSlot = ~size_t{0};
  // The first empty slot from hash's home, or kNoSlot past the tail.
  size_t free_slot(uint64_t hash) const {
    const size_t end = size_ + kTail;
    size_t i = hash & mask_;
    while (i < end && slots_[i].key_len != 0) ++i;
    return i < end ? i : kNoSlot;
  }

  // Doubles the table in place. Slots [0, n) are taken out in increasing order and each is put
  // at the first empty slot from its new home, which is its old home h or h + n. This never
  // passes a slot still waiting to be moved, so no probe chain gets a hole: from h, the slots up
  // to the entry's old place were all occupied and have already been moved (each to h' <= its
  // old place, or above n), and that old place is empty now; from h + n, only moved entries and
  // fresh slots lie above n, once the old tail (entries that had run past n) is set aside first
  // and put back last, as ordinary inserts. The new half is fresh memory: zero, i.e. empty.
  void grow() {
    const size_t n = size_;
    Slot tail[kTail];
    size_t tails = 0;
    for (size_t i = n; i < n + kTail; ++i) {
      if (slots_[i].key_len == 0) continue;
      tail[tails++] = slots_[i];
      slots_[i] = Slot{};
    }
    size_ = 2 * n;
    mask_ = size_ - 1;
    if (size_ * sizeof(Slot) >= (size_t{2} << 20)) region_.use_huge_pages();
    for (size_t i = 0; i < n; ++i) {
      if (slots_[i].key_len == 0) continue;
      const Slot s = slots_[i];
      slots_[i] = Slot{};
      if (!put_back(s)) return;
    }
    for (size_t k = 0; k < tails; ++k)
      if (!put_back(tail[k])) return;
  }
  // A moved slot at its new place; if its probe would pass the tail, the whole cache is cleared.
  bool put_back(const Slot& s) {
    const size_t at = free_slot(s.hash_lo);
    if (at == kNoSlot) {
      clear();
      return false;
    }
    slots_[at] = s;
    return true;
  }

  SlotRegion region_;
  Slot* slots_;
  size_t size_;  // slots in the table, a power of two; [size_, size_ + kTail) is its tail
  size_t mask_;
  std::vector<Slot> hot_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

}  // namespace longctx::tokenizer
