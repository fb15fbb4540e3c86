// Test driver for report::mixture_report_html until `longctx prepare` calls it:
//   render_mixture_report STORE PLAN_DIR PACKED_DIR OUT.html
// PACKED_DIR "-" renders the page without a pack section.
#include <cstdio>
#include <exception>
#include <string>

#include "longctx/mix/length_stats.h"
#include "longctx/report/mixture_report.h"
#include "longctx/store/store.h"
#include "longctx/util/file.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: render_mixture_report STORE PLAN_DIR PACKED_DIR|- OUT.html\n");
    return 2;
  }
  try {
    const std::string store_dir = argv[1], plan_dir = argv[2], packed_dir = argv[3], out = argv[4];
    const longctx::store::StoreReader store(store_dir);
    const auto stats = longctx::mix::compute_length_stats(store, longctx::mix::LengthBins::paper());
    const std::string plan = longctx::read_file(plan_dir + "/plan.json");
    const std::string packed = packed_dir == "-" ? std::string() : longctx::read_file(packed_dir + "/manifest.json");
    longctx::AtomicFile f(out);
    f.write(longctx::report::mixture_report_html(stats, store.manifest(), plan, packed, store_dir));
    f.commit();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "render_mixture_report: %s\n", e.what());
    return 1;
  }
  return 0;
}
