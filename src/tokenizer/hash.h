// Hashing and open-addressing tables for the tokenizer's hot paths: (left, right) token pair →
// merge, and byte string → token id. std::unordered_map costs a heap node and a pointer chase per
// entry; these keep entries in one flat array and probe linearly.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
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

// uint64 key → Value, insert-only, for a table built once at load and then only read. Key and
// value share a slot, so a successful probe touches one cache line.
template <class Value>
class FlatMap64 {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;

  void reserve(size_t n) {
    const size_t cap = table_capacity(n);
    slots_.assign(cap, Slot{kEmpty, Value{}});
    mask_ = cap - 1;
  }
  // Returns false (and keeps the first value) when key is already present.
  bool insert(uint64_t key, const Value& v) {
    size_t i = mix64(key) & mask_;
    while (slots_[i].key != kEmpty) {
      if (slots_[i].key == key) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{key, v};
    return true;
  }
  const Value* find(uint64_t key) const {
    size_t i = mix64(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
      i = (i + 1) & mask_;
    }
  }

 private:
  struct Slot {
    uint64_t key;
    Value value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Set membership with false positives only: two bits of a 2^21-bit array per key (256 KB, stays
// in L2). Answers "certainly not present" for most absent keys without touching a big table.
class BloomFilter {
 public:
  BloomFilter() : bits_(kBits / 64, 0) {}
  void add(uint64_t h) {
    set(h);
    set(h >> 32 | h << 32);
  }
  bool may_contain(uint64_t h) const { return test(h) && test(h >> 32 | h << 32); }

 private:
  static constexpr size_t kBits = size_t{1} << 21;
  void set(uint64_t h) { bits_[(h & (kBits - 1)) >> 6] |= 1ULL << (h & 63); }
  bool test(uint64_t h) const { return (bits_[(h & (kBits - 1)) >> 6] >> (h & 63)) & 1; }
  std::vector<uint64_t> bits_;
};

// Byte string → uint32 id, keys owned by the caller (they must outlive the map).
class StringIdMap {
 public:
  static constexpr uint32_t kNone = ~0u;

  void reserve(size_t n) {
    const size_t cap = table_capacity(n);
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  bool insert(std::string_view key, uint32_t id) {
    const uint64_t h = hash_bytes(key);
    size_t i = h & mask_;
    while (slots_[i].id != kNone) {
      if (slots_[i].hash == h && slots_[i].key == key) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{h, key, id};
    return true;
  }
  uint32_t find(std::string_view key) const { return find(key, hash_bytes(key)); }
  uint32_t find(std::string_view key, uint64_t h) const {
    size_t i = h & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (s.hash == h && s.key == key) return s.id;
      i = (i + 1) & mask_;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::string_view key;
    uint32_t id = kNone;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace longctx::tokenizer
