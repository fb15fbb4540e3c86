// Reads packed outputs back (every layout pack writes): sequence by sequence, tokens and spans.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace longctx::pack {

struct Span {
  uint64_t doc;
  uint32_t doc_offset, start, end;
  uint16_t domain;
};

class PackedReader {
 public:
  // Throws Error naming the file for anything missing or inconsistent with manifest.json.
  explicit PackedReader(const std::string& dir);
  ~PackedReader();
  uint64_t sequences() const;
  uint64_t seq_len() const;
  const std::vector<std::string>& domains() const;
  const std::string& store_dir() const;  // the store the data was packed from, resolved (may be gone)
  const std::string& store_recorded() const;  // ... as manifest.json records it (relative to DIR)
  // The next sequence in file order; false at the end. LABEL (optional): the token after the
  // sequence where the output holds it in the same row or shard (jsonl's "labels", the next
  // token of a binary shard, its closing label token), else -1.
  bool next(std::vector<uint32_t>& tokens, std::vector<Span>& spans, int64_t* label = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace longctx::pack
