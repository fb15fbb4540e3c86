// longctx report RUN... [--out report.html] [--metric recall|paper_recall|rouge1_f|substring]
//                       [--train-length N]: needle runs (`longctx needle` folders) side by side in one
// self-contained HTML page (src/report/needle_report.cpp).
#include <cstdio>

#include "commands.h"
#include "longctx/report/needle_report.h"
#include "longctx/util/file.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out = "report.html", metric = "recall", train_length;
};

int run(const ReportArgs& a) {
  report::check_needle_metric(a.metric);  // before reading anything: one line, no page
  const uint64_t train = a.train_length.empty() ? 0 : parse_size(a.train_length, "--train-length");
  std::vector<report::NeedleRun> runs;
  size_t trials = 0;
  for (const auto& d : a.runs) {
    runs.push_back(report::load_needle_run(d));
    trials += runs.back().trials.size();
  }
  const std::string page = report::needle_report_html(runs, a.metric, train);
  AtomicFile f(a.out);
  f.write(page);
  f.commit();
  std::fprintf(stderr, "report: %zu run%s, %zu trials, %s -> %s\n", runs.size(), runs.size() == 1 ? "" : "s", trials,
               a.metric.c_str(), a.out.c_str());
  return 0;
}

}  // namespace

Run add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report", "needle runs side by side in one HTML page");
  sub->add_option("runs", a->runs, "run folders (from longctx needle: run.json, trials.jsonl)")->required();
  sub->add_option("--out,-o", a->out, "the page")->capture_default_str();
  sub->add_option("--metric", a->metric, "the score shown: recall | paper_recall | rouge1_f | substring")
      ->capture_default_str();
  sub->add_option("--train-length", a->train_length,
                  "dashed line at this context length, e.g. 80K (K = 1024) or 80000 (default: each run's own)");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
