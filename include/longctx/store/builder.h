// Builds a store in DIR/.partial/ and moves it into DIR when complete, checkpointing on the way so
// that a killed build resumes where its last checkpoint left it and ends byte-identical to one
// that never stopped.
//
// .partial/ holds data.bin (token ids), sizes.bin (int32 per document), docs.bin (DocRecords) and
// state.json: the checkpoint (the three file sizes, the caller's position in its inputs and the
// manifest so far). Files are appended to; a checkpoint syncs them, then replaces state.json
// atomically; a resume truncates them back to the sizes state.json records.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>

#include "longctx/store/store.h"

namespace longctx::store {

// Where the producer is in its inputs: input index, and (inside a line-oriented input) bytes of
// decompressed text and lines consumed.
struct Position {
  uint64_t input = 0, bytes = 0, lines = 0;
};

class StoreBuilder {
 public:
  // Starts DIR/.partial/, or resumes it when its state.json carries the same fingerprint (a hash of
  // everything that decides the store's content). Throws Error when DIR already holds a complete
  // store (unless it has the same fingerprint: then done() is true and nothing is to be done), or
  // when .partial/ belongs to a run with other arguments.
  StoreBuilder(std::string dir, std::string fingerprint, Manifest initial);
  ~StoreBuilder();
  StoreBuilder(const StoreBuilder&) = delete;
  StoreBuilder& operator=(const StoreBuilder&) = delete;

  bool done() const { return done_; }
  bool resumed() const { return resumed_; }
  const Position& position() const { return position_; }
  Manifest& manifest() { return manifest_; }

  // Index of a domain by name, added (in order of first appearance) when new.
  uint16_t domain_index(std::string_view name);
  // Appends one document: its tokens as stored (token_bytes(type) each) and its origin. Updates
  // the manifest's totals and domain counts; the caller keeps the per-input counts.
  void add(std::string_view token_bytes, uint32_t tokens, const DocRecord& record);
  // Appends a document of `tokens` zero ids without writing them: data.bin is extended (a hole on
  // filesystems with sparse files). For tests and benchmarks that need offsets past 2^32 without
  // gigabytes of disk (tests/mix/test_boundary_2_32.py).
  void add_zeros(uint32_t tokens, const DocRecord& record);
  // Makes everything added so far durable and records pos as the place to resume from.
  void checkpoint(const Position& pos);
  // Writes data.idx, hashes the files, writes the manifest and moves everything into DIR.
  void finish();

 private:
  void open_files(bool truncate_to_state);
  void append_record(uint32_t tokens, const DocRecord& record);
  void sync_files();
  void move_into_place();

  std::string dir_, partial_, fingerprint_;
  Manifest manifest_;
  Position position_;
  bool done_ = false, resumed_ = false;
  FILE* bin_ = nullptr;
  FILE* sizes_ = nullptr;
  FILE* docs_ = nullptr;
  uint64_t bin_bytes_ = 0, docs_count_ = 0;
  std::unordered_map<std::string, uint16_t> domain_ids_;
  int lock_fd_ = -1;
  int checkpoints_ = 0, docs_after_kill_checkpoint_ = 0;  // for the kill test hook
};

}  // namespace longctx::store
