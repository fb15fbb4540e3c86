// Packing: a plan's entries, shuffled (seeded), concatenated and cut into fixed-length sequences
// (the paper's packer), or placed whole by best fit (--align-docs), written in the formats
// trainers load. Every sequence keeps the spans of the documents in it and their domains.
// Layouts: docs/formats/packed.md.
#pragma once

#include <cstdint>
#include <string>

namespace longctx::pack {

struct PackOptions {
  std::string plan_dir;
  std::string out;
  std::string format;        // jsonl | jsonl.zst | megatron | megatron-docs | llmc | flat
  uint64_t seq_len = 0;      // 0 only for megatron-docs (Megatron packs with its own --seq-length)
  uint64_t seed = 0;
  bool seed_given = false;   // else the plan's seed
  bool align_docs = false;   // documents never cross a sequence edge (best fit), padded
  int64_t pad_id = -1;       // >= 0: pad the last partial sequence (and aligned ones) with this id
  uint64_t shard_sequences = 0;  // sequences per output shard (0: about 128M tokens per shard)
  // Emit a multiple of this many sequences, every shard a multiple too (llm.c: B x processes, so
  // its loader serves every sequence); the rest is dropped like the tail. 0: no constraint.
  uint64_t batch_sequences = 0;
  int64_t eos_id = -1;       // megatron-docs: >= 0 appends this token after every document
  int threads = 1;
  // Array tasks (Slurm, MPI ranks): task_id writes shards task_id, task_id + task_count, ...; the
  // output of all tasks is byte-identical to one process's.
  uint64_t task_id = 0, task_count = 1;
};

struct PackSummary {
  uint64_t sequences = 0, tokens = 0, real_tokens = 0, shards = 0, dropped_tokens = 0, bytes = 0;
  double seconds = 0;
  bool pending = false;  // array task: other tasks still to finish (manifest not written yet)
};

// Throws Error for options that cannot go together (no file is read): what pack() checks first,
// and what prepare checks before any stage runs.
void check_options(const PackOptions& options);

PackSummary pack(const PackOptions& options);

// After every array task has written its shards: writes the manifest if no task has yet
// (under MPI, rank 0 after a barrier). Idempotent.
PackSummary finish_tasks(const PackOptions& options);

// Re-reads DIR (a store, a plan or a packed output) and checks it against its manifest: sizes,
// hashes, counts. Returns a one-line description; throws Error on the first mismatch.
std::string verify(const std::string& dir);

}  // namespace longctx::pack
