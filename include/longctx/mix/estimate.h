// Tokenize only what the plan keeps (docs/tokenize-kept.md): the mixture of a large corpus from a
// fast pass that tokenizes a seeded sample (a "sample" store), a plan on estimated lengths that
// selects whole documents with a margin (a "selection plan"), tokenization of just those documents
// (a "subset" store), and an exact trim that meets every budget to the token as `mix` does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "longctx/mix/plan.h"
#include "longctx/store/store.h"

namespace longctx::mix {

// Per-domain tokens per character from a sample store's tokenized documents. A document's
// estimated length is round(chars × tokens_per_char) + specials (BOS/EOS, not from characters);
// a sampled document keeps its exact length.
struct Calibration {
  struct Domain {
    std::string name;
    uint64_t documents = 0, chars = 0;                        // the whole domain
    uint64_t sampled = 0, sample_chars = 0, sample_tokens = 0;  // its tokenized documents (tokens without specials)
    double tokens_per_char = 0;
    // Too small a sample (fewer than kMinSampled documents and kMinSampleChars characters): the
    // rate of all domains together. A few long documents (books) are sample enough.
    bool pooled = false;
    uint64_t estimated_tokens = 0;
  };
  static constexpr uint64_t kMinSampled = 20, kMinSampleChars = 20000;
  std::vector<Domain> domains;  // the store's order
  uint32_t specials = 0;
  std::vector<int32_t> lengths;  // per document: exact when sampled, else estimated
};
Calibration calibrate(const store::StoreReader& sample);

// The selection plan: `options` planned over the sample store's documents on estimated lengths,
// whole documents, for options.tokens × (1 + margin) tokens, so that the trim can meet the
// budgets of options.tokens unless the estimate undershoots a domain by more than the margin.
// plan.json's "estimate" records the calibration and the budgets the trim will meet (each domain's
// from its estimated tokens, as `mix` computes them from the store's exact ones). Throws Error for
// a store that is not a sample store, for `target` and --length-estimate (lengths are estimated
// already), and, unless allow_shortfall, when the estimated corpus cannot meet a budget.
Plan make_selection(const store::StoreReader& sample, const MixOptions& options, double margin);

// What `ingest --select PLAN` needs: the lines of every input that the selection plan names.
struct SelectedLines {
  store::Selection selection;               // kind "subset"
  std::vector<std::string> input_paths;     // the sample store's inputs, in order
  std::vector<std::vector<uint64_t>> lines;  // per input: sorted, distinct lines (0: a text file)
};
SelectedLines read_selection(const std::string& plan_dir);

// The final plan over the subset store: the selection's documents in the selection's order (the
// strategy's walk) with their exact lengths, taken until every budget holds exactly its tokens
// (a domain's last document cut to a prefix; whole documents with whole_docs, original, cut:LEN).
// Throws Error when `kept` was not made by ingest --select of this plan, when an input changed
// since the sample pass, and, unless allow_shortfall, when a domain's selected documents hold
// fewer tokens than its budget (the estimate undershot by more than the margin).
Plan trim_plan(const store::StoreReader& kept, const std::string& selection_dir);

}  // namespace longctx::mix
