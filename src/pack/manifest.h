// What the packed-output readers (PackedReader: one pass; PackedIndex: random access) take from
// manifest.json, and the mapping of one binary shard with its sidecar, checked against it. One
// place, so that both readers accept and refuse the same outputs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "longctx/util/mmap.h"

namespace longctx::pack {

struct PackedManifest {
  std::string dir, layout, store, store_recorded;
  uint64_t L = 0, S = 0, width = 2, version = 1;
  int64_t pad_id = -1;
  bool align_docs = false;
  std::vector<std::string> domains;
  std::vector<std::pair<std::string, uint64_t>> shards;  // name, sequences

  bool text() const { return layout == "jsonl" || layout == "jsonl.zst"; }
};

// DIR/manifest.json of a packed output; throws Error naming it (a megatron-docs output is refused:
// it holds documents, not packed sequences).
PackedManifest read_packed_manifest(const std::string& dir);

struct ShardFiles {
  MappedFile tokens, spans, offsets;  // tokens: not mapped for the text layouts
  uint64_t token_offset = 0;          // bytes before the first token (llm.c's header)
};

// Shard K's files, with sizes checked against the manifest.
ShardFiles map_shard(const PackedManifest& m, size_t k);

}  // namespace longctx::pack
