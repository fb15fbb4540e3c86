// Appending entries to a plan with the per-domain accounting every strategy shares (plan.cpp's
// walks and estimate.cpp's trim), and the summary a finished plan carries. Private to mix.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "longctx/mix/length_stats.h"
#include "longctx/mix/plan.h"

namespace longctx::mix {

struct PlanWriter {
  Plan& plan;
  std::span<const int32_t> lengths;
  std::span<const store::DocRecord> docs;
  uint64_t long_threshold;

  void take(uint64_t doc, uint32_t start, uint32_t len) {
    plan.entries.push_back({doc, start, len});
    plan.tokens += len;
    auto& d = plan.domains[docs[doc].domain];
    d.tokens += len;
    if (start == 0) ++d.documents;
    // Long by the entry's own length: the contiguous text the model sees (a cut piece included).
    if (len > long_threshold) d.long_tokens += len;
  }
  void take_whole(uint64_t doc) { take(doc, 0, static_cast<uint32_t>(lengths[doc])); }
  // At most `left` tokens of `doc`: the whole document, or its first `left` tokens. A prefix keeps
  // the document's beginning (and its BOS), so the piece reads as a document that ends early
  // rather than as text starting mid-sentence. Returns the tokens taken.
  uint64_t take_prefix(uint64_t doc, uint64_t left) {
    const auto len = static_cast<uint64_t>(lengths[doc]);
    if (len <= left) {
      take_whole(doc);
      return len;
    }
    take(doc, 0, static_cast<uint32_t>(left));
    auto& d = plan.domains[docs[doc].domain];
    ++d.cut_documents;
    d.cut_tokens += len - left;
    return left;
  }
  // cut:LEN: the document as consecutive pieces of at most `cut` tokens.
  void take_pieces(uint64_t doc, uint32_t cut) {
    const auto total = static_cast<uint32_t>(lengths[doc]);
    for (uint32_t s = 0; s < total; s += cut) take(doc, s, std::min(cut, total - s));
  }
};

// The plan's "after" side of Figure 2 (domain and length-bin shares of its entries) and its notes
// (domains left out, shortfalls, cut documents).
void summarize_plan(Plan& plan);

// The paper's length bins' token shares, accumulated one (length, tokens) pair at a time (a store
// of hundreds of millions of documents is not copied into a list first).
class BinShares {
 public:
  BinShares();
  void add(uint64_t length, uint64_t tokens);
  std::vector<std::pair<std::string, double>> shares() const;

 private:
  LengthBins bins_;
  std::vector<double> tokens_;
  double total_ = 0;
};

}  // namespace longctx::mix
