// longctx ingest: raw corpora → a document store (Megatron .bin/.idx + sidecar + manifest).
// One process, an array task (--task-id/--num-tasks or Slurm's variables), or every rank of
// `mpirun -n N` (each rank a task, then rank 0 merges).
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "commands.h"
#include "io.h"
#include "longctx/dist/mpi.h"
#include "longctx/corpus/inputs.h"
#include "longctx/ingest/ingest.h"
#include "longctx/mix/estimate.h"
#include "longctx/util/error.h"
#include "progress.h"
#include "tasks.h"

namespace longctx::cli {
namespace {

struct IngestArgs {
  ingest::IngestOptions opt;
  std::string domain_field = "meta.redpajama_set_name";
  std::string domain_constant;
  bool domain_from_folder = false;
  bool no_bos = false;
  std::optional<uint64_t> task_id, num_tasks;
  double sample_rate = 0;
  uint64_t sample_seed = 0;
  std::string select;
  bool progress = false, quiet = false;
};

std::string summary(const ingest::IngestSummary& s, const std::string& out) {
  const auto& m = s.manifest;
  std::string line = "ingest: " + std::to_string(m.documents) + " documents, " + std::to_string(m.tokens) + " tokens, " +
                     std::to_string(m.domains.size()) + " domains from " + std::to_string(m.inputs.size()) + " inputs";
  if (m.skipped_total()) {
    line += "; skipped " + std::to_string(m.skipped_total()) + " (";
    bool first = true;
    for (const auto& [reason, n] : m.skipped_by_reason) {
      line += (first ? "" : ", ") + reason + ": " + std::to_string(n);
      first = false;
    }
    line += "; listed in the manifest)";
  }
  if (m.selection.kind == "sample") line += "; a sample store: tokens for the sampled documents only";
  if (m.selection.kind == "subset") line += "; the " + std::to_string(m.selection.documents) + " documents of a selection plan";
  if (s.seconds > 0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "; %.1f MB of text in %.2f s: %.1f MB/s%s", s.text_bytes / 1e6, s.seconds,
                  s.text_bytes / 1e6 / s.seconds, s.resumed ? " (resumed)" : "");
    line += buf;
  }
  return line + " -> " + out;
}

int run(IngestArgs& a) {
  auto& o = a.opt;
  if (!a.domain_constant.empty()) {
    o.domain = {corpus::DomainSource::kConstant, a.domain_constant};
  } else if (a.domain_from_folder) {
    o.domain = {corpus::DomainSource::kFolder, ""};
  } else {
    o.domain = {corpus::DomainSource::kField, a.domain_field};
  }
  o.bos = !a.no_bos;
  // Tokenize only what the plan keeps (docs/tokenize-kept.md): a sample store, or the subset a
  // selection plan over one names.
  if (a.sample_rate > 0 && !a.select.empty()) throw Error("--sample-rate and --select: give one (the first pass, or the second)");
  if (a.sample_rate > 0) o.selection = {"sample", a.sample_rate, a.sample_seed};
  if (!a.select.empty()) {
    auto sel = mix::read_selection(a.select);
    const auto inputs = corpus::expand_inputs(o.inputs);
    for (size_t i = 0; i < std::max(inputs.size(), sel.input_paths.size()); ++i)
      if (i >= inputs.size() || i >= sel.input_paths.size() || inputs[i].path != sel.input_paths[i])
        throw Error("--select " + a.select + ": expected the inputs of its sample store in the same order (input " + std::to_string(i + 1) +
                    ": " + (i < sel.input_paths.size() ? sel.input_paths[i] : "none") + "), found " +
                    (i < inputs.size() ? inputs[i].path : "none"));
    o.selection = sel.selection;
    o.select_lines = std::move(sel.lines);
  }
  o.threads = thread_count(o.threads);
  Progress progress("ingest", a.progress && !a.quiet);
  o.progress = [&](uint64_t bytes, uint64_t) { progress.bytes(bytes); };
  const std::string out = o.out;

  dist::MpiSession mpi;
  if (mpi.active()) {
    if (a.task_id || a.num_tasks) throw Error("--task-id/--num-tasks cannot be combined with mpirun (each rank is a task)");
    o.task_id = static_cast<uint64_t>(mpi.rank());
    o.task_count = static_cast<uint64_t>(mpi.size());
    o.out = ingest::task_dir(out, o.task_id, o.task_count);
    std::string error;
    try {
      ingest::ingest(o);
    } catch (const Error& e) {
      error = e.what();
    }
    if (!error.empty()) std::fprintf(stderr, "longctx: rank %d: %s\n", mpi.rank(), error.c_str());
    bool ok = mpi.all(error.empty());
    if (!ok) {
      if (error.empty() && mpi.rank() == 0) std::fprintf(stderr, "longctx: another rank failed; finished task stores are kept for a rerun\n");
      return 1;
    }
    if (mpi.rank() == 0) {
      try {
        const auto m = ingest::merge(ingest::find_task_dirs(out), out);
        std::error_code ec;
        std::filesystem::remove_all(out + "/tasks", ec);
        if (!a.quiet) std::fprintf(stderr, "%s\n", summary({m}, out + " (merged from " + std::to_string(mpi.size()) + " ranks)").c_str());
      } catch (const Error& e) {
        error = e.what();
        std::fprintf(stderr, "longctx: %s\n", error.c_str());
      }
    }
    ok = mpi.all(error.empty());
    return ok ? 0 : 1;
  }

  const TaskId task = resolve_task(a.task_id, a.num_tasks);
  if (task.count > 1) {
    o.task_id = task.id;
    o.task_count = task.count;
    o.out = ingest::task_dir(out, task.id, task.count);
  }
  const auto s = ingest::ingest(o);
  if (!a.quiet) {
    if (s.already_complete) {
      std::fprintf(stderr, "ingest: %s is already complete (same arguments and inputs); nothing to do\n", o.out.c_str());
    } else {
      std::fprintf(stderr, "%s\n", summary(s, o.out).c_str());
    }
    if (o.task_count > 1)
      std::fprintf(stderr, "ingest: task %llu of %llu done; when every task is done: longctx merge %s\n",
                   static_cast<unsigned long long>(o.task_id), static_cast<unsigned long long>(o.task_count), out.c_str());
  }
  return 0;
}

}  // namespace

Run add_ingest(CLI::App& app) {
  auto a = std::make_shared<IngestArgs>();
  auto& o = a->opt;
  auto* sub = app.add_subcommand("ingest", "raw corpora -> a tokenized document store (Megatron .bin/.idx + sidecar + manifest)");
  sub->add_option("--tokenizer", o.tokenizer_path, "Hugging Face tokenizer.json")->required();
  sub->add_option("--out,-o", o.out, "store folder (created; completed atomically: manifest.json appears last)")->required();
  sub->add_option("inputs", o.inputs,
                  "JSONL files (plain, .zst, .gz) and folders (their *.jsonl[.zst|.gz] files are JSONL, any other file "
                  "one plain-text document), in the order given")
      ->required();
  sub->add_option("--threads", o.threads, "worker threads (0 = one per core); the store is identical for any count")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--text-field,--field", o.text_field, "JSON field holding the text")->capture_default_str();
  sub->add_option("--domain-field", a->domain_field, "dotted path of the JSON field naming the domain (absent: \"unknown\")")
      ->capture_default_str();
  sub->add_option("--domain", a->domain_constant, "one domain name for every document");
  sub->add_flag("--domain-from-folder", a->domain_from_folder, "the domain is the name of the folder holding each input file");
  sub->add_flag("--no-bos", a->no_bos, "do not add what the tokenizer's post-processor adds (LLaMA's <s>)");
  sub->add_flag("--eos", o.eos, "append an end-of-text token to every document");
  sub->add_option("--eos-token", o.eos_token, "the token --eos appends (default: </s>, <|end_of_text|> or <|endoftext|>)");
  sub->add_flag("--parse-special", o.parse_special, "turn special-token strings in the text into their ids (off: plain text)");
  sub->add_flag("--strict", o.strict, "stop at the first bad line instead of skipping and counting it");
  sub->add_option("--task-id", a->task_id, "this task's index in an array run (default: $SLURM_ARRAY_TASK_ID)");
  sub->add_option("--num-tasks", a->num_tasks, "tasks in the array run (default: $SLURM_ARRAY_TASK_COUNT)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--checkpoint-seconds", o.checkpoint_seconds,
                  "seconds between checkpoints (a killed ingest reruns from the last one; 0: after every block)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--sample-rate", a->sample_rate,
                  "the fast first pass of tokenizing only what the plan keeps: record every document's characters, tokenize "
                  "each with this probability (a sample store, which `mix` turns into a selection plan; docs/tokenize-kept.md)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--sample-seed", a->sample_seed, "seed of --sample-rate's per-document coin")->capture_default_str();
  sub->add_option("--select", a->select,
                  "selection plan (from `mix` on a sample store of these inputs): tokenize only its documents; then "
                  "`mix STORE --trim PLAN`");
  sub->add_flag("--progress", a->progress, "show progress even when stderr is not a terminal");
  sub->add_flag("--quiet,-q", a->quiet, "no summary line on stderr");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
