// longctx eval-loss: loss per domain x document-length bin and per position on packed data.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "longctx/eval/loss.h"
#include "longctx/mix/length_stats.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

using LossCellRef = const eval::LossCell&;

struct EvalArgs {
  std::string model, data, bins = "0,4K,128K", positions = "1K,16K,32K,64K,128K", baseline;
  uint64_t max_sequences = 0, dynamic_pin = 0;
  double rope_theta = 0;
  bool json = false;
};

int run(const EvalArgs& a) {
  eval::LossOptions o;
  o.bins = mix::LengthBins::parse(a.bins).edges;
  o.positions.clear();
  for (size_t start = 0; start <= a.positions.size();) {
    const size_t comma = std::min(a.positions.find(',', start), a.positions.size());
    o.positions.push_back(parse_size(a.positions.substr(start, comma - start), "--positions"));
    start = comma + 1;
  }
  for (size_t i = 1; i < o.positions.size(); ++i)
    if (o.positions[i] <= o.positions[i - 1]) throw Error("--positions: expected increasing bucket edges, found " + a.positions);
  o.max_sequences = a.max_sequences;
  const auto m = model::Model::load(a.model, {a.rope_theta, a.dynamic_pin});
  const auto r = eval::eval_loss(*m, a.data, o);
  if (a.json) {
    const std::string j = r.to_json();
    std::fwrite(j.data(), 1, j.size(), stdout);
  } else {
    std::printf("loss %.4f over %llu predicted tokens in %llu sequences (document lengths from the %s)\n", r.all.mean(),
                static_cast<unsigned long long>(r.all.tokens), static_cast<unsigned long long>(r.sequences), r.length_source.c_str());
  }
  if (!a.baseline.empty()) {
    // The paper's Table 5: differences against a baseline run, |delta| > 0.01 marked.
    nlohmann::json b;
    try {
      b = nlohmann::json::parse(read_file(a.baseline));
    } catch (const nlohmann::json::exception& e) {
      throw Error(a.baseline + ": expected eval-loss --json output: " + e.what());
    }
    FILE* out = a.json ? stderr : stdout;
    std::fprintf(out, "%-24s %-10s %9s %9s %9s\n", "domain", "bin", "loss", "baseline", "delta");
    for (const auto& [d, bins] : r.domains)
      for (const auto& bin : r.bin_labels) {
        if (!bins.count(bin)) continue;
        const LossCellRef cell = bins.at(bin);
        if (!b.contains("domains") || !b["domains"].contains(d) || !b["domains"][d].contains(bin)) {
          std::fprintf(out, "%-24s %-10s %9.4f %9s %9s\n", d.c_str(), bin.c_str(), cell.mean(), "-", "-");
          continue;
        }
        const double base = b["domains"][d][bin]["loss"].get<double>(), delta = cell.mean() - base;
        std::fprintf(out, "%-24s %-10s %9.4f %9.4f %+9.4f%s\n", d.c_str(), bin.c_str(), cell.mean(), base, delta,
                     std::fabs(delta) > 0.01 ? " *" : "");
      }
    std::fprintf(out, "(* |delta| > 0.01, the paper's threshold for a significant change)\n");
  }
  return 0;
}

}  // namespace

Run add_eval_loss(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* sub = app.add_subcommand("eval-loss", "loss per domain x document-length bin and per position on packed sequences");
  sub->add_option("--model", a->model, "Hugging Face checkpoint folder")->required();
  sub->add_option("--data", a->data, "packed output folder (any layout; from longctx pack), or a bare .jsonl/.jsonl.zst file in the paper's schema "
                  "(input_ids, labels, source spans): then domains are the spans' source names and document lengths the span lengths (length bins by span length)")->required();
  sub->add_option("--bins", a->bins, "document-length bin edges (sizes: K = 1024, M = 10^6; the last bin is open)")->capture_default_str();
  sub->add_option("--positions", a->positions, "position-bucket upper edges (the paper: 1K,16K,32K,64K,128K; the last bucket is open)")
      ->capture_default_str();
  sub->add_option("--baseline", a->baseline, "an earlier --json result: print differences, |delta| > 0.01 marked");
  sub->add_option("--max-sequences", a->max_sequences, "evaluate only the first N sequences");
  sub->add_option("--rope-theta", a->rope_theta, "override config.json's rope_theta");
  sub->add_option("--dynamic-pin", a->dynamic_pin, "dynamic NTK: compute the table once for this length (the paper: 81920)");
  sub->add_flag("--json", a->json, "print {\"loss\", \"tokens\", \"domains\": {NAME: {BIN: {loss, tokens}}}, \"positions\": {...}}");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
