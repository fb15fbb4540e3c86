// A bare `.jsonl` / `.jsonl.zst` / `.jsonl.gz` file in the paper's released schema, read as packed
// data (train --data, eval-loss --data) without a longctx pack folder around it:
//   {"input_ids": [L ints], "labels": INT or [L ints], "source": [{"source": NAME, "start": i, "end": j}, ...]}
// The whole file is validated on open (one streaming pass: every row an object, input_ids of one
// length L with ids in [0, 2^32), labels the next token or L ids, spans 0 <= start < end <= L in
// order and not overlapping); errors are one line `FILE:LINE: expected ..., found ...`. Domains are
// the spans' source names (in first-seen order), and each span is its own document (`doc` = the
// span's index in the file), so document lengths are span lengths.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "longctx/pack/reader.h"

namespace longctx::pack {

// True when PATH names a file (not a folder): what PackedReader reads as a bare JSONL file.
bool is_bare_jsonl(const std::string& path);

class BareJsonlReader {
 public:
  explicit BareJsonlReader(const std::string& path);  // validates the whole file; throws Error
  ~BareJsonlReader();
  uint64_t sequences() const;
  uint64_t seq_len() const;
  const std::vector<std::string>& domains() const;
  // The next row in file order; false at the end.
  bool next(std::vector<uint32_t>& tokens, std::vector<Span>& spans);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace longctx::pack
