// A whole continual-pretraining experiment on one self-contained HTML page (`longctx report`):
// training-loss curves from `longctx train --log` files, the per-domain validation loss of
// `longctx eval-loss --json` results against a baseline (the paper's Table 5: loss(x) - loss(baseline),
// |delta| > 0.01 marked as significant), loss by position, the loss by position against
// continual-pretraining tokens (the paper's Figure 3), and needle runs (needle_report.h).
//
// Seeds: results that share a label are runs of one configuration with different seeds. The table
// then shows the mean over seeds, the baseline with its standard deviation sd (n - 1), every other
// result as the difference of means delta with s = sqrt(sd^2 + sd_baseline^2) (the spread of the
// difference between two single-seed runs), and marks a cell only when |delta| > 0.01 and |delta| > s.
// With one result per label this is the single-run table (s = 0).
//
// An eval-loss result (LossResult::to_json):
//   {"loss": 3.2, "tokens": N, "sequences": S, "length_source": "store",
//    "domains": {"RedPajamaC4": {"0-512": {"loss": 3.1, "tokens": n}, "512-4K": {...}, "4K+": {...}}, ...},
//    "positions": {"1K": {"loss": ..., "tokens": ...}, ...}}
// A training log: one JSON object per optimizer step and line,
//   {"step": 1, "loss": 10.37, "lr": 0.001, "grad_norm": 1.0, "tokens": 4096, "tokens_per_s": 3500.2, "elapsed_s": 1.2}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "longctx/report/needle_report.h"

namespace longctx::report {

struct LossCellValue {
  double loss = 0;
  uint64_t tokens = 0;
};

// One eval-loss result, under the label the page shows it by.
struct LossResultFile {
  std::string label, path;
  double loss = 0;  // the top-level "loss": every predicted token
  uint64_t tokens = 0;
  // domain -> bin -> cell, and position bucket -> cell, in the file's order
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, LossCellValue>>>> domains;
  std::vector<std::pair<std::string, LossCellValue>> positions;
};

struct TrainStep {
  uint64_t step = 0, tokens = 0;
  double loss = 0;
  std::optional<double> tokens_per_s, elapsed_s;
};

struct TrainLog {
  std::string label, path;
  std::vector<TrainStep> steps;  // in the file's order
};

// "LABEL=FILE" -> {LABEL, FILE}, split at the first '='. Throws Error("FLAG: expected LABEL=FILE, ...").
std::pair<std::string, std::string> split_label_file(const std::string& spec, const std::string& flag);

// Throws Error naming the file (and for a log the line) and what was expected.
LossResultFile load_loss_result(const std::string& label, const std::string& path);
// A last line cut short (no newline, not JSON: a run killed mid-write) is ignored; a log with no
// steps is an error.
TrainLog load_train_log(const std::string& label, const std::string& path);

// One point of the Figure 3 curve: an eval-loss result after `tokens` of continual pretraining.
struct CurvePoint {
  uint64_t tokens = 0;
  LossResultFile result;
};

struct Experiment {
  std::string title;               // empty: the needle page's title with runs, else a generic one
  std::vector<std::string> notes;  // paragraphs under the heading (plain text)
  std::vector<TrainLog> logs;
  std::vector<LossResultFile> losses;  // the first label is the baseline; one label, several files: seeds
  std::vector<CurvePoint> curve;       // in increasing tokens
  std::vector<NeedleRun> runs;
  std::string metric = "recall";
  uint64_t train_length = 0;
};

// The page. With needle runs only (no title, notes, logs or losses) it is needle_report_html()'s page.
std::string experiment_report_html(const Experiment& e);

// The sections alone (HTML fragments inside <main>; they need experiment_report_style()).
std::string training_section(const std::vector<TrainLog>& logs);
std::string loss_section(const std::vector<LossResultFile>& losses);
std::string curve_section(const std::vector<CurvePoint>& curve);

// The Table 5 of loss_section() as plain text (same grouping, means, spreads and marks; `*` marks a
// significant delta), then the loss by position and, when given, the curve's numbers.
std::string loss_table_text(const std::vector<LossResultFile>& losses, const std::vector<CurvePoint>& curve);
const char* experiment_report_style();

// Token counts as axis and table labels: 950, 4K, 1.5M, 2B (K = 1000).
std::string token_label(double n);

}  // namespace longctx::report
