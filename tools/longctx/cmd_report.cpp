// longctx report [RUN...] [--train-log LABEL=FILE]... [--loss LABEL=FILE[,FILE...]]... [--curve TOKENS=FILE]...
//                [--title T] [--note T]... [--out report.html] [--table table.txt]
//                [--metric recall|paper_recall|...] [--train-length N]:
// a continual-pretraining experiment in one self-contained HTML page: training-loss curves, the
// per-domain validation loss against a baseline (the paper's Table 5; several files under one label
// are seeds: means and spreads), the loss by position against training tokens (its Figure 3) and
// needle runs side by side (src/report/experiment_report.cpp, src/report/needle_report.cpp).
#include <algorithm>
#include <cstdio>
#include <filesystem>
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
  std::vector<std::string> runs, losses, logs, notes, curve;
  std::string out = "report.html", metric = "recall", train_length, title, table;
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

// "F1,F2,F3" -> the seeds' files. A path that exists as given is one file, commas and all.
std::vector<std::string> seed_files(const std::string& files) {
  if (std::filesystem::is_regular_file(files)) return {files};
  std::vector<std::string> v;
  for (size_t start = 0; start <= files.size();) {
    const size_t comma = std::min(files.find(',', start), files.size());
    if (comma == start) throw Error("--loss: an empty file name in " + files);
    v.push_back(files.substr(start, comma - start));
    start = comma + 1;
  }
  return v;
}

// TOKENS=FILE points, sorted by tokens; two points at one token count are a mistake.
std::vector<report::CurvePoint> curve_points(const std::vector<std::string>& specs) {
  std::vector<report::CurvePoint> v;
  for (const auto& [tokens, file] : labelled(specs, "--curve"))
    v.push_back({parse_size(tokens, "--curve"), report::load_loss_result(tokens, file)});
  std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.tokens < y.tokens; });
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i].tokens == v[i - 1].tokens)
      throw Error("--curve: two results at " + std::to_string(v[i].tokens) + " tokens");
  return v;
}

int run(const ReportArgs& a) {
  if (a.runs.empty() && a.losses.empty() && a.logs.empty() && a.curve.empty())
    throw Error("report: expected needle run folders, --loss LABEL=FILE, --curve TOKENS=FILE or --train-log LABEL=FILE (none given)");
  report::check_needle_metric(a.metric);  // before reading anything: one line, no page
  const uint64_t train = a.train_length.empty() ? 0 : parse_size(a.train_length, "--train-length");
  const auto loss_specs = labelled(a.losses, "--loss"), log_specs = labelled(a.logs, "--train-log");
  report::Experiment e;
  e.title = a.title;
  e.notes = a.notes;
  e.metric = a.metric;
  e.train_length = train;
  for (const auto& [label, file] : log_specs) e.logs.push_back(report::load_train_log(label, file));
  for (const auto& [label, files] : loss_specs)
    for (const auto& file : seed_files(files)) e.losses.push_back(report::load_loss_result(label, file));
  e.curve = curve_points(a.curve);
  size_t trials = 0;
  for (const auto& d : a.runs) {
    e.runs.push_back(report::load_needle_run(d));
    trials += e.runs.back().trials.size();
  }
  const std::string page = report::experiment_report_html(e);
  if (!a.table.empty()) {  // written first: a page is never left beside a table that failed
    AtomicFile t(a.table);
    t.write(report::loss_table_text(e.losses, e.curve));
    t.commit();
  }
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
  if (!e.curve.empty())
    what += (what.empty() ? "" : "; ") + std::to_string(e.curve.size()) +
            (e.curve.size() == 1 ? " curve point" : " curve points");
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
                  "LABEL=FILE[,FILE...]: longctx eval-loss --json output, several files = seeds of one result "
                  "(mean and spread); repeatable: the first is the baseline, the others are shown as differences "
                  "from it (marked when |delta| > 0.01 and beyond the seeds' spread)")
      ->allow_extra_args(false);
  sub->add_option("--curve", a->curve,
                  "TOKENS=FILE: eval-loss --json output after TOKENS of continual pretraining (a size: 98304, 96K); "
                  "repeatable: the loss by position against tokens (the paper's Figure 3)")
      ->allow_extra_args(false);
  sub->add_option("--title", a->title, "the page's title (default: the needle page's, or a generic one)");
  sub->add_option("--note", a->notes, "a paragraph under the title, e.g. the experiment's setup; repeatable")
      ->allow_extra_args(false);
  sub->add_option("--out,-o", a->out, "the page")->capture_default_str();
  sub->add_option("--table", a->table, "also write the loss table (and the curve's numbers) as plain text here");
  sub->add_option("--metric", a->metric, "the needle score shown: recall | paper_recall | rouge1_f | substring")
      ->capture_default_str();
  sub->add_option("--train-length", a->train_length,
                  "dashed line at this context length, e.g. 80K (K = 1024) or 80000 (default: each run's own)");
  sub->footer(
      "At least one of RUN..., --loss, --curve or --train-log. A missing or malformed file is one error line "
      "naming it (and the line of a log); no page is written then.");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
