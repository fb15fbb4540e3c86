// A longctx document store: a directory holding
//   data.bin, data.idx   a Megatron-LM indexed dataset, one sequence per document (megatron.h)
//   docs.bin             the sidecar: one 24-byte DocRecord per document, in the same order
//   manifest.json        what made it (tokenizer, inputs with sizes and hashes, options), what is in
//                        it (counts per domain and input), what was skipped and why, and the size
//                        and XXH3-128 of every file above
// The manifest is written last: a directory without it is not a store (an ingest in progress keeps
// its work under .partial/). Layout and field meanings: docs/formats/store.md.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "longctx/store/megatron.h"
#include "longctx/util/mmap.h"

namespace longctx::store {

inline constexpr const char* kDataPrefix = "data";
inline constexpr const char* kDocsFile = "docs.bin";
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr int kFormatVersion = 2;  // 2: 24-byte DocRecords with character counts

// One document's origin and size in characters. line: 1-based line in a JSONL input; 0 for a
// whole-file text document. chars: Unicode code points of the text (Python's len()), for the
// paper's length estimate (chars / 3.68) that `mix --length-estimate` reproduces.
struct DocRecord {
  uint64_t line;
  uint32_t input;     // index into the manifest's inputs
  uint32_t chars;     // saturates at 2^32 - 1
  uint16_t domain;    // index into the manifest's domains
  uint16_t reserved;  // 0
  uint32_t reserved2; // 0
};
static_assert(sizeof(DocRecord) == 24);

struct InputStats {
  std::string path;
  std::string kind;  // "jsonl" or "text" (one document per file)
  uint64_t bytes = 0;  // raw size on disk
  std::string xxh128;  // of the raw bytes
  uint64_t index = 0;  // position in the full input list (task stores only differ from the position)
  uint64_t lines = 0, documents = 0, tokens = 0, skipped = 0;
};

struct DomainStats {
  std::string name;
  uint64_t documents = 0, tokens = 0;
};

struct SkippedLine {
  std::string input;
  uint64_t line = 0;
  std::string reason;
};

struct FileStats {
  uint64_t bytes = 0;
  std::string xxh128;
};

// Which documents of the inputs a store holds tokens for (docs/formats/store.md, "Selections").
// kind "" (the usual store): every document, tokenized. "sample" (ingest --sample-rate: the fast
// first pass of "tokenize only what the plan keeps"): every document recorded with its characters,
// tokens only for a seeded sample (the others have length 0), so that mix can estimate lengths.
// "subset" (ingest --select PLAN): only the documents a selection plan over a sample store names.
struct Selection {
  std::string kind;
  double rate = 0;             // sample: the probability that a document is tokenized
  uint64_t seed = 0;           // sample: seed of the per-document coin
  std::string plan_xxh128;     // subset: the selection plan's entries.bin
  std::string scan_run;        // subset: the run fingerprint of the sample store the plan is over
  uint64_t documents = 0;      // subset: documents the plan names (the store may hold fewer: skipped lines)
  bool empty() const { return kind.empty(); }
};

// Every skipped line is counted by reason; the first kMaxListedSkips are also listed by input:line.
inline constexpr size_t kMaxListedSkips = 10000;

struct Manifest {
  std::string tool;                 // "longctx VERSION"
  // A hash of everything that decides the content (tool, tokenizer, options, the input list): the
  // same for one process, for every task of an array run and for their merged store.
  std::string run_fingerprint;
  std::string tokenizer_path, tokenizer_xxh128;
  uint64_t vocab_size = 0;
  TokenType token_type = TokenType::kUint16;
  // Options that decide the content (anything that would change a byte of the store).
  std::string text_field = "text";
  std::string domain_source;  // "field:PATH", "constant:NAME" or "folder"
  bool bos = true, parse_special = false;
  int64_t eos_id = -1;        // -1: no EOS appended
  uint64_t documents = 0, tokens = 0;
  std::vector<DomainStats> domains;  // in order of first appearance in the inputs
  std::vector<InputStats> inputs;
  std::map<std::string, uint64_t> skipped_by_reason;
  std::vector<SkippedLine> skipped_lines;  // at most kMaxListedSkips, in input order
  std::map<std::string, FileStats> files;  // data.bin, data.idx, docs.bin
  Selection selection;  // empty for a store of every document (the manifest then has no "selection")
  // Array-task stores only: which slice of which run this is.
  bool is_task = false;
  uint64_t task_id = 0, task_count = 1, task_inputs_total = 0;

  uint64_t skipped_total() const;
  void add_skip(const std::string& input, uint64_t line, const std::string& reason);
  std::string to_json() const;
  // Throws Error naming `origin` for anything malformed or of another format version.
  static Manifest from_json(const std::string& json, const std::string& origin);
};

// Opens and validates a store: manifest, Megatron files, sidecar (sizes, counts and indices agree
// with each other; hashes are checked by verify(), which reads every byte).
class StoreReader {
 public:
  explicit StoreReader(const std::string& dir);
  const Manifest& manifest() const { return manifest_; }
  const MegatronReader& data() const { return data_; }
  std::span<const DocRecord> docs() const { return docs_; }
  const std::string& dir() const { return dir_; }
  // Rehashes every file and compares sizes and hashes with the manifest; throws Error on mismatch.
  void verify() const;

 private:
  std::string dir_;
  Manifest manifest_;
  MegatronReader data_;
  MappedFile docs_file_;
  std::span<const DocRecord> docs_;
};

}  // namespace longctx::store
