// The HTML report of a store's length statistics: per-domain token-weighted length histograms
// (inline SVG, log-scaled lengths) and the table `longctx stats` prints. One self-contained page:
// no scripts, no external files.
#pragma once

#include <string>

#include "longctx/mix/length_stats.h"

namespace longctx::report {

// The page as a string; `title` names the store.
std::string length_report_html(const mix::StoreLengthStats& stats, const store::Manifest& manifest, const std::string& title);

// The page's body without its header: the table, the histograms and the footnote that explains
// them. Other reports embed it (they need the base style of src/report/html.h).
std::string length_report_sections(const mix::StoreLengthStats& stats, const store::Manifest& manifest);

}  // namespace longctx::report
