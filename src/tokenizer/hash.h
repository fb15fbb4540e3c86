// Hashing and open-addressing tables for the tokenizer's hot paths: (left, right) token pair →
// merge, and byte string → token id. std::unordered_map costs a heap node and a pointer chase per
// entry; these keep entries in one flat array and probe linearly.
//
// Every table is a few flat arrays of plain values with no pointers inside, so that a compiled
// tokenizer can be written to the load cache (tokenizer_cache.h) as raw arrays and used again
// straight from the mapped file: each array either owns its elements or views memory that lives
// as long as the tokenizer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace longctx::tokenizer {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

// Hash of a byte string, 8 bytes at a time.
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ mix64(w)) * 0x9E3779B97F4A7C15ULL;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ mix64(w)) * 0x9E3779B97F4A7C15ULL;
  }
  return mix64(h);
}

inline uint64_t pair_key(uint32_t left, uint32_t right) {
  return (static_cast<uint64_t>(left) << 32) | right;
}

// Smallest power of two that keeps n entries at most half full.
inline size_t table_capacity(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  return cap;
}

inline bool is_power_of_two(size_t n) { return n && !(n & (n - 1)); }

// An array of plain values that either owns its elements (built at load) or views memory owned
// elsewhere (a mapped cache file, which must outlive it). Moving keeps data() where it was.
template <class T>
class FlatArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  FlatArray() = default;
  FlatArray(FlatArray&& o) noexcept { *this = std::move(o); }
  FlatArray& operator=(FlatArray&& o) noexcept {
    if (this != &o) {
      own_ = std::move(o.own_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      o.own_.clear();
    }
    return *this;
  }
  FlatArray(const FlatArray&) = delete;
  FlatArray& operator=(const FlatArray&) = delete;

  void assign(size_t n, const T& v) {
    own_.assign(n, v);
    data_ = own_.data();
    size_ = n;
  }
  void adopt(std::vector<T> v) {
    own_ = std::move(v);
    data_ = own_.data();
    size_ = own_.size();
  }
  void view(std::span<const T> s) {
    own_ = std::vector<T>();
    data_ = s.data();
    size_ = s.size();
  }
  // Only for an array that owns its elements.
  T* mutable_data() { return own_.data(); }

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  std::vector<T> own_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

// uint64 key → Value, insert-only, for a table built once at load and then only read. Key and
// value share a slot, so a successful probe touches one cache line.
template <class Value>
class FlatMap64 {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;
  struct Slot {
    uint64_t key;
    Value value;
  };

  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{kEmpty, Value{}});
    mask_ = slots_.size() - 1;
  }
  // Returns false (and keeps the first value) when key is already present.
  bool insert(uint64_t key, const Value& v) {
    Slot* slots = slots_.mutable_data();
    size_t i = mix64(key) & mask_;
    while (slots[i].key != kEmpty) {
      if (slots[i].key == key) return false;
      i = (i + 1) & mask_;
    }
    slots[i] = Slot{key, v};
    return true;
  }
  const Value* find(uint64_t key) const { return find(key, mix64(key)); }
  // The same, given h = mix64(key) (callers that already computed it for a cache or a filter).
  const Value* find(uint64_t key, uint64_t h) const {
    size_t i = h & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  void prefetch(uint64_t key) const { prefetch_hashed(mix64(key)); }
  void prefetch_hashed(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }
  void prefetch_for_insert(uint64_t key) { __builtin_prefetch(slots_.mutable_data() + (mix64(key) & mask_), 1); }

  std::span<const Slot> slots() const { return slots_.span(); }
  // Uses slots written by slots() (at most half full); false if their count is not a power of two.
  bool view(std::span<const Slot> slots) {
    if (!is_power_of_two(slots.size())) return false;
    slots_.view(slots);
    mask_ = slots.size() - 1;
    return true;
  }

 private:
  FlatArray<Slot> slots_;
  size_t mask_ = 0;
};

// A set of uint64 keys (~0 excluded), insert-only, like FlatMap64 without values.
class FlatSet64 {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;

  void reserve(size_t n) {
    slots_.assign(table_capacity(n), kEmpty);
    mask_ = slots_.size() - 1;
  }
  // Grows (rehashing) when half full, so reserve() may be a guess.
  void insert(uint64_t key) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    uint64_t* slots = slots_.mutable_data();
    size_t i = mix64(key) & mask_;
    while (slots[i] != kEmpty) {
      if (slots[i] == key) return;
      i = (i + 1) & mask_;
    }
    slots[i] = key;
    ++count_;
  }
  bool contains(uint64_t key) const {
    if (slots_.empty()) return false;
    size_t i = mix64(key) & mask_;
    while (true) {
      const uint64_t k = slots_[i];
      if (k == key) return true;
      if (k == kEmpty) return false;
      i = (i + 1) & mask_;
    }
  }

  std::span<const uint64_t> slots() const { return slots_.span(); }
  bool view(std::span<const uint64_t> slots) {
    if (!slots.empty() && !is_power_of_two(slots.size())) return false;
    slots_.view(slots);
    mask_ = slots.empty() ? 0 : slots.size() - 1;
    count_ = 0;  // a viewed set is not inserted into
    return true;
  }

 private:
  void grow() {
    FlatArray<uint64_t> old = std::move(slots_);
    reserve(old.size());  // twice the old capacity
    count_ = 0;
    for (const uint64_t k : old)
      if (k != kEmpty) insert(k);
  }
  FlatArray<uint64_t> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// Set membership with false positives only: three bits of one 64-bit word of a 2^kLogBits-bit
// array per key. Answers "certainly not present" for most absent keys without touching a big
// table. All of a key's bits share a word, so a query reads one cache line, not one per bit (the
// two-line version missed L2 on the second line often enough to show in profiles). Sizes:
// BloomFilter (2^21 bits, 256 KB) in front of the merge table, where the false positive rate
// stays ~4-5% at LLaMA-3's 280K keys; TokenFilter (2^20 bits, 128 KB) in front of the vocabulary,
// ~4-5% at 128K tokens: asked once per new piece, its word missed L2 at 256 KB (a LLaMA-3
// tokenize +2-3% at 128 KB, -3-5% at 32 KB, where more false positives reach the vocabulary).
template <int kLogBits>
class BloomFilterT {
 public:
  static constexpr size_t kBits = size_t{1} << kLogBits;
  static constexpr size_t kWords = kBits / 64;
  static_assert(kLogBits >= 12 && kLogBits <= 26, "word index bits 6.. must stay below bit 26");

  BloomFilterT() { bits_.assign(kWords, 0); }
  void add(uint64_t h) { bits_.mutable_data()[word(h)] |= mask(h); }
  bool may_contain(uint64_t h) const {
    const uint64_t m = mask(h);
    return (bits_[word(h)] & m) == m;
  }
  void prefetch(uint64_t h) const { __builtin_prefetch(&bits_[word(h)]); }

  std::span<const uint64_t> words() const { return bits_.span(); }
  bool view(std::span<const uint64_t> words) {
    if (words.size() != kWords) return false;
    bits_.view(words);
    return true;
  }

 private:
  // Word from hash bits 6 to kLogBits - 1, bit positions from bits 0-5, 26-31 and 58-63: disjoint
  // fields.
  static size_t word(uint64_t h) { return (h >> 6) & (kWords - 1); }
  static uint64_t mask(uint64_t h) { return 1ULL << (h & 63) | 1ULL << ((h >> 26) & 63) | 1ULL << (h >> 58); }
  FlatArray<uint64_t> bits_;
};
using BloomFilter = BloomFilterT<21>;
using TokenFilter = BloomFilterT<20>;

// Byte strings stored back to back, addressed by index: string i is bytes[offsets[i],
// offsets[i + 1]). One allocation instead of one per token.
class StringTable {
 public:
  StringTable() = default;
  // Throws Error if the strings add up to 4 GB or more.
  explicit StringTable(std::span<const std::string_view> strings);

  size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  std::string_view operator[](size_t i) const {
    return {bytes_.data() + offsets_[i], static_cast<size_t>(offsets_[i + 1] - offsets_[i])};
  }
  const char* base() const { return bytes_.data(); }

  std::span<const char> bytes() const { return bytes_.span(); }
  std::span<const uint32_t> offsets() const { return offsets_.span(); }
  // Uses arrays written by bytes() and offsets(); false unless the offsets run from 0 to the end
  // of bytes without going back.
  bool view(std::span<const char> bytes, std::span<const uint32_t> offsets);

 private:
  FlatArray<char> bytes_;
  FlatArray<uint32_t> offsets_;
};

inline StringTable::StringTable(std::span<const std::string_view> strings) {
  size_t total = 0;
  for (const std::string_view s : strings) total += s.size();
  if (total > UINT32_MAX) throw std::length_error("a vocabulary of 4 GB or more");
  std::vector<char> bytes(total);
  std::vector<uint32_t> offsets(strings.size() + 1);
  size_t at = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    offsets[i] = static_cast<uint32_t>(at);
    if (!strings[i].empty()) std::memcpy(bytes.data() + at, strings[i].data(), strings[i].size());
    at += strings[i].size();
  }
  offsets[strings.size()] = static_cast<uint32_t>(at);
  bytes_.adopt(std::move(bytes));
  offsets_.adopt(std::move(offsets));
}

inline bool StringTable::view(std::span<const char> bytes, std::span<const uint32_t> offsets) {
  if (offsets.empty() || offsets[0] != 0 || offsets.back() != bytes.size()) return false;
  for (size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1]) return false;
  bytes_.view(bytes);
  offsets_.view(offsets);
  return true;
}

// Byte string → uint32 id over the strings of a StringTable (which must outlive the map; moving
// the table is fine). A slot holds the key's length and its first 8 bytes: a key of up to 8 bytes
// (most tokens) is compared inside the slot, 16 bytes, with no read of the table's bytes (a second
// cache miss per lookup, and the vocabulary check of every piece seen for the first time makes one).
class StringIdMap {
 public:
  static constexpr uint32_t kNone = ~0u;
  struct Slot {
    uint64_t head = 0;  // the key's first 8 bytes, zero-padded (head_of)
    uint32_t id = kNone;
    uint32_t length = 0;
  };

  // The first 8 bytes of key, zero-padded, as a little-endian integer: what a slot stores.
  static uint64_t head_of(std::string_view key) {
    const char* p = key.data();
    const size_t n = key.size();
    if (n >= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    if (n >= 4) {  // two loads that overlap where n < 8; the shared bytes agree
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      return lo | static_cast<uint64_t>(hi) << (8 * (n - 4));
    }
    if (n == 0) return 0;
    const auto byte = [p](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(p[i])); };
    return byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1));
  }

  // Maps each non-empty string of keys to its index, the first index where a string repeats.
  // Returns the first index whose string was already there, or kNone.
  uint32_t build(const StringTable& keys) {
    slots_.assign(table_capacity(keys.size()), Slot{});
    mask_ = slots_.size() - 1;
    base_ = keys.base();
    offsets_ = keys.offsets().data();
    uint32_t repeated = kNone;
    Slot* slots = slots_.mutable_data();
    // In blocks: hash and prefetch a block's slots, then insert them in order (a large table
    // misses the caches on every probe; this overlaps the misses).
    constexpr uint32_t kBlock = 32;
    uint64_t hashes[kBlock];
    const auto n = static_cast<uint32_t>(keys.size());
    for (uint32_t from = 0; from < n; from += kBlock) {
      const uint32_t to = std::min(n, from + kBlock);
      for (uint32_t id = from; id < to; ++id) {
        hashes[id - from] = hash_bytes(keys[id]);
        __builtin_prefetch(&slots[hashes[id - from] & mask_], 1);
      }
      for (uint32_t id = from; id < to; ++id) {
        const std::string_view key = keys[id];
        if (key.empty()) continue;
        const uint64_t h = hashes[id - from], head = head_of(key);
        size_t i = h & mask_;
        bool seen = false;
        while (slots[i].id != kNone) {
          if (matches(slots[i], key, head)) {
            seen = true;
            break;
          }
          i = (i + 1) & mask_;
        }
        if (seen) {
          if (repeated == kNone) repeated = id;
          continue;
        }
        slots[i] = Slot{head, id, static_cast<uint32_t>(key.size())};
      }
    }
    return repeated;
  }
  uint32_t find(std::string_view key) const { return find(key, hash_bytes(key)); }
  uint32_t find(std::string_view key, uint64_t h) const {
    if (slots_.empty()) return kNone;
    const uint64_t head = head_of(key);
    size_t i = h & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (matches(s, key, head)) return s.id;
      i = (i + 1) & mask_;
    }
  }
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }

  std::span<const Slot> slots() const { return slots_.span(); }
  // Uses slots written by slots() for the same keys. Not checked slot by slot (a pass over a
  // 128K vocabulary's slots cost each load ~1-2 ms): the load cache's payload is checksummed and
  // keyed by the build that wrote it (tokenizer_cache.cpp).
  bool view(std::span<const Slot> slots, const StringTable& keys) {
    if (!is_power_of_two(slots.size())) return false;
    slots_.view(slots);
    mask_ = slots.size() - 1;
    base_ = keys.base();
    offsets_ = keys.offsets().data();
    return true;
  }

 private:
  bool matches(const Slot& s, std::string_view key, uint64_t head) const {
    return s.length == key.size() && s.head == head &&
           (key.size() <= 8 || std::memcmp(base_ + offsets_[s.id] + 8, key.data() + 8, key.size() - 8) == 0);
  }
  FlatArray<Slot> slots_;
  size_t mask_ = 0;
  const char* base_ = nullptr;
  const uint32_t* offsets_ = nullptr;
};

}  // namespace longctx::tokenizer
