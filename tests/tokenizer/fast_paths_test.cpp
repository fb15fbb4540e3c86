// Fast paths against independent references on random input: the SWAR one-byte Replace
// (replace_byte) against replace_byte_reference, the JSON id writer against std::to_string, and
// the piece cache's in-place growth against a hash map. The oracle tests cover them through real
// tokenizers; these reach the edges (8-byte boundaries, empty and multi-byte replacements, every
// digit count, entries wrapped around a doubling table's end) directly. Also the vocabulary map's
// in-slot key heads (StringIdMap) against a hash map, on keys that share heads and lengths.
#include <gtest/gtest.h>

#include <charconv>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "longctx/text/cpu.h"
#include "longctx/text/ids_json.h"
#include "tokenizer/ascii_cuts.h"
#include "tokenizer/hash.h"
#include "tokenizer/piece_cache.h"
#include "tokenizer/replace.h"

namespace {

TEST(FastPaths, ReplaceByteEqualsReference) {
  std::mt19937_64 rng(7);
  std::string tmp1, tmp2;
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t n = rng() % 70;  // across several 8-byte words and their tails
    std::string s(n, '\0');
    const char from = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 128 : 'a' + rng() % 4);
    for (auto& c : s) c = rng() % 3 == 0 ? from : static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 6);
    std::string to(rng() % 11, '\0');  // 0 to 10 bytes, as the harness the review asked for
    for (auto& c : to) c = static_cast<char>(rng() % 256);
    std::string a = s, b = s;
    longctx::tokenizer::replace_byte(a, from, to, tmp1);
    longctx::tokenizer::replace_byte_reference(b, from, to, tmp2);
    ASSERT_EQ(a, b) << "trial " << trial << ", length " << n << ", replacement of " << to.size() << " bytes";
  }
}

// The writer against std::to_string: random ids of every length, runs of them long enough for the
// vectorized kernel (16 a step), runs with one id of 10^7 or more (that step goes scalar), and
// every length of tail; once through the dispatching writer, once through the scalar one.
TEST(FastPaths, IdsJsonEqualsToString) {
  std::mt19937_64 rng(11);
  std::vector<uint32_t> ids = {0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 999999, 1000000, 9999999,
                               10000000, 99999999, 100000000, 999999999, 1000000000, 4294967295u};
  for (int i = 0; i < 200000; ++i) ids.push_back(static_cast<uint32_t>(rng() >> (rng() % 32)));
  for (int i = 0; i < 200000; ++i) ids.push_back(static_cast<uint32_t>(rng() % 300000));  // vocabulary-sized
  for (size_t cut = 0; cut <= 40; ++cut) {
    const std::span<const uint32_t> part(ids.data() + ids.size() - cut, cut);
    std::string want = "[";
    for (size_t i = 0; i < part.size(); ++i) want += (i ? "," : "") + std::to_string(part[i]);
    want += "]";
    std::string got = "prefix";
    longctx::text::append_ids_json(got, part);
    ASSERT_EQ(got, "prefix" + want) << cut << " ids";
  }
  std::string want = "[";
  for (size_t i = 0; i < ids.size(); ++i) want += (i ? "," : "") + std::to_string(ids[i]);
  want += "]";
  std::string got = "prefix";
  longctx::text::append_ids_json(got, ids);
  EXPECT_EQ(got, "prefix" + want);
  std::string scalar(ids.size() * 11 + 64, '\0');
  scalar.resize(longctx::text::write_ids_scalar(scalar.data(), ids.data(), ids.size()) - scalar.data());
  EXPECT_EQ("[" + scalar.substr(0, scalar.size() - 1) + "]", want);
  std::string empty;
  longctx::text::append_ids_json(empty, {});
  EXPECT_EQ(empty, "[]");
}

// Every id below 10^7, the vectorized kernel's whole domain, in order (each digit count, and each
// 4-digit half the kernel splits an id into), against std::to_chars.
TEST(FastPaths, IdsJsonEveryIdBelowTenMillion) {
  if (!longctx::text::avx512_text_kernels()) GTEST_SKIP() << "no AVX-512 VBMI2: the scalar writer is tested above";
  constexpr uint32_t kBlock = 1 << 16;
  std::vector<uint32_t> ids(kBlock);
  std::string got(kBlock * 11 + 64, '\0'), want(kBlock * 8, '\0');
  for (uint32_t from = 0; from < 10000000; from += kBlock) {
    const uint32_t n = std::min<uint32_t>(kBlock, 10000000 - from);
    char* w = want.data();
    for (uint32_t k = 0; k < n; ++k) {
      ids[k] = from + k;
      w = std::to_chars(w, want.data() + want.size(), from + k).ptr;
      *w++ = ',';
    }
    const char* end = longctx::text::write_ids(got.data(), ids.data(), n);
    ASSERT_EQ(std::string_view(got.data(), end - got.data()), std::string_view(want.data(), w - want.data()))
        << "ids from " << from;
  }
}

// The 64-byte join cut against the per-byte rule it replaces: bit i set exactly when the pair
// table has 0 for (p[i-1], p[i]); refused (false) whenever one of the 65 bytes is not ASCII.
// Random tables (dense and sparse) and random windows, some of ASCII letters only, some with a
// byte >= 0x80 at a random place (p[-1] included).
TEST(FastPaths, AsciiCutsEqualPerByteRule) {
  using longctx::tokenizer::Span;
  if (!longctx::text::avx512_text_kernels()) GTEST_SKIP() << "no AVX-512: the per-byte loop runs alone";
  std::mt19937_64 rng(17);
  std::vector<uint8_t> joins(128 * 128 + 3, 0);
  uint8_t window[65];
  for (int table = 0; table < 20; ++table) {
    const uint64_t density = rng() % 8;  // joinable with probability density / 8
    for (size_t k = 0; k < 128 * 128; ++k) joins[k] = (rng() % 8) < density;
    for (int trial = 0; trial < 2000; ++trial) {
      for (uint8_t& b : window) b = trial % 2 ? static_cast<uint8_t>(rng() % 128) : static_cast<uint8_t>('a' + rng() % 26);
      const bool poison = trial % 5 == 0;
      if (poison) window[rng() % 65] = static_cast<uint8_t>(0x80 + rng() % 128);
      uint64_t got = 0;
      const bool ok = longctx::tokenizer::ascii_cuts64(window + 1, joins.data(), &got);
      ASSERT_EQ(ok, !poison) << "table " << table << ", trial " << trial;
      if (!ok) {
        uint32_t start = 0;
        Span spans[80];
        ASSERT_EQ(longctx::tokenizer::ascii_cut_spans(window + 1, joins.data(), 64, &start, spans), -1);
        continue;
      }
      uint64_t want = 0;
      for (int i = 0; i < 64; ++i)
        if (!joins[window[i] * 128 + window[i + 1]]) want |= 1ULL << i;
      ASSERT_EQ(got, want) << "table " << table << ", trial " << trial;
      // The same cuts as pieces: {start, at + i} for each cut i, in order.
      const uint32_t at = static_cast<uint32_t>(rng() % 100000) + 64;
      uint32_t start = at - 1 - static_cast<uint32_t>(rng() % 64), want_start = start;
      std::vector<Span> spans(80), want_spans;
      for (int i = 0; i < 64; ++i)
        if ((want >> i) & 1) {
          want_spans.push_back(Span{want_start, at + i});
          want_start = at + i;
        }
      const int count = longctx::tokenizer::ascii_cut_spans(window + 1, joins.data(), at, &start, spans.data());
      ASSERT_EQ(count, static_cast<int>(want_spans.size())) << "table " << table << ", trial " << trial;
      for (int k = 0; k < count; ++k) {
        ASSERT_EQ(spans[k].begin, want_spans[k].begin) << "piece " << k << ", trial " << trial;
        ASSERT_EQ(spans[k].end, want_spans[k].end) << "piece " << k << ", trial " << trial;
      }
      ASSERT_EQ(start, want_start);
    }
  }
}

// The piece cache against a hash map. Up to kMaxSlots / 2 entries nothing is ever cleared, so
// every key must be found with its ids after the in-place doublings (4K to 2^19 slots); past
// that the cache clears when full, so a key may be missing but never answered wrongly, and one
// just inserted is always found.
TEST(FastPaths, StringIdMapEqualsMap) {
  using longctx::tokenizer::StringIdMap;
  using longctx::tokenizer::StringTable;
  std::mt19937_64 rng(29);
  // Keys of every length up to 20, many sharing their first 8 bytes and length (they differ only
  // past the head, where the map reads the table), some repeated (build reports the first repeat).
  std::vector<std::string> keys;
  for (int i = 0; i < 6000; ++i) {
    std::string k(rng() % 21, '\0');
    for (auto& c : k) c = static_cast<char>(rng() % 3 ? 'a' + rng() % 3 : rng() % 256);
    keys.push_back(k);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string k = keys[rng() % keys.size()];
    if (k.size() > 8 && rng() % 2) k[8 + rng() % (k.size() - 8)] ^= 1;  // same head, same length
    keys.push_back(k);
  }
  std::vector<std::string_view> views(keys.begin(), keys.end());
  const StringTable table(views);
  StringIdMap map;
  const uint32_t repeated = map.build(table);
  std::unordered_map<std::string, uint32_t> want;
  uint32_t want_repeated = StringIdMap::kNone;
  for (uint32_t id = 0; id < keys.size(); ++id) {
    if (keys[id].empty()) continue;
    if (!want.emplace(keys[id], id).second && want_repeated == StringIdMap::kNone) want_repeated = id;
  }
  EXPECT_EQ(repeated, want_repeated);
  for (const std::string& k : keys) {
    const auto it = want.find(k);
    EXPECT_EQ(map.find(k), it == want.end() ? StringIdMap::kNone : it->second) << "key of " << k.size() << " bytes";
    // A key that is not there: one byte changed, or one byte longer or shorter.
    for (std::string other : {k + "x", k.empty() ? std::string("y") : k.substr(0, k.size() - 1),
                              k.empty() ? std::string("z") : std::string(k).replace(rng() % k.size(), 1, "\x01")}) {
      const auto found = want.find(other);
      EXPECT_EQ(map.find(other), found == want.end() ? StringIdMap::kNone : found->second);
    }
  }
  // Small maps of keys that all share length and head, so that probes run through one another's
  // slots: only the bytes past the head tell them apart.
  for (int trial = 0; trial < 500; ++trial) {
    const size_t len = 9 + rng() % 12;
    std::string head(8, '\0');
    for (auto& c : head) c = static_cast<char>(rng() % 256);
    std::vector<std::string> same;
    for (int i = 0; i < 6; ++i) {
      std::string k = head;
      while (k.size() < len) k.push_back(static_cast<char>('a' + rng() % 2));
      same.push_back(k);
    }
    const std::vector<std::string_view> present(same.begin(), same.begin() + 3);
    const StringTable small_table(present);
    StringIdMap small;
    small.build(small_table);
    for (const std::string& k : same) {
      uint32_t id = StringIdMap::kNone;
      for (uint32_t j = 0; j < present.size() && id == StringIdMap::kNone; ++j)
        if (present[j] == k) id = j;
      ASSERT_EQ(small.find(k), id) << "trial " << trial << ", a key of " << len << " bytes";
    }
  }
  // head_of is the zero-padded little-endian first 8 bytes, at every length.
  for (size_t n = 0; n <= 12; ++n) {
    std::string k(n, '\0');
    for (auto& c : k) c = static_cast<char>(rng() % 256);
    uint64_t v = 0;
    for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(k[i])) << (8 * i);
    EXPECT_EQ(StringIdMap::head_of(k), v) << n << " bytes";
  }
}

TEST(FastPaths, PieceCacheEqualsMap) {
  using longctx::tokenizer::PieceCache;
  std::mt19937_64 rng(13);
  auto random_key = [&] {
    std::string k(1 + rng() % PieceCache::kMaxPieceBytes, '\0');  // inline (<= 16) and hashed keys
    for (auto& c : k) c = static_cast<char>(rng() % 4 ? 'a' + rng() % 26 : rng() % 256);
    return k;
  };
  auto padded = [](const std::string& k) { return k + std::string(PieceCache::kPad, '\xAB'); };
  // Many small caches first, each through three doublings: entries that wrapped around a
  // table's end when it doubles are uncommon, and moving them is the delicate part of growing in
  // place.
  for (int trial = 0; trial < 60; ++trial) {
    PieceCache small;
    std::unordered_map<std::string, uint32_t> keys;
    while (keys.size() < 4 * PieceCache::kInitialSlots - 1) {
      const std::string k = random_key();
      const auto id = static_cast<uint32_t>(keys.size());
      if (!keys.emplace(k, id).second) continue;
      const std::string p = padded(k);
      small.insert(PieceCache::make_key(std::string_view(p.data(), k.size())), &id, 1);
    }
    std::vector<uint32_t> ids;
    for (const auto& [k, id] : keys) {
      const std::string p = padded(k);
      ids.clear();
      ASSERT_TRUE(small.find(PieceCache::make_key(std::string_view(p.data(), k.size())), ids))
          << "trial " << trial << ": a key of " << k.size() << " bytes lost after growing";
      ASSERT_EQ(ids, std::vector<uint32_t>{id});
    }
  }
  std::unordered_map<std::string, std::vector<uint32_t>> want;
  std::vector<std::string> order;
  PieceCache cache;
  std::vector<uint32_t> got;
  auto lookup = [&](const std::string& k) {
    const std::string p = padded(k);
    got.clear();
    return cache.find(PieceCache::make_key(std::string_view(p.data(), k.size())), got);
  };
  auto check_all = [&](bool must_find) {
    for (const std::string& k : order) {
      const bool found = lookup(k);
      if (must_find) {
        ASSERT_TRUE(found) << "key of " << k.size() << " bytes lost after growing";
      }
      if (found) {
        ASSERT_EQ(got, want[k]) << "key of " << k.size() << " bytes";
      }
    }
  };
  const size_t unclearable = PieceCache::kMaxSlots / 2 - 1;
  while (want.size() < 3 * PieceCache::kMaxSlots / 2) {
    const std::string k = random_key();
    if (want.count(k)) continue;
    std::vector<uint32_t> ids(1 + rng() % 4);  // one or two ids inline, more in the arena
    for (auto& id : ids) id = static_cast<uint32_t>(rng() % 300000);
    const std::string p = padded(k);
    cache.insert(PieceCache::make_key(std::string_view(p.data(), k.size())), ids.data(), ids.size());
    want[k] = ids;
    order.push_back(k);
    ASSERT_TRUE(lookup(k)) << "entry " << want.size();
    ASSERT_EQ(got, ids);
    if (want.size() == unclearable) check_all(true);
  }
  check_all(false);
}

}  // namespace
