// Test driver for report::load_needle_run and report::needle_report_html, independent of the CLI:
//   render_needle_report OUT.html METRIC TRAIN_LENGTH RUN...
// TRAIN_LENGTH 0: the runs' own. Exits 1 with the Error's line on stderr (and no page) for bad input.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "longctx/report/needle_report.h"
#include "longctx/util/file.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: render_needle_report OUT.html METRIC TRAIN_LENGTH RUN...\n");
    return 2;
  }
  try {
    const std::string out = argv[1], metric = argv[2];
    const uint64_t train = std::stoull(argv[3]);
    longctx::report::check_needle_metric(metric);
    std::vector<longctx::report::NeedleRun> runs;
    for (int i = 4; i < argc; ++i) runs.push_back(longctx::report::load_needle_run(argv[i]));
    const std::string page = longctx::report::needle_report_html(runs, metric, train);
    longctx::AtomicFile f(out);
    f.write(page);
    f.commit();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "render_needle_report: %s\n", e.what());
    return 1;
  }
  return 0;
}
