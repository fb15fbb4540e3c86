// longctx stats: per-domain length statistics of a store, as a table, JSON, or an HTML report.
#include <cstdio>

#include "commands.h"
#include "longctx/mix/length_stats.h"
#include "longctx/report/length_report.h"
#include "longctx/store/store.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/size.h"

namespace longctx::cli {
namespace {

struct StatsArgs {
  std::string store;
  bool json = false;
  std::string report;
  std::string bins = "0,1K,2K,4K,8K,16K,32K,64K,128K";
  std::string long_threshold = "4K";
};

std::string fmt_count(uint64_t n) {
  char buf[32];
  if (n >= 10'000'000'000ULL) std::snprintf(buf, sizeof buf, "%.1fB", n / 1e9);
  else if (n >= 10'000'000) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else if (n >= 100'000) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

void print_table(const mix::StoreLengthStats& s) {
  std::printf("%-22s %9s %9s %7s %8s %8s %8s %9s %7s", "domain", "docs", "tokens", "share", "p50", "p90", "p99", "max",
              (">" + mix::length_label(s.long_threshold)).c_str());
  for (const auto& l : s.bins.labels) std::printf(" %8s", l.c_str());
  std::printf("\n");
  auto row = [&](const mix::DomainLengthStats& d) {
    std::printf("%-22s %9s %9s %6.1f%% %8llu %8llu %8llu %9llu %6.1f%%", d.name.c_str(), fmt_count(d.documents).c_str(),
                fmt_count(d.tokens).c_str(), s.tokens ? 100.0 * d.tokens / s.tokens : 0.0,
                static_cast<unsigned long long>(d.percentiles[1]), static_cast<unsigned long long>(d.percentiles[3]),
                static_cast<unsigned long long>(d.percentiles[5]), static_cast<unsigned long long>(d.percentiles.back()),
                100.0 * d.long_token_share());
    for (size_t b = 0; b < s.bins.labels.size(); ++b)
      std::printf(" %7.1f%%", d.tokens ? 100.0 * d.bin_tokens[b] / d.tokens : 0.0);
    std::printf("\n");
  };
  for (const auto& d : s.domains) row(d);
  row(s.all);
  std::printf("(percentiles and bins are token-weighted: p50 is the length at which half of the tokens lie in shorter documents)\n");
}

int run(const StatsArgs& a) {
  const store::StoreReader store(a.store);
  const auto bins = mix::LengthBins::parse(a.bins);
  const auto threshold = parse_size(a.long_threshold, "--long-threshold");
  const auto stats = mix::compute_length_stats(store, bins, threshold);
  if (!a.report.empty()) {
    AtomicFile out(a.report);
    out.write(report::length_report_html(stats, store.manifest(), a.store));
    out.commit();
  }
  if (a.json) {
    const std::string j = stats.to_json();
    std::fwrite(j.data(), 1, j.size(), stdout);
  } else {
    print_table(stats);
  }
  if (!a.report.empty()) std::fprintf(stderr, "stats: report written to %s\n", a.report.c_str());
  return 0;
}

}  // namespace

Run add_stats(CLI::App& app) {
  auto a = std::make_shared<StatsArgs>();
  auto* sub = app.add_subcommand("stats", "per-domain, token-weighted document-length statistics of a store");
  sub->add_option("store", a->store, "store folder (from longctx ingest)")->required();
  sub->add_flag("--json", a->json, "print JSON instead of the table");
  sub->add_option("--report", a->report, "also write an HTML report (histograms and table) to this file");
  sub->add_option("--bins", a->bins, "length-bin edges (sizes: K = 1024, M = 10^6); the last bin is open-ended")->capture_default_str();
  sub->add_option("--long-threshold", a->long_threshold, "documents longer than this count as long (a size: 4K = 4096)")->capture_default_str();
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
