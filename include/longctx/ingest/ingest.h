// Raw corpora → a document store (store.h): read every input in order, tokenize in parallel,
// write documents in input order whatever the thread count, checkpoint so that a killed run
// resumes, and split the inputs among array tasks whose stores merge() joins.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "longctx/corpus/json_document.h"
#include "longctx/store/store.h"

namespace longctx::ingest {

struct IngestOptions {
  std::string tokenizer_path;
  std::vector<std::string> inputs;  // files and folders, as corpus::expand_inputs takes them
  std::string out;                  // the store folder (for a task: task_dir(...))
  std::string text_field = "text";
  corpus::DomainSource domain;
  bool bos = true;           // what the tokenizer's post-processor adds (LLaMA's <s>)
  bool eos = false;          // append the end-of-text token
  std::string eos_token;     // which one; empty: </s>, <|end_of_text|> or <|endoftext|>, the first found
  bool parse_special = false;
  bool strict = false;       // a bad line is fatal instead of skipped and counted
  // Tokenize only what the plan keeps (docs/tokenize-kept.md). selection.kind "sample": the fast
  // first pass: every document is parsed and recorded with its characters, tokenized only when its
  // coin (sample_coin below) falls under selection.rate. "subset": only the lines select_lines
  // names are parsed and tokenized (per input, by index in the full input list: sorted line
  // numbers, 0 for a whole-file text input); the caller fills both from a selection plan.
  store::Selection selection;
  std::vector<std::vector<uint64_t>> select_lines;
  int threads = 1;
  uint64_t task_id = 0, task_count = 1;
  double checkpoint_seconds = 30;  // 0: after every block of lines (tests)
  // Called from time to time with decompressed input bytes and documents done in this run.
  std::function<void(uint64_t bytes, uint64_t documents)> progress;
};

struct IngestSummary {
  store::Manifest manifest;
  bool already_complete = false;  // the store was there already: nothing done
  bool resumed = false;
  uint64_t text_bytes = 0;        // decompressed input bytes read in this run
  uint64_t documents = 0;         // documents written in this run
  double seconds = 0;
};

IngestSummary ingest(const IngestOptions& options);

// The sample's coin: whether document (input, line) of a sample store is tokenized, a pure
// function of (seed, input index in the full input list, line), so that every thread and task
// count samples the same documents.
bool sample_coin(uint64_t seed, double rate, uint64_t input, uint64_t line);

// Where task ID of COUNT writes its store under OUT: OUT/tasks/ID-of-COUNT.
std::string task_dir(const std::string& out, uint64_t id, uint64_t count);

// Joins the stores of all tasks of one run into OUT: the store one process would have written,
// byte for byte. Throws Error when a task is missing, duplicated or from another run.
store::Manifest merge(const std::vector<std::string>& task_dirs, const std::string& out);

// The task store folders under OUT/tasks/ (for `longctx merge OUT`), sorted.
std::vector<std::string> find_task_dirs(const std::string& out);

}  // namespace longctx::ingest
