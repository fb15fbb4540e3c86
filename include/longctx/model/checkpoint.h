// Content hashes for the folders `longctx train` writes (OUT/ and OUT/checkpoint-STEP/), so a run
// that reads its own output back (train --resume, --init, the engine, verify) finds corruption
// instead of training on it. DIR/checkpoint.json:
//   {"format": "longctx-checkpoint", "format_version": 1,
//    "files": {"config.json": {"bytes": N, "xxh128": "32 hex digits"}, "model.safetensors": {...}, ...}}
// XXH3-128 as every longctx manifest (`xxhsum -H2 FILE` prints the same digits). It is written
// last, after every file it lists.
#pragma once

#include <string>
#include <vector>

namespace longctx::model {

// Hashes FILES (names inside DIR) and writes DIR/checkpoint.json atomically.
void write_checkpoint_manifest(const std::string& dir, const std::vector<std::string>& files);

// True when DIR/checkpoint.json exists.
bool has_checkpoint_manifest(const std::string& dir);

// Checks every file DIR/checkpoint.json lists (size, then XXH3-128), except optimizer.safetensors
// when with_optimizer is false (the engine never reads it). Throws Error naming the first bad
// file: "DIR/FILE: corrupted: XXH3-128 ... differs from checkpoint.json's ...". Returns the number
// of files and bytes checked. Does nothing when there is no checkpoint.json (a folder from
// elsewhere: Hugging Face, or written before checkpoints carried hashes).
struct CheckpointCheck {
  uint64_t files = 0, bytes = 0;
};
CheckpointCheck verify_checkpoint(const std::string& dir, bool with_optimizer = true);

// The engine's check before loading weights (Model::load, train --init): verify_checkpoint without
// the optimizer, unless LONGCTX_SKIP_CHECKPOINT_HASH=1 (then sizes only).
void verify_model_files(const std::string& dir);

// `longctx verify DIR` for a training output: DIR's own checkpoint.json and every
// DIR/checkpoint-STEP/ under it. Returns the report line; throws Error at the first bad file.
std::string verify_training_output(const std::string& dir);

}  // namespace longctx::model
