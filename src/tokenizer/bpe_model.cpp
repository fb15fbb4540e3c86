#include "bpe_model.h"

#include "bpe_backtrack.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <queue>
#include <thread>

#include "longctx/text/utf8.h"
#include "longctx/util/error.h"

namespace longctx::tokenizer {

BpeModel::BpeModel(StringTable token_bytes, std::vector<MergeRule> merges, BpeOptions options,
                   const std::string& origin, StringIdMap* index, uint32_t repeated)
    : token_bytes_(std::move(token_bytes)), options_(options) {
  if (index) vocab_ = std::move(*index);
  else repeated = vocab_.build(token_bytes_);
  if (repeated != StringIdMap::kNone)
    throw Error(origin + ": model.vocab: two ids for one token (second id " + std::to_string(repeated) + ")");
  for (uint32_t id = 0; id < token_bytes_.size(); ++id) {
    const std::string_view t = token_bytes_[id];
    if (t.empty()) continue;
    max_token_bytes_ = std::max(max_token_bytes_, t.size());
    if (options_.ignore_merges) token_filter_.add(hash_bytes(t));
  }
  merges_.reserve(merges.size());
  constexpr uint32_t kAhead = 16;  // prefetch distance: the table is far larger than the caches
  for (uint32_t rank = 0; rank < merges.size(); ++rank) {
    if (rank + kAhead < merges.size()) merges_.prefetch_for_insert(pair_key(merges[rank + kAhead].left, merges[rank + kAhead].right));
    const MergeRule& m = merges[rank];
    // HF keeps the first rank of a repeated merge; so do we.
    merges_.insert(pair_key(m.left, m.right), Merge{rank, m.result});
    merge_filter_.add(mix64(pair_key(m.left, m.right)));
  }
  merge_count_ = merges.size();
  rules_.adopt(std::move(merges));
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    byte_ids_[b] = (options_.byte_level || b < 128) ? vocab_.find(std::string_view(&c, 1)) : StringIdMap::kNone;
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    fallback_ids_[b] = options_.byte_fallback ? vocab_.find(name) : StringIdMap::kNone;
  }
  // Backtracking needs unknown characters to be barriers: byte-level vocabularies cover every
  // byte; SentencePiece-style ones need complete byte fallback that no merge touches.
  backtrack_usable_ = true;
  for (int b = 0; b < 256; ++b) {
    if (options_.byte_level ? byte_ids_[b] == StringIdMap::kNone : fallback_ids_[b] == StringIdMap::kNone)
      backtrack_usable_ = false;
  }
  build_symbol_pairs();
  if (backtrack_usable_ && !options_.byte_level) {
    std::vector<uint8_t> barrier(token_bytes_.size(), 0);
    for (int b = 0; b < 256; ++b) barrier[fallback_ids_[b]] = 1;
    if (options_.unk_id != StringIdMap::kNone) barrier[options_.unk_id] = 1;
    for (const MergeRule& m : rules_)
      if (barrier[m.left] || barrier[m.right]) backtrack_usable_ = false;
  }
}

void BpeModel::build_symbol_pairs() {
  // The symbols with a small index: byte-level, every byte's (all 256 must be there, or symbols
  // are not one per byte); otherwise each ASCII character's and "▁"'s, where they are tokens.
  uint32_t ids[256];
  int count = 0;
  if (options_.byte_level) {
    for (int b = 0; b < 256; ++b) {
      if (byte_ids_[b] == StringIdMap::kNone) return;
      ids[count++] = byte_ids_[b];
    }
  } else {
    for (int b = 0; b < 128; ++b) ids[count++] = byte_ids_[b];
    ids[count++] = vocab_.find(kMetaspace);
  }
  std::vector<int16_t> small_of(token_bytes_.size(), -1);  // the merge list names ids
  for (int k = 0; k < count; ++k)
    if (ids[k] != StringIdMap::kNone) small_of[ids[k]] = static_cast<int16_t>(k);
  std::vector<MergeValue> table(size_t{1} << 16, MergeValue{kNoRank, 0});
  for (uint32_t rank = 0; rank < rules_.size(); ++rank) {
    const MergeRule& r = rules_[rank];
    const int x = small_of[r.left], y = small_of[r.right];
    if (x < 0 || y < 0) continue;
    MergeValue& v = table[x << 8 | y];
    if (v.rank == kNoRank) v = MergeValue{rank, r.result};  // the first rank of a repeated merge, as merges_
  }
  symbol_pairs_.adopt(std::move(table));
}

BpeModel::BpeModel() = default;
BpeModel::~BpeModel() = default;

const BpeBacktrack* BpeModel::backtrack() const {
  if (const BpeBacktrack* ready = backtrack_ready_.load(std::memory_order_acquire)) return ready;
  if (backtrack_claimed_.exchange(true)) return nullptr;  // another thread is building
  backtrack_ = std::make_unique<BpeBacktrack>(*this);
  backtrack_ready_.store(backtrack_.get(), std::memory_order_release);
  return backtrack_.get();
}

void BpeModel::encode_word_backtrack(std::string_view word, std::vector<uint32_t>& out, BpeScratch& scratch) const {
  const BpeBacktrack* ready = backtrack();
  while (!ready) {  // only the test hook waits; encode_word falls back instead
    std::this_thread::yield();
    ready = backtrack_ready_.load(std::memory_order_acquire);
  }
  const BpeBacktrack& bt = *ready;
  const char* p = word.data();
  const char* end = p + word.size();
  const char* run = p;  // start of the current run of known symbols
  while (p < end) {
    int len;
    if (bt.symbol_at(p, end, &len) != BpeBacktrack::kNone) {
      p += len;
      continue;
    }
    if (p > run) bt.encode(std::string_view(run, p - run), out, scratch);
    for (int k = 0; k < len; ++k) out.push_back(fallback_ids_[static_cast<uint8_t>(p[k])]);
    p += len;
    run = p;
  }
  if (p > run) bt.encode(std::string_view(run, p - run), out, scratch);
}

void BpeModel::initial_symbols(std::string_view word, std::vector<uint32_t>& symbols,
                               std::vector<uint8_t>* small) const {
  symbols.clear();
  if (small) small->clear();
  const char* p = word.data();
  const char* end = p + word.size();
  bool pending_unk = false;  // the last symbol is an <unk> that fuse_unk may extend
  while (p < end) {
    int len = 1;
    uint32_t id;
    if (options_.byte_level) {
      id = byte_ids_[static_cast<uint8_t>(*p)];
    } else {
      len = text::utf8_len(static_cast<uint8_t>(*p));
      if (len > end - p) len = static_cast<int>(end - p);
      id = len == 1 ? byte_ids_[static_cast<uint8_t>(*p)] : vocab_.find(std::string_view(p, len));
    }
    if (id != StringIdMap::kNone) {
      symbols.push_back(id);
      if (small) {
        const bool metaspace = len == 3 && std::string_view(p, 3) == kMetaspace;
        small->push_back(len == 1 ? static_cast<uint8_t>(*p) : metaspace ? 128 : kNoSmall);
      }
      pending_unk = false;
    } else {
      bool all_bytes = options_.byte_fallback;
      for (int k = 0; k < len && all_bytes; ++k)
        all_bytes = fallback_ids_[static_cast<uint8_t>(p[k])] != StringIdMap::kNone;
      if (all_bytes) {
        for (int k = 0; k < len; ++k) symbols.push_back(fallback_ids_[static_cast<uint8_t>(p[k])]);
        if (small) small->insert(small->end(), len, kNoSmall);
        pending_unk = false;
      } else if (options_.unk_id != StringIdMap::kNone) {
        if (!(pending_unk && options_.fuse_unk)) {
          symbols.push_back(options_.unk_id);
          if (small) small->push_back(kNoSmall);
        }
        pending_unk = true;
      }
      // No <unk> configured: HF drops the character; so do we.
    }
    p += len;
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<uint32_t>& out, BpeScratch& s) const {
  if (options_.ignore_merges && word.size() <= max_token_bytes_) {
    const uint64_t h = hash_bytes(word);
    if (token_filter_.may_contain(h)) {
      const uint32_t id = vocab_.find(word, h);
      if (id != StringIdMap::kNone) {
        out.push_back(id);
        return;
      }
    }
  }
  if (word.size() >= kBacktrackMinBytes && backtrack_usable_ && backtrack()) {
    encode_word_backtrack(word, out, s);
    return;
  }
  const bool small = !symbol_pairs_.empty() && !options_.byte_level;
  initial_symbols(word, s.symbols, small ? &s.small : nullptr);
  if (s.symbols.size() <= kLinearMergeMax) {
    merge_linear(word, s, out);
  } else {
    merge_heap(s.symbols, s, out);
  }
}

// The merges of the pairs (sym[at[k]], sym[at[k] + 1]) for k < count, into rank[at[k]] and
// result[at[k]]: what lookup() gives, in three passes over the batch so that the cache misses of
// different pairs overlap instead of coming one after another (the merge table of a 128K vocabulary
// is beyond L2, and a word seen for the first time asks about pairs no cache holds).
void BpeModel::lookup_pairs(const uint32_t* sym, const uint32_t* at, size_t count, uint32_t* rank,
                            uint32_t* result, PairCache& cache) const {
  uint64_t key[kLinearMergeMax], hash[kLinearMergeMax];
  size_t slot[kLinearMergeMax];
  for (size_t k = 0; k < count; ++k) {
    key[k] = pair_key(sym[at[k]], sym[at[k] + 1]);
    hash[k] = mix64(key[k]);
    slot[k] = cache.slot_of(hash[k]);
    cache.prefetch(slot[k]);
  }
  size_t pending = 0;
  uint32_t miss[kLinearMergeMax];
  for (size_t k = 0; k < count; ++k) {
    if (const MergeValue* v = cache.at(slot[k], key[k])) {
      rank[at[k]] = v->rank;
      result[at[k]] = v->result;
    } else {
      merge_filter_.prefetch(hash[k]);
      merges_.prefetch_hashed(hash[k]);
      miss[pending++] = static_cast<uint32_t>(k);
    }
  }
  for (size_t j = 0; j < pending; ++j) {
    const size_t k = miss[j];
    const MergeValue v = merge_value(key[k], hash[k]);
    cache.put(slot[k], key[k], v);
    rank[at[k]] = v.rank;
    result[at[k]] = v.result;
  }
}

// Linear scan: keep the rank of every adjacent pair; repeatedly merge the lowest (leftmost on ties)
// and recompute only the two pairs that changed. O(n^2) but n is small and everything is in cache.
void BpeModel::merge_linear(std::string_view word, BpeScratch& s, std::vector<uint32_t>& out) const {
  std::vector<uint32_t>& sym = s.symbols;
  size_t n = sym.size();
  if (n > 1) {
    s.ranks.resize(n);
    s.results.resize(n);
    uint32_t* rank = s.ranks.data();
    uint32_t* result = s.results.data();
    static constexpr auto kIota = [] {
      std::array<uint32_t, kLinearMergeMax> a{};
      for (uint32_t i = 0; i < kLinearMergeMax; ++i) a[i] = i;
      return a;
    }();
    if (symbol_pairs_.empty()) {
      lookup_pairs(sym.data(), kIota.data(), n - 1, rank, result, s.pairs);
    } else if (options_.byte_level) {  // symbol i is byte i of the word, its small index
      const auto* w = reinterpret_cast<const uint8_t*>(word.data());
      for (size_t i = 0; i + 1 < n; ++i) {
        const MergeValue v = symbol_pairs_[w[i] << 8 | w[i + 1]];
        rank[i] = v.rank;
        result[i] = v.result;
      }
    } else {  // pairs of two small symbols from the table, the others (rare) looked up
      const uint8_t* small = s.small.data();
      uint32_t other[kLinearMergeMax];
      size_t others = 0;
      for (size_t i = 0; i + 1 < n; ++i) {
        if (small[i] == kNoSmall || small[i + 1] == kNoSmall) {
          other[others++] = static_cast<uint32_t>(i);
          continue;
        }
        const MergeValue v = symbol_pairs_[small[i] << 8 | small[i + 1]];
        rank[i] = v.rank;
        result[i] = v.result;
      }
      if (others) lookup_pairs(sym.data(), other, others, rank, result, s.pairs);
    }
    while (n > 1) {
      size_t best = 0;
      for (size_t i = 1; i + 1 < n; ++i)
        if (rank[i] < rank[best]) best = i;
      if (rank[best] == kNoRank) break;
      sym[best] = result[best];
      // Remove symbol best+1 and pair best+1 (pair best is recomputed below).
      std::copy(sym.begin() + best + 2, sym.begin() + n, sym.begin() + best + 1);
      if (best + 2 < n - 1) {
        std::copy(rank + best + 2, rank + n - 1, rank + best + 1);
        std::copy(result + best + 2, result + n - 1, result + best + 1);
      }
      --n;
      // The pairs on either side of the merged symbol changed: look both up together.
      uint32_t changed[2];
      size_t count = 0;
      if (best > 0) changed[count++] = static_cast<uint32_t>(best - 1);
      if (best + 1 < n) changed[count++] = static_cast<uint32_t>(best);
      lookup_pairs(sym.data(), changed, count, rank, result, s.pairs);
    }
  }
  out.insert(out.end(), sym.begin(), sym.begin() + n);
}

// Heap over pairs keyed (rank, position): the leftmost lowest-rank pair pops first. Entries go
// stale when a neighbour merges; a popped entry is used only if its pair still yields the same
// merge, as HF checks.
void BpeModel::merge_heap(std::vector<uint32_t>& sym, BpeScratch& s, std::vector<uint32_t>& out) const {
  const int32_t n = static_cast<int32_t>(sym.size());
  s.prev.resize(n);
  s.next.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    s.prev[i] = i - 1;
    s.next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto& heap = s.heap;
  heap.clear();
  auto push = [&](int32_t i) {
    const Merge* m = find_merge(sym[i], sym[s.next[i]]);
    if (!m) return;
    heap.push_back((static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(i));
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  };
  for (int32_t i = 0; i + 1 < n; ++i) {
    const Merge* m = find_merge(sym[i], sym[i + 1]);
    if (m) heap.push_back((static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(i));
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  constexpr uint32_t kDead = ~0u;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto i = static_cast<int32_t>(top & 0xffffffffu);
    const auto rank = static_cast<uint32_t>(top >> 32);
    if (sym[i] == kDead || s.next[i] < 0) continue;
    const int32_t j = s.next[i];
    const Merge* m = find_merge(sym[i], sym[j]);
    if (!m || m->rank != rank) continue;  // stale
    sym[i] = m->result;
    sym[j] = kDead;
    s.next[i] = s.next[j];
    if (s.next[i] >= 0) s.prev[s.next[i]] = i;
    if (s.prev[i] >= 0) push(s.prev[i]);
    if (s.next[i] >= 0) push(i);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = s.next[i]) out.push_back(sym[i]);
}

void BpeModel::encode_word_reference(std::string_view word, std::vector<uint32_t>& out) const {
  if (options_.ignore_merges) {
    const uint32_t id = vocab_.find(word);
    if (id != StringIdMap::kNone) {
      out.push_back(id);
      return;
    }
  }
  BpeScratch s;
  initial_symbols(word, s.symbols);
  if (s.symbols.empty()) return;
  merge_heap(s.symbols, s, out);
}

}  // namespace longctx::tokenizer
