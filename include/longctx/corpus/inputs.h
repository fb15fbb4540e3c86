// The list of input files an ingest reads, from the paths a user gives: a file is one input; a
// folder is walked recursively in byte order of relative paths (hidden entries skipped), its
// *.jsonl / *.jsonl.zst / *.jsonl.gz files being JSONL inputs and every other file one plain-text
// document. The list, and so the store, is the same on every machine for the same tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longctx::corpus {

enum class InputKind { kJsonl, kText };

struct InputFile {
  std::string path;    // as given, or given folder + "/" + relative path
  InputKind kind;
  std::string folder;  // name of the folder holding the file (the domain for --domain-from-folder)
  uint64_t bytes;      // size on disk when listed
};

// Throws Error for a path that does not exist or an empty folder.
std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths);

const char* kind_name(InputKind k);

// Splits inputs among `tasks` tasks, balancing bytes: largest first, each to the least-loaded task
// (ties: lowest index). Deterministic for the same list. Returns the input indices of task `id`,
// ascending.
std::vector<uint64_t> task_inputs(const std::vector<InputFile>& inputs, uint64_t tasks, uint64_t id);

}  // namespace longctx::corpus
