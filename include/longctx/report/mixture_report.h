// The HTML report of a `longctx prepare` run: what the mixture did to the data. The paper's Figure 2
// (token share by domain and by length bin, before and after mixing) as inline SVG bar charts, the
// per-domain plan table, the pack summary, then the store's length report sections. One
// self-contained page: no scripts, no external files.
#pragma once

#include <string>

#include "longctx/mix/length_stats.h"

namespace longctx::report {

// One self-contained HTML page for a `longctx prepare` run: the paper's Figure 2 before and after
// mixing, the per-domain plan table, the pack summary, then the store's length report sections.
// `plan_json` is plan.json (mix::Plan::to_json, with or without "files"); `packed_manifest_json` is
// the packed output's manifest.json, or empty for a run that did not pack (then no pack section).
// Throws Error when either JSON cannot be parsed.
std::string mixture_report_html(const mix::StoreLengthStats& stats, const store::Manifest& manifest,
                                const std::string& plan_json, const std::string& packed_manifest_json,
                                const std::string& title);

}  // namespace longctx::report
