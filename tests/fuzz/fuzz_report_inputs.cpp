// The files `report` reads back: a training log (--train-log, JSONL), an eval-loss result (--loss)
// and a needle run folder (run.json + trials.jsonl, also what a resumed needle run reads). The
// first byte picks the reader; for a needle run the rest is run.json, then "\n--8<--\n", then
// trials.jsonl. A result or one Error line, never a crash or another exception.
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "longctx/report/experiment_report.h"
#include "longctx/report/needle_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string dir = longctx::fuzz::scratch_path("run");
  static const std::string file = longctx::fuzz::scratch_path("input.json");
  std::filesystem::create_directories(dir);
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 3) {
      case 0:
        longctx::fuzz::write_file(file, data + 1, size - 1);
        (void)longctx::report::load_train_log("run", file);
        break;
      case 1:
        longctx::fuzz::write_file(file, data + 1, size - 1);
        (void)longctx::report::load_loss_result("run", file);
        break;
      default: {
        const size_t cut = rest.find("\n--8<--\n");
        const std::string run = rest.substr(0, cut), trials = cut == std::string::npos ? "" : rest.substr(cut + 8);
        longctx::fuzz::write_file(dir + "/run.json", reinterpret_cast<const uint8_t*>(run.data()), run.size());
        longctx::fuzz::write_file(dir + "/trials.jsonl", reinterpret_cast<const uint8_t*>(trials.data()), trials.size());
        const auto r = longctx::report::load_needle_run(dir);
        for (const char* metric : {"recall", "paper_recall"}) (void)longctx::report::needle_report_html({r}, metric, 0);
        break;
      }
    }
  } catch (const longctx::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an Error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
