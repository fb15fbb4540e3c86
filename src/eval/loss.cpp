#include "longctx/eval/loss.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "longctx/mix/length_stats.h"
#include "longctx/model/kernels.h"
#include "longctx/pack/reader.h"
#include "longctx/store/store.h"
#include "longctx/util/error.h"

namespace longctx::eval {

LossResult eval_loss(const model::Model& m, const std::string& packed_dir, const LossOptions& o) {
  pack::PackedReader r(packed_dir);
  LossResult res;
  // Document lengths for the bins: from the store the data was packed from when it is there.
  std::unique_ptr<store::StoreReader> st;
  // A store that is recorded but gone is an error, never a silent switch to the spans' lengths.
  if (!r.store_dir().empty()) {
    if (!std::filesystem::exists(r.store_dir() + "/manifest.json"))
      throw Error(packed_dir + "/manifest.json: the store it was packed from is not at " + r.store_dir() + " (recorded as \"" +
                  r.store_recorded() + "\"); was it moved or removed?");
    st = std::make_unique<store::StoreReader>(r.store_dir());
  }
  res.length_source = st ? "store" : "span";
  std::vector<std::string>& bin_labels = res.bin_labels;
  for (size_t i = 0; i < o.bins.size(); ++i)
    bin_labels.push_back(i + 1 < o.bins.size() ? mix::length_label(o.bins[i]) + "-" + mix::length_label(o.bins[i + 1])
                                               : mix::length_label(o.bins[i]) + "+");
  for (size_t i = 0; i < o.positions.size(); ++i) res.positions.emplace_back(mix::length_label(o.positions[i]), LossCell{});
  res.positions.emplace_back(mix::length_label(o.positions.back()) + "+", LossCell{});
  const uint64_t L = r.seq_len();
  model::Session s(m, L);
  s.chunk = o.chunk;
  std::vector<uint32_t> tokens;
  std::vector<pack::Span> spans;
  std::vector<int32_t> span_of;  // position -> span index
  std::vector<float> row;
  while ((o.max_sequences == 0 || res.sequences < o.max_sequences) && r.next(tokens, spans)) {
    span_of.assign(L, -1);
    for (size_t k = 0; k < spans.size(); ++k) {
      // The store's lengths are indexed by the span's document: a sidecar naming a document the
      // store lacks (damaged, or another store) is an error, not a read past the lengths.
      if (st && spans[k].doc >= st->data().lengths().size())
        throw Error(packed_dir + ": a span names document " + std::to_string(spans[k].doc) + ", the store " + r.store_dir() + " has " +
                    std::to_string(st->data().lengths().size()));
      for (uint32_t p = spans[k].start; p < spans[k].end && p < L; ++p) span_of[p] = static_cast<int32_t>(k);
    }
    s.reset();
    s.forward_all(tokens, [&](uint64_t pos, const float* logits) {
      if (pos + 1 >= L) return;
      const uint32_t target = tokens[pos + 1];
      // loss = logsumexp(logits) - logits[target]: the vectorized exp over a copy of the row (the
      // double-precision std::exp loop over 32K logits was most of eval-loss's time), summed in
      // 16 float lanes (relative error ~1e-7 on the sum), the log in double.
      const uint64_t V = m.config().vocab_size;
      row.assign(logits, logits + V);
      const float mx = model::row_max(row.data(), V);
      const double sum = model::exp_and_sum(row.data(), V, mx);
      const double loss = std::log(sum) + mx - static_cast<double>(logits[target]);
      res.all.sum += loss;
      ++res.all.tokens;
      const int32_t k = span_of[pos + 1];
      if (k >= 0) {
        const auto& sp = spans[static_cast<size_t>(k)];
        const uint64_t len = st ? static_cast<uint64_t>(st->data().lengths()[sp.doc]) : sp.end - sp.start;
        size_t b = 0;
        while (b + 1 < o.bins.size() && len >= o.bins[b + 1]) ++b;
        const std::string& name = sp.domain < r.domains().size() ? r.domains()[sp.domain] : std::to_string(sp.domain);
        auto& cell = res.domains[name][bin_labels[b]];
        cell.sum += loss;
        ++cell.tokens;
      }
      size_t q = 0;
      while (q < o.positions.size() && pos + 1 >= o.positions[q]) ++q;  // position pos+1 (0-based) is the (pos+2)-th token
      res.positions[q].second.sum += loss;
      ++res.positions[q].second.tokens;
    });
    ++res.sequences;
  }
  return res;
}

std::string LossResult::to_json() const {
  nlohmann::ordered_json j;
  j["loss"] = all.mean();
  j["tokens"] = all.tokens;
  j["sequences"] = sequences;
  j["length_source"] = length_source;
  j["domains"] = nlohmann::ordered_json::object();
  for (const auto& [d, bins] : domains)
    for (const auto& b : bin_labels)  // in length order, not the map's alphabetical one
      if (bins.count(b)) j["domains"][d][b] = {{"loss", bins.at(b).mean()}, {"tokens", bins.at(b).tokens}};
  j["positions"] = nlohmann::ordered_json::object();
  for (const auto& [label, c] : positions)
    if (c.tokens) j["positions"][label] = {{"loss", c.mean()}, {"tokens", c.tokens}};
  return j.dump(2) + "\n";
}

}  // namespace longctx::eval
