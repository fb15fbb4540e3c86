// Shared by the HTML reports of src/report/: escaping, number formats, the domain palette and the
// page's base style (one look for every report). Private to src/report/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>

namespace longctx::report::html {

// Tableau 10: distinct at a glance and still readable for most colour-blind readers.
inline constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
inline constexpr const char* kAllColour = "#52606d";

inline std::string colour_of(size_t domain) { return kPalette[domain % std::size(kPalette)]; }

inline std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

template <typename... A>
std::string sprint(const char* f, A... a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

inline std::string num(double v) { return sprint("%.1f", v); }  // SVG coordinates

inline std::string count(uint64_t n) {  // 1234567 -> "1,234,567"
  std::string d = std::to_string(n), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

inline std::string pct(double share) { return sprint("%.1f%%", 100.0 * share); }
inline double share(uint64_t part, uint64_t whole) { return whole ? static_cast<double>(part) / whole : 0.0; }

// The base style of every report page (a report with more to show appends its own rules).
inline constexpr const char* kStyle = R"(
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1400px;margin:0 auto;padding:22px 22px 32px}
h1{font-size:21px;font-weight:650;margin:0 0 4px;overflow-wrap:anywhere}
h1 small{font-weight:400;color:var(--muted);font-size:14px;margin-right:6px}
h2{font-size:15px;font-weight:650;margin:26px 0 10px}
.summary{color:var(--muted);margin:0}
.summary b{color:var(--ink);font-weight:600}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;box-shadow:0 1px 2px rgba(15,23,42,.05)}
.table-wrap{overflow-x:auto;padding:6px 4px}
table{border-collapse:collapse;font-size:11.5px;font-variant-numeric:tabular-nums;width:100%}
th,td{padding:4px 4px;text-align:right;white-space:nowrap}
th{font-weight:600;color:var(--muted);border-bottom:1px solid var(--line)}
thead tr.group th{border-bottom:none;font-weight:500;font-size:11px;text-transform:uppercase;letter-spacing:.04em;
  text-align:center}
thead tr.group th.span{border-bottom:1px solid #cbd2d9}
th:first-child,td:first-child{text-align:left}
tbody tr:nth-child(even):not(.all){background:#fafbfc}
tr.all td{font-weight:650;border-top:2px solid #cbd2d9}
td.sep,th.sep{border-left:1px solid var(--line)}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:7px;vertical-align:-1px}
.figures{display:grid;gap:14px}
figure{margin:0;padding:12px 14px 6px}
figcaption{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
figcaption b{font-size:14.5px;overflow-wrap:anywhere}
figcaption span{color:var(--muted);font-size:12.5px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin-top:4px}
svg.length-histogram{display:block;width:100%;height:auto;font-size:11px}
svg .band{fill:#f1f3f6}
svg .grid{stroke:#e4e7eb;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg .bar{shape-rendering:crispEdges}
svg .bar:hover{opacity:.75}
svg text{fill:#616e7c}
svg .bin{text-anchor:middle;fill:#9aa5b1;font-size:10px}
svg .ytick{text-anchor:end}
svg .xtick{text-anchor:middle;fill:#3e4c59;font-weight:600}
svg .xtick.minor{fill:#9aa5b1;font-weight:400}
svg .xlabel{text-anchor:end;font-size:10.5px;fill:#9aa5b1}
svg .ylabel{text-anchor:middle;font-size:10.5px;fill:#9aa5b1}
svg .threshold{stroke:#c81e1e;stroke-width:1.2;stroke-dasharray:4 3}
svg .threshold-label{fill:#c81e1e;font-size:10.5px;font-weight:600}
footer{color:var(--muted);font-size:12px;margin-top:22px}
)";

}  // namespace longctx::report::html
