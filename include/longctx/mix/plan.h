// The mixture: which documents (or pieces of documents) of a store go into the continual-
// pretraining data, by the strategies the paper compares (../shared/PAPER.md §2). A plan records
// every choice: the entries in selection order, the strategy, its options and seed, the targets
// and what each domain got. Layout of PLAN/ (plan.json + entries.bin): docs/formats/plan.md.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "longctx/store/store.h"

namespace longctx::mix {

// A piece of a stored document: tokens [start, start + length) of document `doc`.
struct PlanEntry {
  uint64_t doc;
  uint32_t start;
  uint32_t length;
};
static_assert(sizeof(PlanEntry) == 16);

struct MixOptions {
  std::string strategy;  // original | cut:LEN | per-source | global | upsample:DOMAIN[=W] | target
  uint64_t tokens = 0;
  uint64_t seed = 0;
  uint64_t long_threshold = 4096;  // longer documents are always kept (per-source, global, upsample)
  double keep_short = 0.1;         // the probability that a shorter one is kept
  std::string domain_shares = "natural";  // natural | slimpajama | NAME=x,...
  std::string length_estimate;     // "" (exact token counts) or "chars/R" (the paper's chars/3.68)
  uint32_t max_repeat = 1;         // passes over the store a domain may take to fill its budget
  bool allow_shortfall = false;    // write the plan even when a budget cannot be met
  // per-source, global, upsample: keep every document whole, so a domain's last document (global:
  // the plan's) may overshoot its budget, as the paper's script. Off: budgets are met to the token
  // by cutting that document to a prefix (docs/formats/plan.md, "Exact budgets").
  bool whole_docs = false;
  std::string target_bins = "0,4K";  // target: length-bin edges...
  std::string target_bin_shares;     // ...and the share of tokens each bin gets, e.g. "0.4,0.6"
};

struct DomainResult {
  std::string name;
  double target_share = 0;          // 0: the domain is not planned
  uint64_t budget = 0;              // tokens (0 for original/cut/global: no per-domain budget)
  uint64_t available = 0;           // tokens the domain has in the store
  uint64_t tokens = 0, documents = 0, long_tokens = 0;  // long: in entries longer than long_threshold
  uint64_t shortfall = 0;           // budget - tokens when the budget was not met
  uint32_t passes = 0;              // passes over the store the domain needed
  uint64_t cut_documents = 0;       // documents cut to a prefix to meet the budget (0 or 1)
  uint64_t cut_tokens = 0;          // tokens of those documents left out of the plan
};

struct Plan {
  MixOptions options;
  std::string store_dir, store_run, store_manifest_xxh128;
  std::vector<std::string> store_domains;  // the store's domain names (index = DocRecord::domain)
  std::vector<DomainResult> domains;       // same order
  uint64_t tokens = 0;                     // planned tokens (sum of entry lengths)
  bool exact_budgets = false;              // budgets met to the token (per-source/global/upsample, not whole_docs)
  std::vector<PlanEntry> entries;          // in selection order
  std::vector<std::string> notes;          // what a user should know (a domain not planned, ...)
  // Paper Figure 2, before (the store) and after (the plan): token shares by domain and by
  // length bin (the paper's bins; every entry binned by its own length: a cut piece by the piece's,
  // the contiguous text the model trains on).
  std::map<std::string, double> before_domains, after_domains;
  std::vector<std::pair<std::string, double>> before_bins, after_bins;
  // A JSON object written as plan.json's "estimate" when not empty: how a plan made on estimated
  // lengths (estimate.h) came about.
  std::string estimate_json;

  std::string to_json() const;
};

// What a plan is made over: a store's manifest (domains and their tokens), its folder, and one
// length and DocRecord per document. Usually a store as it is; for a sample store
// (estimate.h), the same documents with estimated lengths and domain totals.
class PlanSource {
 public:
  PlanSource(const store::Manifest& m, std::string dir, std::span<const int32_t> lengths, std::span<const store::DocRecord> docs)
      : m_(m), dir_(std::move(dir)), lengths_(lengths), docs_(docs) {}
  explicit PlanSource(const store::StoreReader& st) : PlanSource(st.manifest(), st.dir(), st.data().lengths(), st.docs()) {}
  const store::Manifest& manifest() const { return m_; }
  const std::string& dir() const { return dir_; }
  std::span<const int32_t> lengths() const { return lengths_; }
  std::span<const store::DocRecord> docs() const { return docs_; }

 private:
  const store::Manifest& m_;
  std::string dir_;
  std::span<const int32_t> lengths_;
  std::span<const store::DocRecord> docs_;
};

// Throws Error (one line) for bad options and, unless allow_shortfall, for unmet budgets. A
// sample store (ingest --sample-rate) is refused: its lengths are a sample's (estimate.h plans it).
Plan make_plan(const store::StoreReader& store, const MixOptions& options);
Plan make_plan(const PlanSource& source, const MixOptions& options);

// PLAN/plan.json and PLAN/entries.bin, each written atomically, plan.json last.
void write_plan(const Plan& plan, const std::string& dir);

struct LoadedPlan {
  std::string dir;
  std::string store_dir;       // resolved (see resolve_recorded in util/file.h)
  std::string store_recorded;  // as plan.json records it
  std::string store_manifest_xxh128;
  uint64_t seed = 0, tokens = 0;
  std::vector<std::string> store_domains;
  std::vector<PlanEntry> entries;
  std::string json;  // plan.json as written
};
// Reads and checks a plan (hash and size of entries.bin, entries within the store's documents
// when `store` is given).
LoadedPlan read_plan(const std::string& dir);

}  // namespace longctx::mix
