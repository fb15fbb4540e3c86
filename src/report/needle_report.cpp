// The needle-in-a-haystack HTML report (`longctx report RUN...`): per run a header (model, backend,
// tokenizer, needle, trials finished, the overall score), the paper's heatmap (x = context length,
// y = needle depth, red -> yellow -> green on a fixed 0-1 scale, a dashed line at the training
// length) and a per-length table; with several runs a comparison table first and the heatmaps on one
// shared grid, so that a column is the same length in every run. Same look and rules as the other
// reports (src/report/html.h): inline CSS and SVG, no scripts, every string from the data escaped.
#include "longctx/report/needle_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <utility>

#include "html.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/lines.h"

namespace longctx::report {
namespace {

using json = nlohmann::json;
using namespace html;

struct MetricInfo {
  const char *key, *label, *definition;
};
constexpr MetricInfo kMetricInfo[] = {
    {"recall", "corrected recall, max 1",
     "the share of the answer's distinct words (lower-cased, split at spaces) found in the response's words; a "
     "perfect answer gets 1"},
    {"paper_recall", "paper's word-set recall, max 11/12",
     "|response words \u2229 answer words| / 12, as the paper scores it: its answer repeats \u201ca\u201d, so a "
     "perfect answer gets 11/12"},
    {"rouge1_f", "ROUGE-1 F, max 1", "the unigram F-measure of the response against the answer"},
    {"substring", "substring match, 0 or 1", "1 when the answer appears verbatim in the response, else 0"},
    {"string_match_all", "string-match-all, max 1", "RULER's: the share of the expected values found in the response"},
    {"string_match_part", "string-match-part, 0 or 1", "RULER's: 1 when any expected value is found in the response"},
};

const MetricInfo& metric_info(const std::string& metric) {
  for (const auto& m : kMetricInfo)
    if (metric == m.key) return m;
  check_needle_metric(metric);  // throws
  return kMetricInfo[0];
}

constexpr const char* kMissingFill = "#eef0f3";  // a grid cell not run yet (hatched)
constexpr const char* kAbsentFill = "#f9fafb";   // a column or row of the shared grid outside this run's grid

// Depths are percentages with a decimal or so (44.4); cells are keyed at 1/1000 of a percent.
int64_t depth_key(double depth) { return std::llround(depth * 1000); }
using CellKey = std::pair<uint64_t, int64_t>;

std::string strip_json_prefix(const std::string& what) {  // "[json.exception.parse_error.101] parse error..."
  const size_t p = what.find("] ");
  return what.front() == '[' && p != std::string::npos ? what.substr(p + 2) : what;
}

std::string type_of(const json& j) { return j.type_name(); }

// One trials.jsonl line, checked: an object with a non-negative integer "length", a "depth" in
// [0, 100] and a "scores" object.
void check_trial(const json& t, const std::string& where) {
  if (!t.is_object()) throw Error(where + ": expected a JSON object, found " + type_of(t));
  const auto l = t.find("length");
  if (l == t.end() || !l->is_number_unsigned())
    throw Error(where + ": expected \"length\" (a non-negative integer number of tokens), found " +
                (l == t.end() ? std::string("none") : l->dump()));
  const auto d = t.find("depth");
  if (d == t.end() || !d->is_number() || !(d->get<double>() >= 0 && d->get<double>() <= 100))
    throw Error(where + ": expected \"depth\" (a percentage from 0 to 100), found " +
                (d == t.end() ? std::string("none") : d->dump()));
  const auto s = t.find("scores");
  if (s == t.end() || !s->is_object())
    throw Error(where + ": expected \"scores\" (an object), found " + (s == t.end() ? std::string("none") : s->dump()));
}

CellKey key_of(const json& t) { return {t["length"].get<uint64_t>(), depth_key(t["depth"].get<double>())}; }

std::optional<double> score_of(const json& t, const std::string& metric) {
  const auto s = t.find("scores");
  if (s == t.end() || !s->is_object()) return std::nullopt;
  const auto v = s->find(metric);
  if (v == s->end()) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>() ? 1.0 : 0.0;
  if (v->is_number() && std::isfinite(v->get<double>())) return v->get<double>();
  return std::nullopt;
}

// ---- what a run's page shows ---------------------------------------------------------------------

// A run.json value as text: strings as they are, objects by their name-like field.
std::string text_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  if (j.is_object())
    for (const char* k : {"name", "path", "model", "kind", "type", "text"})
      if (const auto it = j.find(k); it != j.end() && it->is_string()) return it->get<std::string>();
  return j.dump();
}

std::string field(const json& run, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (const auto it = run.find(k); it != run.end() && !it->is_null()) return text_of(*it);
  return "";
}

std::string without_scheme(std::string s) {  // the page names no http(s):// address (the house rule)
  for (const char* scheme : {"https://", "http://"})
    for (size_t p; (p = s.find(scheme)) != std::string::npos;) s.erase(p, std::char_traits<char>::length(scheme));
  return s;
}

std::string backend_of(const json& run) {
  const auto it = run.find("backend");
  if (it == run.end() || it->is_null()) return "";
  if (!it->is_object()) return without_scheme(text_of(*it));
  std::string s = text_of(*it);
  if (const auto u = it->find("url"); u != it->end() && u->is_string() && s != u->get<std::string>())
    s += " " + u->get<std::string>();
  return without_scheme(s);
}

std::string tokenizer_hash_of(const json& run) {
  std::string h = field(run, {"tokenizer_xxh128", "tokenizer_hash"});
  if (const auto t = run.find("tokenizer"); h.empty() && t != run.end() && t->is_object())
    h = field(*t, {"xxh128", "hash"});
  return h;
}

struct RunView {
  const NeedleRun* run = nullptr;
  std::string name;               // the folder's name, or the folder as given where two runs share a name
  std::vector<uint64_t> lengths;  // this run's grid: run.json "lengths"/"depths" and what trials.jsonl holds
  std::vector<double> depths;
  std::map<CellKey, const json*> cells;
  size_t scored = 0;
  double sum = 0;  // of the metric over the scored trials, in trials.jsonl order
  uint64_t train = 0;
  size_t expected() const { return lengths.size() * depths.size(); }
};

void add_length(std::vector<uint64_t>& v, uint64_t l) {
  if (std::find(v.begin(), v.end(), l) == v.end()) v.push_back(l);
}
void add_depth(std::vector<double>& v, double d) {
  if (std::none_of(v.begin(), v.end(), [&](double x) { return depth_key(x) == depth_key(d); })) v.push_back(d);
}

RunView view_of(const NeedleRun& r, const std::string& metric, uint64_t train_length) {
  RunView v;
  v.run = &r;
  v.name = r.name;
  for (const auto& t : r.trials) {
    v.cells[key_of(t)] = &t;
    add_length(v.lengths, t["length"].get<uint64_t>());
    add_depth(v.depths, t["depth"].get<double>());
    if (const auto s = score_of(t, metric)) {
      ++v.scored;
      v.sum += *s;
    }
  }
  // The planned grid, when run.json lists it: an unfinished run then shows what is still to come.
  for (const char* k : {"lengths", "context_lengths"})
    if (const auto it = r.run.find(k); it != r.run.end() && it->is_array())
      for (const auto& x : *it)
        if (x.is_number_unsigned()) add_length(v.lengths, x.get<uint64_t>());
  for (const char* k : {"depths", "depth_percents"})
    if (const auto it = r.run.find(k); it != r.run.end() && it->is_array())
      for (const auto& x : *it)
        if (x.is_number()) add_depth(v.depths, x.get<double>());
  std::sort(v.lengths.begin(), v.lengths.end());
  std::sort(v.depths.begin(), v.depths.end());
  v.train = train_length;
  if (const auto it = r.run.find("train_length"); !v.train && it != r.run.end() && it->is_number_unsigned())
    v.train = it->get<uint64_t>();
  return v;
}

// ---- formats -------------------------------------------------------------------------------------

// Needle lengths are round thousands in the paper (1000 ... 128000) and powers of two elsewhere.
std::string k_label(uint64_t n) {
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "K";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + "K";
  if (n >= 10000) return sprint("%.0fK", static_cast<double>(n) / 1000);
  if (n >= 1000) return sprint("%.1fK", static_cast<double>(n) / 1000);
  return std::to_string(n);
}

std::string depth_label(double d) {
  return std::fabs(d - std::round(d)) < 1e-9 ? sprint("%.0f%%", d) : sprint("%.1f%%", d);
}

std::string score100(double mean) { return sprint("%.1f", 100 * mean); }

std::string json_number(double x) { return json(x).dump(); }  // shortest text that reads back as x

// A UTF-8 excerpt of at most about `max_bytes`, whitespace collapsed, "…" when cut.
std::string excerpt(const std::string& s, size_t max_bytes) {
  std::string o;
  bool space = false;
  for (const char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !o.empty();
      continue;
    }
    if (space) o += ' ';
    space = false;
    o += c;
  }
  if (o.size() <= max_bytes) return o;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(o[cut]) & 0xC0) == 0x80) --cut;  // a whole character
  return o.substr(0, cut) + "\u2026";
}

// Diagonal hatching of a rectangle as one path (no <pattern>: it would need a url() reference).
std::string hatch(double x, double y, double w, double h, double step = 5) {
  std::string d;
  for (double c = step; c < w + h; c += step) {  // the line u + v = c in the cell's own coordinates
    const double u0 = std::max(0.0, c - h), u1 = std::min(w, c);
    d += "M" + num(x + u0) + " " + num(y + c - u0) + "L" + num(x + u1) + " " + num(y + c - u1);
  }
  return "<path class=\"hatch\" d=\"" + d + "\"/>";
}

// ---- the heatmap ---------------------------------------------------------------------------------

struct Grid {  // the shared axes: every run's lengths and depths
  std::vector<uint64_t> lengths;
  std::vector<double> depths;
};

std::string heatmap_svg(const RunView& v, const Grid& g, const std::string& metric) {
  const size_t n = g.lengths.size(), m = g.depths.size();
  constexpr double W = 1160, L = 70, R = 16, T = 30, B = 46;
  const double pw = W - L - R, cw = n ? pw / n : pw;
  const double ch = m ? std::clamp(300.0 / m, 22.0, 48.0) : 48.0, ph = ch * std::max<size_t>(m, 1);
  const double H = T + ph + B;
  std::string o = "<svg class=\"needle-heatmap\" data-run=\"" + esc(v.name) + "\" viewBox=\"0 0 " + num(W) + " " +
                  num(H) + "\" role=\"img\"><title>" + esc(v.name) + ": " + esc(metric) +
                  " by context length (x) and needle depth (y)</title>";
  if (!n || !m)
    o += "<text class=\"empty\" x=\"" + num(L + pw / 2) + "\" y=\"" + num(T + ph / 2) + "\">no trials yet</text>";
  const bool values = cw >= 40 && ch >= 22;  // room to print the score in the cell
  for (size_t i = 0; i < n; ++i) {
    const uint64_t len = g.lengths[i];
    const bool in_lengths = std::find(v.lengths.begin(), v.lengths.end(), len) != v.lengths.end();
    for (size_t j = 0; j < m; ++j) {
      const double depth = g.depths[j], x = L + i * cw, y = T + j * ch;
      const bool in_grid = in_lengths && std::any_of(v.depths.begin(), v.depths.end(),
                                                     [&](double d) { return depth_key(d) == depth_key(depth); });
      const auto it = v.cells.find({len, depth_key(depth)});
      const json* t = it == v.cells.end() ? nullptr : it->second;
      std::optional<double> s;
      if (t) s = score_of(*t, metric);
      const std::string where = count(len) + " tokens (" + k_label(len) + "), depth " + depth_label(depth);
      const std::string geom =
          "\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(cw) + "\" height=\"" + num(ch) + "\"";
      const std::string at = " data-length=\"" + std::to_string(len) + "\" data-depth=\"" + json_number(depth) + "\"";
      if (s) {
        std::string title = where + ": " + esc(metric) + " " + sprint("%.3g", *s);
        if (const auto resp = t->find("response"); resp != t->end() && resp->is_string())
          title += "\n\u201c" + esc(excerpt(resp->get<std::string>(), 160)) + "\u201d";
        o += "<rect class=\"cell\"" + at + " data-score=\"" + json_number(*s) + "\" fill=\"" + needle_score_colour(*s) +
             geom + "><title>" + title + "</title></rect>";
        if (values)
          o += "<text class=\"cell-value\" x=\"" + num(x + cw / 2) + "\" y=\"" + num(y + ch / 2 + 4) + "\">" +
               sprint("%.0f", 100 * *s) + "</text>";
      } else if (t || in_grid) {  // to be run (or finished without this metric): hatched
        o += "<rect class=\"cell missing\"" + at + " fill=\"" + kMissingFill + geom + "><title>" + where + ": " +
             (t ? "finished without a " + esc(metric) + " score" : std::string("not run yet")) + "</title></rect>" +
             hatch(x, y, cw, ch);
      } else {
        o += "<rect class=\"cell absent\"" + at + " fill=\"" + kAbsentFill + geom + "><title>" + where +
             ": not in this run</title></rect>";
      }
    }
  }
  // Axes: depth labels down the left (0% at the top, as the paper draws it), lengths along the bottom
  // (every k-th column when they are narrow, counted from the longest).
  const size_t ystride = std::max<size_t>(1, static_cast<size_t>(std::ceil(14 / ch)));
  for (size_t j = 0; j < m; ++j)
    if ((m - 1 - j) % ystride == 0)
      o += "<text class=\"ytick\" x=\"" + num(L - 7) + "\" y=\"" + num(T + (j + 0.5) * ch + 4) + "\">" +
           depth_label(g.depths[j]) + "</text>";
  const size_t xstride = n ? std::max<size_t>(1, static_cast<size_t>(std::ceil(34 / cw))) : 1;
  for (size_t i = 0; i < n; ++i) {
    if ((n - 1 - i) % xstride) continue;
    const double x = L + (i + 0.5) * cw;
    o += "<line class=\"axis\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(T + ph) + "\" y2=\"" +
         num(T + ph + 4) + "\"/><text class=\"xtick\" x=\"" + num(x) + "\" y=\"" + num(T + ph + 16) + "\">" +
         k_label(g.lengths[i]) + "</text>";
  }
  o += "<text class=\"ylabel\" transform=\"translate(16," + num(T + ph / 2) + ") rotate(-90)\">needle depth (%)</text>";
  o += "<text class=\"xlabel\" x=\"" + num(L + pw) + "\" y=\"" + num(H - 6) + "\">context length (tokens)</text>";
  // The training length, between the last column at or under it and the first beyond it.
  if (v.train && n) {
    const auto after =
        static_cast<size_t>(std::upper_bound(g.lengths.begin(), g.lengths.end(), v.train) - g.lengths.begin());
    const double x = L + after * cw;
    const char* anchor = x < L + 70 ? "start" : x > L + pw - 70 ? "end" : "middle";
    o += "<line class=\"train-length\" data-length=\"" + std::to_string(v.train) + "\" x1=\"" + num(x) + "\" x2=\"" +
         num(x) + "\" y1=\"" + num(T - 8) + "\" y2=\"" + num(T + ph + 2) + "\"/>";
    o += "<text class=\"train-label\" text-anchor=\"" + std::string(anchor) + "\" x=\"" + num(x) + "\" y=\"" +
         num(T - 12) + "\">training length " + k_label(v.train) + " (" + count(v.train) + ")</text>";
  }
  return o + "</svg>";
}

// The fixed 0-1 colour scale, as 101 steps (no gradient: that would need a url() reference).
std::string colour_bar() {
  constexpr double X = 8, W = 3.2, Y = 4, H = 12;
  std::string o =
      "<svg class=\"colour-bar\" viewBox=\"0 0 340 34\" width=\"340\" height=\"34\" role=\"img\">"
      "<title>colour scale: 0 red, 0.5 yellow, 1 green</title>";
  for (int i = 0; i <= 100; ++i)
    o += "<rect x=\"" + num(X + i * W) + "\" y=\"" + num(Y) + "\" width=\"" + num(W + 0.4) + "\" height=\"" + num(H) +
         "\" fill=\"" + needle_score_colour(i / 100.0) + "\"/>";
  for (const auto& [v, label] : {std::pair{0.0, "0"}, {0.5, "0.5"}, {1.0, "1"}}) {
    const double x = X + (v * 100 + 0.5) * W;
    o += "<line class=\"axis\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(Y + H) + "\" y2=\"" +
         num(Y + H + 4) + "\"/><text class=\"bin\" x=\"" + num(x) + "\" y=\"" + num(Y + H + 15) + "\">" + label +
         "</text>";
  }
  return o + "</svg>";
}

std::string swatch(const std::string& colour) {
  return "<span class=\"swatch\" style=\"background:" + colour + "\"></span>";
}

// ---- the page ------------------------------------------------------------------------------------

constexpr const char* kNeedleStyle = R"(
.scale{display:flex;align-items:center;flex-wrap:wrap;gap:6px 16px;font-size:12px;color:var(--muted);margin-top:8px}
.scale svg{display:block}
.swatch.missing{background:repeating-linear-gradient(135deg,#eef0f3 0 3px,#b8c0ca 3px 4px)}
.swatch.absent{background:#f9fafb;border:1px solid var(--line)}
.runs{display:grid;gap:16px;margin-top:16px}
section.run{padding:14px 16px 10px}
.run-head{display:flex;justify-content:space-between;align-items:flex-start;gap:18px}
.run-head h2{margin:0 0 4px;font-size:16.5px;overflow-wrap:anywhere}
.run-head .summary{font-size:12.5px;overflow-wrap:anywhere}
.run-head q{color:var(--ink)}
.overall{text-align:right;white-space:nowrap}
.overall b{display:block;font-size:32px;font-weight:700;line-height:1.05;font-variant-numeric:tabular-nums}
.overall span{color:var(--muted);font-size:12px}
svg.needle-heatmap{display:block;width:100%;height:auto;font-size:11px;margin-top:10px}
svg rect.cell{stroke:#fff;stroke-width:1}
svg rect.cell:hover{stroke:#1f2933;stroke-width:2}
svg .hatch{stroke:#b8c0ca;stroke-width:1;fill:none;pointer-events:none}
svg text.cell-value{text-anchor:middle;fill:#1f2933;font-size:10.5px;font-weight:600;pointer-events:none}
svg .train-length{stroke:#1f2933;stroke-width:2;stroke-dasharray:6 4}
svg text.train-label{fill:#1f2933;font-size:11px;font-weight:650}
svg .empty{text-anchor:middle;fill:#9aa5b1;font-size:14px}
.per-length-tables{display:flex;flex-wrap:wrap;gap:4px 26px;padding:6px 0 2px}
table.per-length{width:auto;font-size:12px}
table.per-length th,table.per-length td{padding:3px 8px}
table.per-length td small{color:var(--muted);margin-left:6px}
table.compare{font-size:12.5px}
table.compare th,table.compare td{padding:5px 10px}
table.compare td.overall-cell{font-weight:700}
table.compare th:nth-child(2),table.compare td:nth-child(2){text-align:left}
.muted{color:var(--muted)}
)";

std::string trials_text(size_t done, size_t expected) {
  return done == expected ? count(done) : count(done) + " of " + count(expected);
}

// Mean of the metric over a run's scored trials whose length passes `keep`.
template <typename F>
std::optional<double> mean_where(const RunView& v, const std::string& metric, F keep) {
  double sum = 0;
  size_t n = 0;
  for (const auto& t : v.run->trials)
    if (keep(t["length"].get<uint64_t>()))
      if (const auto s = score_of(t, metric)) {
        sum += *s;
        ++n;
      }
  return n ? std::optional<double>(sum / n) : std::nullopt;
}

std::string mean_cell(std::optional<double> mean) {
  return mean ? swatch(needle_score_colour(*mean)) + score100(*mean) : std::string("\u2014");
}

std::string run_header(const RunView& v, const MetricInfo& mi) {
  const NeedleRun& r = *v.run;
  const json& j = r.run;
  std::string o = "<div class=\"run-head\"><div><h2>" + esc(v.name) + "</h2><p class=\"summary\">";
  std::vector<std::string> parts;
  if (const auto model = field(j, {"model", "model_path"}); !model.empty())
    parts.push_back("model <b>" + esc(model) + "</b>");
  if (const auto backend = backend_of(j); !backend.empty()) parts.push_back("backend <b>" + esc(backend) + "</b>");
  if (const auto h = tokenizer_hash_of(j); !h.empty())
    parts.push_back("tokenizer <b title=\"xxh128 " + esc(h) + "\">" + esc(h.substr(0, 12)) + "</b>");
  parts.push_back(
      "<b class=\"trials\">" + count(r.trials.size()) + "</b> of <b>" + count(v.expected()) + "</b> trials" +
      (r.trials.size() < v.expected() ? " (" + count(v.expected() - r.trials.size()) + " not run yet)" : ""));
  parts.push_back(v.train ? "training length <b>" + count(v.train) + "</b>" : std::string("no training length"));
  for (size_t i = 0; i < parts.size(); ++i) o += (i ? " · " : "") + parts[i];
  o += "</p>";
  const std::string needle = field(j, {"needle"}), question = field(j, {"question"});
  if (!needle.empty() || !question.empty()) {
    o += "<p class=\"summary needle\">";
    if (!needle.empty()) o += "needle <q>" + esc(needle) + "</q>";
    if (!question.empty()) o += (needle.empty() ? "" : " · ") + std::string("question <q>") + esc(question) + "</q>";
    o += "</p>";
  }
  o += "<p class=\"summary metric\" title=\"" + esc(mi.definition) + "\">metric <b>" + esc(mi.key) + "</b> (" +
       esc(mi.label) + ")</p></div>";
  o += "<div class=\"overall\"><b class=\"overall-score\" data-run=\"" + esc(v.name) + "\">" +
       (v.scored ? score100(v.sum / v.scored) : std::string("\u2014")) + "</b><span>mean " + esc(mi.key) +
       " \u00d7100 over " + count(v.scored) + (v.scored == 1 ? " trial" : " trials") + "</span></div></div>";
  return o;
}

std::string per_length_tables(const RunView& v, const std::string& metric) {
  constexpr size_t kRows = 10;  // rows per table: 40 lengths sit in four short columns, not one long one
  std::string o = "<div class=\"per-length-tables\">";
  for (size_t first = 0; first < v.lengths.size(); first += kRows) {
    o += "<table class=\"per-length\" data-run=\"" + esc(v.name) +
         "\"><thead><tr><th>length</th><th>mean \u00d7100</th><th>trials</th></tr></thead><tbody>";
    for (size_t i = first; i < std::min(first + kRows, v.lengths.size()); ++i) {
      const uint64_t len = v.lengths[i];
      size_t done = 0;
      for (const auto& [k, t] : v.cells) done += k.first == len;
      o += "<tr data-length=\"" + std::to_string(len) + "\"><td>" + k_label(len) + "<small>" + count(len) +
           "</small></td><td>" + mean_cell(mean_where(v, metric, [&](uint64_t l) { return l == len; })) + "</td><td>" +
           trials_text(done, v.depths.size()) + "</td></tr>";
    }
    o += "</tbody></table>";
  }
  return o + "</div>";
}

std::string compare_table(const std::vector<RunView>& views, const MetricInfo& mi) {
  std::string o = "<h2>Runs compared: " + esc(mi.key) + " \u00d7100</h2><div class=\"card table-wrap\">";
  o += "<table class=\"compare\"><thead><tr><th>run</th><th>model</th><th>overall</th><th>trials</th>"
       "<th>training length</th><th>within it</th><th>beyond it</th></tr></thead><tbody>";
  for (const auto& v : views) {
    const auto within = mean_where(v, mi.key, [&](uint64_t l) { return v.train && l <= v.train; });
    const auto beyond = mean_where(v, mi.key, [&](uint64_t l) { return v.train && l > v.train; });
    o += "<tr data-run=\"" + esc(v.name) + "\"><td>" + esc(v.name) + "</td><td>" +
         esc(field(v.run->run, {"model", "model_path"})) + "</td><td class=\"overall-cell\">" +
         mean_cell(v.scored ? std::optional<double>(v.sum / v.scored) : std::nullopt) + "</td><td>" +
         trials_text(v.run->trials.size(), v.expected()) + "</td><td>" +
         (v.train ? count(v.train) : std::string("\u2014")) + "</td><td>" + mean_cell(within) + "</td><td>" +
         mean_cell(beyond) + "</td></tr>";
  }
  return o + "</tbody></table></div>";
}

}  // namespace

const std::vector<std::string>& needle_metrics() {
  static const std::vector<std::string> m = [] {
    std::vector<std::string> v;
    for (const auto& x : kMetricInfo) v.emplace_back(x.key);
    return v;
  }();
  return m;
}

void check_needle_metric(const std::string& metric) {
  for (const auto& m : kMetricInfo)
    if (metric == m.key) return;
  throw Error("unknown metric \"" + metric +
              "\": expected recall, paper_recall, rouge1_f, substring, string_match_all or string_match_part");
}

std::string needle_score_colour(double score) {
  struct Rgb {
    double r, g, b;
  };
  constexpr Rgb kRed{240, 73, 110}, kYellow{235, 184, 57}, kGreen{12, 215, 159};  // #F0496E #EBB839 #0CD79F
  const double s = std::isnan(score) ? 0.0 : std::clamp(score, 0.0, 1.0);
  const Rgb& a = s < 0.5 ? kRed : kYellow;
  const Rgb& b = s < 0.5 ? kYellow : kGreen;
  const double t = s < 0.5 ? s / 0.5 : (s - 0.5) / 0.5;
  auto ch = [&](double x, double y) { return static_cast<int>(std::floor(x + (y - x) * t + 0.5)); };
  return sprint("#%02X%02X%02X", ch(a.r, b.r), ch(a.g, b.g), ch(a.b, b.b));
}

NeedleRun load_needle_run(const std::string& dir) {
  NeedleRun r;
  r.dir = dir;
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::filesystem::path p(d);
  r.name = p.filename().string();
  if (r.name.empty() || r.name == "." || r.name == "..") {
    std::error_code ec;
    const auto full = std::filesystem::weakly_canonical(p, ec);
    r.name = ec || full.filename().empty() ? d : full.filename().string();
  }

  const std::string run_path = d + "/run.json";
  try {
    r.run = json::parse(read_file(run_path));
  } catch (const json::exception& e) {
    throw Error(run_path + ": malformed JSON: " + strip_json_prefix(e.what()));
  }
  if (!r.run.is_object()) throw Error(run_path + ": expected a JSON object, found " + type_of(r.run));

  // A run killed mid-write leaves a last line without its newline: that line is ignored when it does
  // not parse. Anything else malformed is an error. A trial run again replaces the earlier one.
  const std::string trials_path = d + "/trials.jsonl";
  if (!std::filesystem::exists(trials_path)) return r;  // started, nothing finished yet
  const std::string text = read_file(trials_path);
  std::map<CellKey, size_t> seen;
  for_each_line(text, [&](std::string_view line, size_t line_no, bool unterminated) {
    const std::string where = trials_path + ":" + std::to_string(line_no);
    json t;
    try {
      t = json::parse(line);
    } catch (const json::exception& e) {
      if (unterminated) return false;  // cut short by a killed run
      throw Error(where + ": malformed JSON: " + strip_json_prefix(e.what()));
    }
    check_trial(t, where);
    const auto [it, fresh] = seen.emplace(key_of(t), r.trials.size());
    if (fresh)
      r.trials.push_back(std::move(t));
    else
      r.trials[it->second] = std::move(t);
    return true;
  });
  return r;
}

NeedleSections needle_report_sections(const std::vector<NeedleRun>& runs, const std::string& metric,
                                      uint64_t train_length) {
  const MetricInfo& mi = metric_info(metric);
  std::vector<RunView> views;
  Grid g;
  for (const auto& r : runs) {
    views.push_back(view_of(r, metric, train_length));
    if (std::count_if(runs.begin(), runs.end(), [&](const NeedleRun& x) { return x.name == r.name; }) > 1)
      views.back().name = r.dir;
    for (const auto l : views.back().lengths) add_length(g.lengths, l);
    for (const auto d : views.back().depths) add_depth(g.depths, d);
  }
  std::sort(g.lengths.begin(), g.lengths.end());
  std::sort(g.depths.begin(), g.depths.end());

  NeedleSections s;
  s.title = runs.size() == 1 ? views[0].name : count(runs.size()) + " runs";
  s.style = kNeedleStyle;
  std::string& o = s.intro;
  o += "<p class=\"summary\"><b>" + count(runs.size()) + "</b> run" + (runs.size() == 1 ? "" : "s") + " · metric <b>" +
       esc(mi.key) + "</b> (" + esc(mi.label) + "): " + esc(mi.definition) +
       ". Overall = the mean over the finished trials \u00d7100.</p>";
  o += "<div class=\"scale\">" + colour_bar() + "<span>" + esc(mi.key) +
       " per cell, fixed 0\u20131 scale</span><span><span class=\"swatch missing\"></span>not run yet</span>";
  if (std::any_of(views.begin(), views.end(), [&](const RunView& v) {
        return v.lengths.size() < g.lengths.size() || v.depths.size() < g.depths.size();
      }))
    o += "<span><span class=\"swatch absent\"></span>not in that run's grid</span>";
  o += "<span>dashed line: training length</span></div>";
  std::string& b = s.body;
  if (runs.size() > 1) b += compare_table(views, mi);
  b += "<div class=\"runs\">";
  for (const auto& v : views) {
    b += "<section class=\"run card\" data-run=\"" + esc(v.name) + "\">" + run_header(v, mi) +
         heatmap_svg(v, g, metric) + per_length_tables(v, metric) + "</section>";
  }
  b += "</div><footer>Each cell is one trial: the needle placed at that depth of a haystack of that many tokens, "
       "answered by greedy decoding and scored against the needle's answer. Rows are needle depths (0% at the top, "
       "as the paper draws it), columns the context lengths of every run on this page, so that columns line up "
       "across runs. Hover a cell for its score and the start of the response.</footer>";
  return s;
}

std::string needle_report_html(const std::vector<NeedleRun>& runs, const std::string& metric, uint64_t train_length) {
  const NeedleSections s = needle_report_sections(runs, metric, train_length);
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  o += "<title>" + esc(s.title) + " \u2014 needle in a haystack</title><style>" + kStyle + s.style +
       "</style></head><body><main>";
  o += "<header><h1><small>longctx report</small>Needle in a haystack: " + esc(s.title) + "</h1>";
  o += s.intro + "</header>" + s.body;
  return o + "</main></body></html>\n";
}

}  // namespace longctx::report
