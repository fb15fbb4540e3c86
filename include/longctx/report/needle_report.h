// Needle-in-a-haystack results as one self-contained HTML page: per run a heatmap (x = context
// length, y = depth, red #F0496E -> yellow #EBB839 -> green #0CD79F on a fixed 0-1 scale, a dashed
// line at the training length), the overall score and a per-length table; several runs side by
// side (`longctx report RUN...`).
//
// A run folder (written by `longctx needle`) holds run.json (the configuration) and trials.jsonl,
// one JSON object per finished trial:
//   {"length": 1000, "depth": 44.4, "prompt_tokens": 1012, "context_tokens": 780, "needle_token_index": 356,
//    "response": "...", "response_ids": [...], "scores": {"paper_recall": 0.9166, "recall": 1.0,
//    "rouge1_f": 0.8, "substring": 1}, "seconds": 1.2, ...}
// paper_recall is the paper's word-set recall (|words ∩ answer words| / 12: a perfect answer gets
// 11/12); recall divides by the 11 distinct answer words instead (a perfect answer gets 1).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace longctx::report {

struct NeedleRun {
  std::string dir, name;  // name: the folder's name
  nlohmann::json run;     // run.json
  std::vector<nlohmann::json> trials;
};

// Reads DIR/run.json and DIR/trials.jsonl (a last line cut short by a killed run is ignored).
// Throws Error naming the file for anything else malformed.
NeedleRun load_needle_run(const std::string& dir);

// metric: a key of "scores" (recall, paper_recall, rouge1_f, substring). train_length 0: the runs'
// own (run.json "train_length"), else none drawn. Throws Error for an unknown metric.
std::string needle_report_html(const std::vector<NeedleRun>& runs, const std::string& metric, uint64_t train_length);

// The parts needle_report_html() builds its page from, for pages that show needle runs among other
// sections (experiment_report.h). They need html::kStyle and `style` in the page's <style>.
struct NeedleSections {
  std::string title;  // the page's default title: the run's name, or "N runs"
  std::string style;  // CSS rules of the needle sections
  std::string intro;  // the runs-and-metric line and the colour scale
  std::string body;   // the comparison table (several runs), one section per run, the footnote
};
NeedleSections needle_report_sections(const std::vector<NeedleRun>& runs, const std::string& metric,
                                      uint64_t train_length);

// The metrics a page can show (the keys of "scores" it knows), in the order `--metric` lists them.
const std::vector<std::string>& needle_metrics();

// Throws Error("unknown metric M: expected recall, paper_recall, rouge1_f or substring").
void check_needle_metric(const std::string& metric);

// A score's colour on the fixed 0-1 scale, "#RRGGBB": linear in RGB from red #F0496E (0) through
// yellow #EBB839 (0.5) to green #0CD79F (1), each channel rounded half up; scores outside [0, 1]
// are clamped.
std::string needle_score_colour(double score);

}  // namespace longctx::report
