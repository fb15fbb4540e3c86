// longctx mix: choose the continual-pretraining mixture from a store (the paper's strategies).
#include <cstdio>

#include "commands.h"
#include "longctx/mix/estimate.h"
#include "longctx/mix/plan.h"
#include "longctx/util/error.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct MixArgs {
  std::string store, out, tokens, long_threshold = "4K", trim;
  double margin = 0.1;
  mix::MixOptions opt;
  CLI::Option* seed = nullptr;  // given or not (every seed value is valid)
  bool quiet = false;
};

// A sample store gives a selection plan, --trim the final plan over a subset store; otherwise the
// plan as it always was (docs/tokenize-kept.md). --strategy, --tokens and --seed are required
// except with --trim, which takes them from the selection plan.
mix::Plan make(MixArgs& a, const store::StoreReader& st) {
  if (!a.trim.empty()) {
    if (!a.opt.strategy.empty() || !a.tokens.empty() || a.seed->count() > 0)
      throw Error("--trim: the selection plan " + a.trim + " fixes the strategy, the tokens and every option; give none of them");
    return mix::trim_plan(st, a.trim);
  }
  for (const auto& [flag, given] : {std::pair<const char*, bool>{"--strategy", !a.opt.strategy.empty()}, {"--tokens", !a.tokens.empty()},
                                    {"--seed", a.seed->count() > 0}})
    if (!given) throw Error(std::string(flag) + " is required (unless --trim)");
  a.opt.tokens = parse_size(a.tokens, "--tokens");
  a.opt.long_threshold = parse_size(a.long_threshold, "--long-threshold");
  if (st.manifest().selection.kind == "sample") return mix::make_selection(st, a.opt, a.margin);
  return mix::make_plan(st, a.opt);
}

int run(MixArgs& a) {
  const store::StoreReader st(a.store);
  const mix::Plan plan = make(a, st);
  mix::write_plan(plan, a.out);
  if (a.quiet) return 0;
  std::fprintf(stderr, "mix %s: %zu entries, %llu tokens (requested %llu, seed %llu) -> %s\n", plan.options.strategy.c_str(),
               plan.entries.size(), static_cast<unsigned long long>(plan.tokens), static_cast<unsigned long long>(plan.options.tokens),
               static_cast<unsigned long long>(plan.options.seed), a.out.c_str());
  std::fprintf(stderr, "  %-24s %8s %8s %8s %12s %9s %9s %10s\n", "domain", "before", "target", "after", "tokens", "long", "shortfall",
               "cut off");
  for (const auto& d : plan.domains) {
    const double after = plan.tokens ? static_cast<double>(d.tokens) / plan.tokens : 0.0;
    char target[16] = "-";
    if (d.budget) std::snprintf(target, sizeof target, "%.1f%%", 100.0 * d.target_share);
    std::fprintf(stderr, "  %-24s %7.1f%% %8s %7.1f%% %12llu %8.1f%% %9llu %10llu\n", d.name.c_str(),
                 100.0 * plan.before_domains.at(d.name), target, 100.0 * after, static_cast<unsigned long long>(d.tokens),
                 d.tokens ? 100.0 * static_cast<double>(d.long_tokens) / d.tokens : 0.0, static_cast<unsigned long long>(d.shortfall),
                 static_cast<unsigned long long>(d.cut_tokens));
  }
  for (const auto& n : plan.notes) std::fprintf(stderr, "  note: %s\n", n.c_str());
  return 0;
}

}  // namespace

Run add_mix(CLI::App& app) {
  auto a = std::make_shared<MixArgs>();
  auto& o = a->opt;
  auto* sub = app.add_subcommand("mix", "choose the mixture (the paper's strategies) -> a plan that pack turns into sequences");
  sub->footer(
      "Budgets: per-source and upsample give each domain --tokens x its target share, rounded by largest remainder so "
      "the budgets sum to --tokens; global has one budget, --tokens. Each is met exactly: the last document a domain "
      "(global: the plan) takes is cut to its first tokens (a prefix, with its BOS), which pack packs like any entry and "
      "Figure 2 bins by the piece's length. --whole-docs keeps it whole. original, cut:LEN and target are unchanged "
      "(whole documents or cut:LEN pieces until the budget is reached). Details: docs/formats/plan.md.");
  sub->add_option("store", a->store, "store folder (from longctx ingest)")->required();
  sub->add_option("--strategy", o.strategy,
                  "REQUIRED (unless --trim): original | cut:LEN | per-source (the paper's recipe) | global | upsample:DOMAIN[=WEIGHT] | target");
  sub->add_option("--tokens", a->tokens,
                  "REQUIRED (unless --trim): tokens to plan: 5B, 500M, 131072 (sizes: K = 1024, Mi = 1024^2, M = 10^6, B = 10^9)");
  a->seed = sub->add_option("--seed", o.seed, "REQUIRED (unless --trim): seed of every random choice (same seed, same plan)");
  sub->add_option("--out,-o", a->out, "plan folder (plan.json + entries.bin)")->required();
  sub->add_option("--long-threshold", a->long_threshold, "documents longer than this are always kept (a size: 4K = 4096)")->capture_default_str();
  sub->add_option("--keep-short", o.keep_short, "probability of keeping a shorter document")->capture_default_str();
  sub->add_option("--domain-shares", o.domain_shares, "target domain shares: natural (the store's), slimpajama (the paper's) or NAME=x,...")
      ->capture_default_str();
  sub->add_option("--length-estimate", o.length_estimate,
                  "decide on chars/R instead of exact token counts (chars/3.68 reproduces the paper's script); "
                  "exact budgets use it only to tell long from short documents and count budgets in tokens");
  sub->add_option("--max-repeat", o.max_repeat, "passes over the store a domain may take to fill its budget")->capture_default_str();
  sub->add_flag("--allow-shortfall", o.allow_shortfall, "write the plan even when a budget cannot be met (reported per domain)");
  sub->add_flag("--whole-docs", o.whole_docs,
                "per-source, global, upsample: keep every document whole, so a domain's last document (global: the plan's) "
                "overshoots its budget, as the paper's script; by default that document is cut to a prefix and every budget "
                "is met to the token");
  sub->add_option("--bins", o.target_bins, "target: length-bin edges (sizes: K = 1024, M = 10^6; the last bin is open)")->capture_default_str();
  sub->add_option("--bin-shares", o.target_bin_shares, "target: share of tokens per length bin, e.g. 0.4,0.6");
  sub->add_option("--margin", a->margin,
                  "on a sample store (ingest --sample-rate): the selection plan selects --tokens x (1 + margin) estimated tokens, "
                  "so that the trim meets every budget unless the estimate undershoots a domain by more")
      ->capture_default_str();
  sub->add_option("--trim", a->trim,
                  "selection plan: STORE is its subset (ingest --select PLAN); the plan to pack, every budget met to the token "
                  "(docs/tokenize-kept.md)");
  sub->add_flag("--quiet,-q", a->quiet, "no summary on stderr");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
