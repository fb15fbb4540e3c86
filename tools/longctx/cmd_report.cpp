// longctx report [RUN...] [--train-log LABEL=FILE]... [--loss LABEL=FILE]... [--title T] [--note T]...
//                [--out report.html] [--metric recall|paper_recall|...] [--train-length N]:
// a continual-pretraining experiment in one self-contained HTML page: training-loss curves, the
// per-domain validation loss against a baseline (the paper's Table 5) and needle runs side by side
// (src/report/experiment_report.cpp, src/report/needle_report.cpp).
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "longctx/report/experiment_report.h"
#include "longctx/report/needle_report.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> runs, losses, logs, notes;
  std::string out = "report.html", metric = "recall", train_length, title;
};

// LABEL=FILE specs, split and checked before anything is read: a typo costs one line, not a page.
std::vector<std::pair<std::string, std::string>> labelled(const std::vector<std::string>& specs,
                                                          const std::string& flag) {
  std::vector<std::pair<std::string, std::string>> v;
  for (const auto& s : specs) {
    v.push_back(report::split_label_file(s, flag));
    if (std::count_if(v.begin(), v.end(), [&](const auto& x) { return x.first == v.back().first; }) > 1)
      throw Error(flag + ": the label \"" + v.back().first + "\" is given twice (a label names one column or curve)");
  }
  return v;
}

int run(const ReportArgs& a) {
  if (a.runs.empty() && a.losses.empty() && a.logs.empty())
    throw Error("report: expected needle run folders, --loss LABEL=FILE or --train-log LABEL=FILE (none given)");
  report::check_needle_metric(a.metric);  // before reading anything: one line, no page
  const uint64_t train = a.train_length.empty() ? 0 : parse_size(a.train_length, "--train-length");
  const auto loss_specs = labelled(a.losses, "--loss"), log_specs = labelled(a.logs, "--train-log");
  report::Experiment e;
  e.title = a.title;
  e.notes = a.notes;
  e.metric = a.metric;
  e.train_length = train;
  for (const auto& [label, file] : log_specs) e.logs.push_back(report::load_train_log(label, file));
  for (const auto& [label, file] : loss_specs) e.losses.push_back(report::load_loss_result(label, file));
  size_t trials = 0;
  for (const auto& d : a.runs) {
    e.runs.push_back(report::load_needle_run(d));
    trials += e.runs.back().trials.size();
  }
  const std::string page = report::experiment_report_html(e);
  AtomicFile f(a.out);
  f.write(page);
  f.commit();
  std::string what;
  if (!e.runs.empty())
    what += std::to_string(e.runs.size()) + (e.runs.size() == 1 ? " run, " : " runs, ") + std::to_string(trials) +
            " trials, " + a.metric;
  if (!e.logs.empty())
    what += (what.empty() ? "" : "; ") + std::to_string(e.logs.size()) +
            (e.logs.size() == 1 ? " training log" : " training logs");
  if (!e.losses.empty())
    what += (what.empty() ? "" : "; ") + std::to_string(e.losses.size()) +
            (e.losses.size() == 1 ? " eval-loss result" : " eval-loss results");
  std::fprintf(stderr, "report: %s -> %s\n", what.c_str(), a.out.c_str());
  return 0;
}

}  // namespace

Run add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand(
      "report", "an experiment in one HTML page: training curves, per-domain loss vs a baseline, needle runs");
  sub->add_option("runs", a->runs, "needle run folders (from longctx needle: run.json, trials.jsonl)");
  // One value per flag, so that run folders after a --loss are not taken as more of its values.
  sub->add_option("--train-log", a->logs,
                  "LABEL=FILE: a longctx train --log file (JSON lines); repeatable: one curve each, in this order")
      ->allow_extra_args(false);
  sub->add_option("--loss", a->losses,
                  "LABEL=FILE: longctx eval-loss --json output; repeatable: the first is the baseline, the others "
                  "are shown as differences from it (|delta| > 0.01 marked)")
      ->allow_extra_args(false);
  sub->add_option("--title", a->title, "the page's title (default: the needle page's, or a generic one)");
  sub->add_option("--note", a->notes, "a paragraph under the title, e.g. the experiment's setup; repeatable")
      ->allow_extra_args(false);
  sub->add_option("--out,-o", a->out, "the page")->capture_default_str();
  sub->add_option("--metric", a->metric, "the needle score shown: recall | paper_recall | rouge1_f | substring")
      ->capture_default_str();
  sub->add_option("--train-length", a->train_length,
                  "dashed line at this context length, e.g. 80K (K = 1024) or 80000 (default: each run's own)");
  sub->footer(
      "At least one of RUN..., --loss or --train-log. A missing or malformed file is one error line "
      "naming it (and the line of a log); no page is written then.");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
