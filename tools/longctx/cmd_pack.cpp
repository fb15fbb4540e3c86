// longctx pack: a plan -> fixed-length sequences in the formats trainers load; longctx verify.
#include <cstdio>
#include <optional>

#include "commands.h"
#include "io.h"
#include "longctx/pack/pack.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct PackArgs {
  pack::PackOptions opt;
  std::string seq_len;
  std::optional<uint64_t> seed;
  bool quiet = false;
};

int run(PackArgs& a) {
  a.opt.seq_len = parse_size(a.seq_len, "--seq-len");
  if (a.seed) {
    a.opt.seed = *a.seed;
    a.opt.seed_given = true;
  }
  a.opt.threads = thread_count(a.opt.threads);
  const auto s = pack::pack(a.opt);
  if (!a.quiet)
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
  auto* sub = app.add_subcommand("pack", "a plan -> fixed-length sequences (jsonl[.zst], megatron, llmc, flat) with document spans");
  sub->add_option("plan", o.plan_dir, "plan folder (from longctx mix)")->required();
  sub->add_option("--seq-len", a->seq_len, "sequence length: 131072, 128K, 80K (K = 1024)")->required();
  sub->add_option("--format", o.format, "jsonl | jsonl.zst (the paper's schema) | megatron | llmc | flat (tokens + cu_seqlens)")
      ->required();
  sub->add_option("--out,-o", o.out, "output folder (shards, span sidecars, manifest.json written last)")->required();
  sub->add_option("--seed", a->seed, "shuffle seed (default: the plan's)");
  sub->add_option("--pad", o.pad_id, "pad the last partial sequence (and --align-docs sequences) with this token id");
  sub->add_flag("--align-docs", o.align_docs, "no document crosses a sequence edge (best-fit packing, padded; for document masking)");
  sub->add_option("--shard-sequences", o.shard_sequences, "sequences per output shard (default: about 256M tokens)");
  sub->add_option("--threads", o.threads, "shards written in parallel (0 = one per core); output identical for any count")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--quiet,-q", a->quiet, "no summary on stderr");
  return [a] { return run(*a); };
}

Run add_verify(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("verify", "re-read a store, plan or packed output and check it against its manifest");
  sub->add_option("dir", *dir, "folder to check")->required();
  return [dir] {
    std::printf("verify %s: %s\n", dir->c_str(), pack::verify(*dir).c_str());
    return 0;
  };
}

}  // namespace longctx::cli
