// Byte-pair encoding of one pre-tokenized word, exactly as Hugging Face tokenizers' BPE model does
// it (Sennrich et al. 2016; HF `models/bpe`): split the word into characters (or bytes, for
// byte-level vocabularies), map unknown characters to byte-fallback tokens or <unk>, then apply
// merges lowest rank first, leftmost first among equal ranks, until none applies.
//
// Words arrive in "model space": for SentencePiece-style vocabularies the normalized UTF-8 text
// (spaces already "▁"); for byte-level vocabularies the raw bytes (the GPT-2 byte→character map is
// undone once, on the vocabulary, at load).
#pragma once

#include <cstdint>
#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hash.h"
#include "pair_cache.h"

namespace longctx::tokenizer {

class BpeBacktrack;

struct BpeOptions {
  bool byte_level = false;     // initial symbols are single bytes, not UTF-8 characters
  bool byte_fallback = false;  // unknown characters become <0xXX> tokens
  bool fuse_unk = false;       // consecutive unknowns become one <unk>
  bool ignore_merges = false;  // a word that is itself a token is emitted without merging
  uint32_t unk_id = StringIdMap::kNone;
};

struct MergeRule {
  uint32_t left, right, result;  // token ids; rank = position in the list
};

// Reusable buffers; one per thread.
struct BpeScratch {
  std::vector<uint32_t> symbols;
  std::vector<uint32_t> ranks;
  std::vector<uint32_t> results;
  std::vector<uint8_t> small;  // small index of each symbol (BpeModel::symbol_pairs_)
  std::vector<int32_t> prev, next;
  std::vector<uint64_t> heap;
  // Backtracking encoder: its stack, dead positions, and a direct-mapped memo of pair checks.
  std::vector<uint32_t> stack;
  std::vector<uint64_t> dead;
  std::vector<uint64_t> pair_memo;
  PairCache pairs;
};

class BpeModel {
 public:
  static constexpr uint32_t kNoRank = ~0u;
  // Words with more initial symbols than this use the heap; shorter ones a linear scan, which
  // touches less memory (tiktoken switches at a similar size).
  static constexpr size_t kLinearMergeMax = 48;
  // Words of at least this many bytes use the backtracking encoder (bpe_backtrack.h) when the
  // vocabulary allows it.
  static constexpr size_t kBacktrackMinBytes = 48;

  // token_bytes[id] is the token in model space ("" for ids the model does not own, such as added
  // tokens outside its vocabulary). Throws Error naming `origin` on duplicate tokens. `index`, if
  // given, is an index of token_bytes the caller already built (StringIdMap::build returned
  // `repeated`), taken over instead of building another.
  BpeModel(StringTable token_bytes, std::vector<MergeRule> merges, BpeOptions options, const std::string& origin,
           StringIdMap* index = nullptr, uint32_t repeated = StringIdMap::kNone);
  ~BpeModel();

  // Appends the token ids of `word`.
  void encode_word(std::string_view word, std::vector<uint32_t>& out, BpeScratch& scratch) const;

  // The same result by the plainest algorithm (a heap over every pair, as HF's Word::merge_all);
  // the oracle that tests hold the fast paths to.
  void encode_word_reference(std::string_view word, std::vector<uint32_t>& out) const;

  uint32_t token_id(std::string_view bytes) const { return vocab_.find(bytes); }
  // Byte-level models: the symbol of one byte (kNone if missing).
  uint32_t byte_id(uint8_t b) const { return byte_ids_[b]; }
  std::string_view token_bytes(uint32_t id) const { return token_bytes_[id]; }
  size_t size() const { return token_bytes_.size(); }
  const BpeOptions& options() const { return options_; }

  // Rank and result of merging (left, right), or nullptr.
  struct Merge {
    uint32_t rank, result;
  };
  const Merge* find_merge(uint32_t left, uint32_t right) const { return merges_.find(pair_key(left, right)); }
  // The same through a per-thread cache; rank kNoRank when there is no such merge.
  MergeValue lookup(uint32_t left, uint32_t right, PairCache& cache) const {
    const uint64_t key = pair_key(left, right), h = mix64(key);
    const size_t slot = cache.slot_of(h);
    if (const MergeValue* v = cache.at(slot, key)) return *v;
    const MergeValue v = merge_value(key, h);
    cache.put(slot, key, v);
    return v;
  }
  // The merge of pair key (h = mix64(key)) from the tables, no cache: most pairs asked about have
  // none, and the Bloom filter (in L2) says so before the merge table is read.
  MergeValue merge_value(uint64_t key, uint64_t h) const {
    const Merge* m = merge_filter_.may_contain(h) ? merges_.find(key, h) : nullptr;
    return m ? MergeValue{m->rank, m->result} : MergeValue{kNoRank, 0};
  }
  size_t merge_count() const { return merge_count_; }
  // The merge list in rank order (rank = index), as given.
  std::span<const MergeRule> merge_rules() const { return rules_.span(); }

  // Whether long words may use the backtracking encoder: every character is either a symbol or
  // falls back to byte tokens that no merge involves (so unknown characters are barriers).
  bool backtrack_usable() const { return backtrack_usable_; }
  // Builds the backtracking tables now (Tokenizer::load does, so that no encode pays for it).
  void prepare_backtrack() const {
    if (backtrack_usable_) backtrack();
  }
  // Test hook: the same word through the backtracking encoder, whatever its length.
  void encode_word_backtrack(std::string_view word, std::vector<uint32_t>& out, BpeScratch& scratch) const;

 private:
  friend struct CacheCodec;  // tokenizer_cache.cpp stores and restores the tables
  BpeModel();  // empty, for CacheCodec to fill

  // The backtracking tables, built by the first thread that needs them; nullptr while another
  // thread is building them (the caller then uses the heap, which gives the same result).
  const BpeBacktrack* backtrack() const;
  // The word's initial symbols; with `small`, also each one's small index (symbol_pairs_) or kNoSmall.
  void initial_symbols(std::string_view word, std::vector<uint32_t>& symbols, std::vector<uint8_t>* small = nullptr) const;
  void build_symbol_pairs();
  void merge_linear(std::string_view word, BpeScratch& s, std::vector<uint32_t>& out) const;
  void lookup_pairs(const uint32_t* sym, const uint32_t* at, size_t count, uint32_t* rank, uint32_t* result,
                    PairCache& cache) const;
  void merge_heap(std::vector<uint32_t>& symbols, BpeScratch& s, std::vector<uint32_t>& out) const;

  StringTable token_bytes_;
  StringIdMap vocab_;
  FlatMap64<Merge> merges_;
  FlatArray<MergeRule> rules_;
  size_t merge_count_ = 0;
  size_t max_token_bytes_ = 0;  // no word longer than this is a token (ignore_merges shortcut)
  TokenFilter token_filter_;  // in front of the vocabulary (ignore_merges models)
  BloomFilter merge_filter_;  // most pairs asked about have no merge: answered from L2
  BpeOptions options_;
  // The merge of every two "small" symbols, indexed by (first's index << 8 | second's): the first
  // lookups of every word BPE encodes (one per adjacent pair of its symbols) read this 512 KB
  // table, with no hash, no probe and no miss to the merge table. Small symbols: byte-level, each
  // byte's (index = the byte); otherwise each ASCII character's (index = the byte) and "▁"'s
  // (index 128). Empty for a byte-level vocabulary that lacks a byte.
  FlatArray<MergeValue> symbol_pairs_;
  static constexpr uint8_t kNoSmall = 255;  // initial_symbols: a symbol with no small index
  static constexpr std::string_view kMetaspace = "\xE2\x96\x81";
  uint32_t byte_ids_[256] = {};      // byte-level: id of each byte; otherwise id of each ASCII character
  uint32_t fallback_ids_[256] = {};  // id of "<0xXX>" for each byte, or kNone
  bool backtrack_usable_ = false;
  mutable std::atomic<bool> backtrack_claimed_{false};
  mutable std::atomic<const BpeBacktrack*> backtrack_ready_{nullptr};
  mutable std::unique_ptr<BpeBacktrack> backtrack_;  // built on first use, shared by all threads
};

}  // namespace longctx::tokenizer
