// Random access to a packed output (every layout pack writes, or a bare .jsonl file): sequence i's
// tokens, spans and label token, for data loaders that pick sequences in any order (the Python
// package's PackedDataset) instead of PackedReader's one pass in file order.
//
// The binary layouts (flat, megatron, llmc) are memory-mapped shard by shard when first touched:
// tokens(i) points into the page cache and nothing is copied. The text layouts (jsonl,
// jsonl.zst, a bare JSONL file) cannot be addressed by offset; they are decoded whole, once, into
// memory (4 bytes a token) on first access, which is what their use for CPU-scale data allows.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "longctx/pack/reader.h"

namespace longctx::pack {

class PackedIndex {
 public:
  // Throws Error naming the file for anything missing or inconsistent with manifest.json.
  explicit PackedIndex(const std::string& path);
  ~PackedIndex();

  uint64_t sequences() const;
  uint64_t seq_len() const;
  const std::string& layout() const;  // flat | megatron | llmc | jsonl | jsonl.zst | bare-jsonl
  const std::vector<std::string>& domains() const;
  // Bytes per token of tokens(): 2 (uint16) or 4 (int32; always 4 for the text layouts, as uint32).
  unsigned token_width() const;
  int64_t pad_id() const;  // -1 when the output is not padded

  // Sequence i's seq_len() tokens, little-endian of token_width() bytes. Binary layouts: a view of
  // the mapped shard, valid while this index lives. Throws Error for i out of range.
  const char* tokens(uint64_t i);
  // The true token after sequence i, or -1 where there is none (a padded output's last sequence,
  // --align-docs, flat's very last sequence, a bare JSONL file).
  int64_t label(uint64_t i);
  // Sequence i's document spans, in order (start, end within the sequence).
  void spans(uint64_t i, std::vector<Span>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mu_;  // lazy mapping and decoding: one index may serve several threads
};

}  // namespace longctx::pack
