// longctx pack: a plan -> fixed-length sequences in the formats trainers load; longctx verify.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands.h"
#include "io.h"
#include "longctx/dist/mpi.h"
#include "longctx/model/checkpoint.h"
#include "longctx/pack/pack.h"
#include "longctx/util/error.h"
#include "tasks.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct PackArgs {
  pack::PackOptions opt;
  std::string seq_len;
  std::optional<uint64_t> seed, task_id, num_tasks;
  bool quiet = false;
};

int run(PackArgs& a) {
  if (!a.seq_len.empty())
    a.opt.seq_len = parse_size(a.seq_len, "--seq-len");
  else if (a.opt.format != "megatron-docs")
    throw Error("--seq-len is required (every --format but megatron-docs)");
  if (a.seed) {
    a.opt.seed = *a.seed;
    a.opt.seed_given = true;
  }
  a.opt.threads = thread_count(a.opt.threads);
  dist::MpiSession mpi;
  if (mpi.active()) {
    // Every rank writes its shards; once all have, rank 0 writes the manifest.
    if (a.task_id || a.num_tasks) throw Error("--task-id/--num-tasks cannot be combined with mpirun (each rank is a task)");
    a.opt.task_id = static_cast<uint64_t>(mpi.rank());
    a.opt.task_count = static_cast<uint64_t>(mpi.size());
    std::string error;
    pack::PackSummary s;
    try {
      s = pack::pack(a.opt);
    } catch (const Error& e) {
      error = e.what();
      std::fprintf(stderr, "longctx: rank %d: %s\n", mpi.rank(), error.c_str());
    }
    if (!mpi.all(error.empty())) return 1;
    if (mpi.rank() == 0 && s.pending) {  // the last record may have landed after rank 0 looked
      a.opt.task_id = 0;
      try {
        s = pack::finish_tasks(a.opt);
      } catch (const Error& e) {
        std::fprintf(stderr, "longctx: %s\n", e.what());
        error = e.what();
      }
    }
    if (!mpi.all(error.empty())) return 1;
    if (mpi.rank() == 0 && !a.quiet)
      std::fprintf(stderr, "pack: %llu sequences of %llu tokens in %llu shards from %d ranks -> %s\n",
                   static_cast<unsigned long long>(s.sequences), static_cast<unsigned long long>(a.opt.seq_len),
                   static_cast<unsigned long long>(s.shards), mpi.size(), a.opt.out.c_str());
    return 0;
  }
  const TaskId task = resolve_task(a.task_id, a.num_tasks);
  a.opt.task_id = task.id;
  a.opt.task_count = task.count;
  const auto s = pack::pack(a.opt);
  if (s.pending) {
    if (!a.quiet)
      std::fprintf(stderr, "pack: task %llu of %llu wrote its shards; the last task to finish writes %s/manifest.json\n",
                   static_cast<unsigned long long>(task.id), static_cast<unsigned long long>(task.count), a.opt.out.c_str());
    return 0;
  }
  if (!a.quiet && a.opt.format == "megatron-docs")
    std::fprintf(stderr, "pack: %llu Megatron documents (%llu tokens) in %llu shards -> %s; %.1f MB in %.2f s\n",
                 static_cast<unsigned long long>(s.sequences), static_cast<unsigned long long>(s.tokens),
                 static_cast<unsigned long long>(s.shards), a.opt.out.c_str(), s.bytes / 1e6, s.seconds);
  else if (!a.quiet)
    std::fprintf(stderr,
                 "pack: %llu sequences of %llu tokens (%llu document tokens, %llu tail tokens dropped) in %llu shards -> %s; "
                 "%.1f MB in %.2f s: %.0f MB/s\n",
                 static_cast<unsigned long long>(s.sequences), static_cast<unsigned long long>(a.opt.seq_len),
                 static_cast<unsigned long long>(s.real_tokens), static_cast<unsigned long long>(s.dropped_tokens),
                 static_cast<unsigned long long>(s.shards), a.opt.out.c_str(), s.bytes / 1e6, s.seconds, s.bytes / 1e6 / s.seconds);
  return 0;
}

}  // namespace

Run add_pack(CLI::App& app) {
  auto a = std::make_shared<PackArgs>();
  auto& o = a->opt;
  auto* sub = app.add_subcommand("pack", "a plan -> fixed-length sequences (jsonl[.zst], megatron, llmc, flat) with document spans, or a Megatron document dataset (megatron-docs)");
  sub->add_option("plan", o.plan_dir, "plan folder (from longctx mix)")->required();
  sub->add_option("--seq-len", a->seq_len, "sequence length: 131072, 128K, 80K (sizes: K = 1024, M = 10^6); required but for megatron-docs");
  sub->add_option("--format", o.format, "jsonl | jsonl.zst (the paper's schema) | megatron | megatron-docs (one document per planned entry) | llmc | flat (tokens + cu_seqlens)")
      ->required();
  sub->add_option("--out,-o", o.out, "output folder (shards, span sidecars, manifest.json written last)")->required();
  sub->add_option("--seed", a->seed, "shuffle seed (default: the plan's)");
  sub->add_option("--pad", o.pad_id, "pad the last partial sequence (and --align-docs sequences) with this token id");
  sub->add_flag("--align-docs", o.align_docs, "no document crosses a sequence edge (best-fit packing, padded; for document masking)");
  sub->add_option("--shard-sequences", o.shard_sequences, "sequences per output shard (default: about 128M tokens; megatron-docs: one shard)");
  sub->add_option("--batch-sequences", o.batch_sequences,
                  "emit a multiple of N sequences, every shard a multiple of N (llm.c: B x processes, so every sequence is served)");
  sub->add_option("--eos", o.eos_id, "megatron-docs: append this token id after every document (Megatron's EOD)");
  sub->add_option("--threads", o.threads, "shards written in parallel (0 = one per core); output identical for any count")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--task-id", a->task_id, "this task's index in an array run (default: $SLURM_ARRAY_TASK_ID)");
  sub->add_option("--num-tasks", a->num_tasks, "tasks in the array run (default: $SLURM_ARRAY_TASK_COUNT)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--quiet,-q", a->quiet, "no summary on stderr");
  return [a] { return run(*a); };
}

Run add_verify(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("verify", "re-read a store, plan or packed output and check it against its manifest, or a train output / checkpoint folder against its checkpoint.json");
  sub->add_option("dir", *dir, "folder to check")->required();
  return [dir] {
    // A training output or checkpoint folder (checkpoint.json, checkpoint-STEP/): model/checkpoint.h.
    const bool ckpt = !std::filesystem::exists(*dir + "/manifest.json") && !std::filesystem::exists(*dir + "/plan.json") &&
                      (std::filesystem::exists(*dir + "/checkpoint.json") || std::filesystem::exists(*dir + "/run.json"));
    std::printf("verify %s: %s\n", dir->c_str(), (ckpt ? model::verify_training_output(*dir) : pack::verify(*dir)).c_str());
    return 0;
  };
}

}  // namespace longctx::cli
