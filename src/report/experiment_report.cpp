// The experiment page of `longctx report`: training-loss curves (`longctx train --log`), the
// paper's Table 5 (per-domain validation loss of `longctx eval-loss --json` results as differences
// from a baseline, |delta| > 0.01 marked), loss by position, and the needle sections of
// needle_report.cpp. Same look and rules as the other reports (src/report/html.h): inline CSS and
// SVG, no scripts, every string from the data escaped.
#include "longctx/report/experiment_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "html.h"
#include "longctx/util/error.h"
#include "longctx/util/size.h"
#include "longctx/util/file.h"
#include "longctx/util/lines.h"

namespace longctx::report {
namespace {

using json = nlohmann::ordered_json;  // keeps the files' key order (domains, bins, positions)
using namespace html;

constexpr const char* kMissing = "\u2013";  // a cell without a value
constexpr double kSignificant = 0.01;       // the paper's threshold for a significant loss change

std::string strip_json_prefix(const std::string& what) {  // "[json.exception.parse_error.101] parse error..."
  const size_t p = what.find("] ");
  return !what.empty() && what.front() == '[' && p != std::string::npos ? what.substr(p + 2) : what;
}

// What was found, short enough for a one-line error (ASCII, so that the cut splits no character).
std::string found(const json& j) {
  std::string s = j.dump(-1, ' ', true);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string quoted(const std::string& s) { return json(s).dump(); }

// ---- loading -------------------------------------------------------------------------------------

LossCellValue loss_cell(const json& c, const std::string& where) {
  const auto l = c.is_object() ? c.find("loss") : c.end();
  const auto t = c.is_object() ? c.find("tokens") : c.end();
  if (!c.is_object() || l == c.end() || !l->is_number() || !std::isfinite(l->get<double>()) || t == c.end() ||
      !t->is_number_unsigned())
    throw Error(where + ": expected {\"loss\": a number, \"tokens\": a non-negative integer}, found " + found(c));
  return {l->get<double>(), t->get<uint64_t>()};
}

std::vector<std::pair<std::string, LossCellValue>> loss_cells(const json& obj, const std::string& where) {
  if (!obj.is_object())
    throw Error(where + ": expected an object of {\"loss\", \"tokens\"} cells, found " + found(obj));
  std::vector<std::pair<std::string, LossCellValue>> cells;
  for (const auto& [key, c] : obj.items()) cells.emplace_back(key, loss_cell(c, where + "." + quoted(key)));
  return cells;
}

// A number of a log line; absent is fine unless `required`.
std::optional<double> number_field(const json& o, const char* key, const std::string& where, bool required) {
  const auto it = o.find(key);
  if (it == o.end() && !required) return std::nullopt;
  if (it == o.end() || !it->is_number() || !std::isfinite(it->get<double>()))
    throw Error(where + ": expected \"" + key + "\" (a number), found " +
                (it == o.end() ? std::string("none") : found(*it)));
  return it->get<double>();
}

uint64_t count_field(const json& o, const char* key, const std::string& where) {
  const auto it = o.find(key);
  if (it == o.end() || !it->is_number_unsigned())
    throw Error(where + ": expected \"" + key + "\" (a non-negative integer), found " +
                (it == o.end() ? std::string("none") : found(*it)));
  return it->get<uint64_t>();
}

TrainStep train_step(const json& o, const std::string& where) {
  if (!o.is_object()) throw Error(where + ": expected a JSON object (one training step), found " + found(o));
  TrainStep s;
  s.step = count_field(o, "step", where);
  s.loss = *number_field(o, "loss", where, true);
  s.tokens = count_field(o, "tokens", where);
  s.tokens_per_s = number_field(o, "tokens_per_s", where, false);
  s.elapsed_s = number_field(o, "elapsed_s", where, false);
  return s;
}

// ---- formats -------------------------------------------------------------------------------------

std::string loss3(double x) { return sprint("%.3f", x); }
std::string delta3(double x) { return sprint("%+.3f", x); }

std::string wall_time(double s) {
  if (s < 60) return sprint("%.1f s", s);
  const long long t = std::llround(s);
  if (t < 3600) return sprint("%lldm %02llds", t / 60, t % 60);
  return sprint("%lldh %02lldm", t / 3600, t % 3600 / 60);
}

// The lower edge of a bin label as eval-loss writes them ("0-512", "512-4K", "4K+"; parse_size's grammar).
std::optional<uint64_t> bin_lower_edge(const std::string& label) {
  const size_t i = label.find_first_of("-+");
  if (i == 0 || i == std::string::npos) return std::nullopt;
  try {
    return parse_size(label.substr(0, i), "bin");
  } catch (const Error&) {
    return std::nullopt;
  }
}

// A step of 1, 2 or 5 times a power of ten, about span / n.
double nice_step(double span, int n) {
  const double raw = span / n, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (raw <= m * p * 1.0000001) return m * p;
  return 10 * p;
}

void add_unique(std::vector<std::string>& v, const std::string& key) {
  if (std::find(v.begin(), v.end(), key) == v.end()) v.push_back(key);
}

// ---- the training section ------------------------------------------------------------------------

struct Axis {
  double lo, hi, step;
  double at(double v, double from, double to) const { return from + (v - lo) / (hi - lo) * (to - from); }
};

Axis axis_over(double lo, double hi, int ticks, bool from_zero) {
  if (from_zero) lo = 0;
  if (!(hi > lo)) {  // one value: a unit around it
    lo = from_zero ? 0 : lo - 0.5;
    hi = lo + 1;
  }
  const double step = nice_step(hi - lo, ticks);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

std::string y_tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return sprint("%.*f", decimals, v);
}

std::string loss_chart(const std::vector<TrainLog>& logs) {
  double xmax = 0, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& l : logs)
    for (const auto& s : l.steps) {
      xmax = std::max(xmax, static_cast<double>(s.tokens));
      ymin = std::min(ymin, s.loss);
      ymax = std::max(ymax, s.loss);
    }
  const Axis x = axis_over(0, xmax, 8, true), y = axis_over(ymin, ymax, 6, false);
  constexpr double W = 1160, H = 380, L = 62, R = 18, T = 14, B = 44;
  const double x0 = L, x1 = W - R, y0 = H - B, y1 = T;
  std::string o = "<svg class=\"train-loss\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                  "\" role=\"img\"><title>training loss by tokens seen</title>";
  for (int i = 0; x.lo + i * x.step <= x.hi + x.step * 1e-6; ++i) {
    const double v = x.lo + i * x.step, px = x.at(v, x0, x1);
    o += "<line class=\"grid\" x1=\"" + num(px) + "\" x2=\"" + num(px) + "\" y1=\"" + num(y1) + "\" y2=\"" + num(y0) +
         "\"/><text class=\"xtick minor\" x=\"" + num(px) + "\" y=\"" + num(y0 + 16) + "\">" + token_label(v) +
         "</text>";
  }
  for (int i = 0; y.lo + i * y.step <= y.hi + y.step * 1e-6; ++i) {
    const double v = y.lo + i * y.step, py = y.at(v, y0, y1);
    o += "<line class=\"grid\" x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + num(py) + "\" y2=\"" + num(py) +
         "\"/><text class=\"ytick\" x=\"" + num(x0 - 6) + "\" y=\"" + num(py + 4) + "\">" + y_tick_label(v, y.step) +
         "</text>";
  }
  o += "<line class=\"axis\" x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + num(y0) + "\" y2=\"" + num(y0) +
       "\"/><line class=\"axis\" x1=\"" + num(x0) + "\" x2=\"" + num(x0) + "\" y1=\"" + num(y1) + "\" y2=\"" + num(y0) +
       "\"/>";
  o += "<text class=\"xlabel\" x=\"" + num(x1) + "\" y=\"" + num(H - 6) + "\">tokens seen</text>";
  o += "<text class=\"ylabel\" transform=\"rotate(-90)\" x=\"" + num(-(y0 + y1) / 2) + "\" y=\"14\">loss</text>";
  for (size_t k = 0; k < logs.size(); ++k) {
    const auto& l = logs[k];
    std::string pts;
    for (const auto& s : l.steps)
      pts +=
          (pts.empty() ? "" : " ") + num(x.at(static_cast<double>(s.tokens), x0, x1)) + "," + num(y.at(s.loss, y0, y1));
    // Every step is drawn: a log is a few thousand steps, and a curve thinned here would hide spikes.
    o += "<polyline class=\"series\" data-label=\"" + esc(l.label) + "\" data-points=\"" +
         std::to_string(l.steps.size()) + "\" stroke=\"" + colour_of(k) + "\" points=\"" + pts + "\"><title>" +
         esc(l.label) + ": " + count(l.steps.size()) + " steps</title></polyline>";
    const auto& last = l.steps.back();  // a dot at the end, so that a one-step log shows too
    o += "<circle class=\"end\" cx=\"" + num(x.at(static_cast<double>(last.tokens), x0, x1)) + "\" cy=\"" +
         num(y.at(last.loss, y0, y1)) + "\" r=\"3\" fill=\"" + colour_of(k) + "\"/>";
  }
  return o + "</svg>";
}

double last_loss(const TrainLog& l) {  // the mean of the last 5 steps: one noisy step is not the run's end
  const size_t n = std::min<size_t>(5, l.steps.size());
  double sum = 0;
  for (size_t i = l.steps.size() - n; i < l.steps.size(); ++i) sum += l.steps[i].loss;
  return sum / static_cast<double>(n);
}

std::optional<double> median_tokens_per_s(const TrainLog& l) {
  std::vector<double> v;
  for (const auto& s : l.steps)
    if (s.tokens_per_s) v.push_back(*s.tokens_per_s);
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string train_summary(const std::vector<TrainLog>& logs) {
  std::string o =
      "<div class=\"card table-wrap\"><table class=\"train-summary\"><thead><tr><th>run</th><th>steps</th>"
      "<th>tokens</th><th>first loss</th><th>last loss</th><th>median tokens/s</th><th>wall time</th></tr></thead>"
      "<tbody>";
  for (size_t k = 0; k < logs.size(); ++k) {
    const auto& l = logs[k];
    const auto tps = median_tokens_per_s(l);
    const auto& wall = l.steps.back().elapsed_s;
    o += "<tr data-label=\"" + esc(l.label) + "\"><td><span class=\"swatch\" style=\"background:" + colour_of(k) +
         "\"></span>" + esc(l.label) + "</td><td>" + count(l.steps.size()) + "</td><td>" +
         count(l.steps.back().tokens) + "</td><td>" + loss3(l.steps.front().loss) + "</td><td>" + loss3(last_loss(l)) +
         "</td><td>" + (tps ? count(static_cast<uint64_t>(std::llround(*tps))) : kMissing) + "</td><td>" +
         (wall ? wall_time(*wall) : kMissing) + "</td></tr>";
  }
  return o + "</tbody></table></div>";
}

// ---- the loss section ----------------------------------------------------------------------------

// One result's values on the table's grid: rows are domains plus "all", columns bins plus "all".
struct LossGrid {
  std::map<std::pair<std::string, std::string>, LossCellValue> cells;    // (domain, bin)
  std::map<std::string, std::pair<double, uint64_t>> by_domain, by_bin;  // loss x tokens summed, tokens
  double overall = 0;
};

LossGrid grid_of(const LossResultFile& r) {
  LossGrid g;
  g.overall = r.loss;
  for (const auto& [d, bins] : r.domains)
    for (const auto& [b, c] : bins) {
      g.cells[{d, b}] = c;
      for (auto* acc : {&g.by_domain[d], &g.by_bin[b]}) {
        acc->first += c.loss * static_cast<double>(c.tokens);
        acc->second += c.tokens;
      }
    }
  return g;
}

// The value at (row, column); nullopt row or column: "all" (a token-weighted mean of the cells; all x
// all is the result's own loss, which counts every predicted token).
std::optional<double> value_at(const LossGrid& g, const std::optional<std::string>& domain,
                               const std::optional<std::string>& bin) {
  if (!domain && !bin) return g.overall;
  if (domain && bin) {
    const auto it = g.cells.find({*domain, *bin});
    return it == g.cells.end() ? std::nullopt : std::optional<double>(it->second.loss);
  }
  const auto& m = domain ? g.by_domain : g.by_bin;
  const auto it = m.find(domain ? *domain : *bin);
  if (it == m.end() || !it->second.second) return std::nullopt;
  return it->second.first / static_cast<double>(it->second.second);
}

std::string loss_cell_html(const std::vector<LossGrid>& grids, const std::vector<LossResultFile>& rs, size_t k,
                           const std::optional<std::string>& domain, const std::optional<std::string>& bin,
                           bool first_of_group) {
  const auto v = value_at(grids[k], domain, bin);
  std::string cls = k == 0 ? "base" : "delta";
  if (first_of_group) cls += " sep";
  std::string text, title;
  if (k == 0 && v) {
    text = loss3(*v);
  } else if (k > 0 && v) {
    if (const auto b = value_at(grids[0], domain, bin)) {
      const double d = *v - *b;
      text = delta3(d);
      title = esc(rs[k].label) + " " + loss3(*v) + ", " + esc(rs[0].label) + " " + loss3(*b);
      if (d > kSignificant) cls += " worse";
      if (d < -kSignificant) cls += " better";
    } else {
      title = esc(rs[k].label) + " " + loss3(*v) + ", no " + esc(rs[0].label) + " value";
    }
  }
  if (text.empty()) {
    text = kMissing;
    cls += " missing";
  }
  return "<td class=\"" + cls + "\"" + (bin ? " data-bin=\"" + esc(*bin) + "\"" : std::string(" data-bin-all=\"\"")) +
         " data-label=\"" + esc(rs[k].label) + "\"" + (title.empty() ? "" : " title=\"" + title + "\"") + ">" + text +
         "</td>";
}

std::string positions_table(const std::vector<LossResultFile>& rs) {
  std::vector<std::string> buckets;
  for (const auto& r : rs)
    for (const auto& [p, c] : r.positions) add_unique(buckets, p);
  if (buckets.empty()) return "";
  std::string o =
      "<h3>Loss by position</h3><p class=\"summary\">The mean loss of the tokens predicted at these positions of "
      "the sequences (a bucket ends at its label), absolute.</p><div class=\"card table-wrap\">"
      "<table class=\"positions\"><thead><tr><th>result</th>";
  for (const auto& b : buckets) o += "<th data-position=\"" + esc(b) + "\">" + esc(b) + "</th>";
  o += "</tr></thead><tbody>";
  for (const auto& r : rs) {
    o += "<tr data-label=\"" + esc(r.label) + "\"><td>" + esc(r.label) + "</td>";
    for (const auto& b : buckets) {
      const auto it = std::find_if(r.positions.begin(), r.positions.end(), [&](const auto& p) { return p.first == b; });
      o += "<td data-position=\"" + esc(b) + "\"" +
           (it == r.positions.end() ? " class=\"missing\">" + std::string(kMissing)
                                    : " title=\"" + count(it->second.tokens) + " tokens\">" + loss3(it->second.loss)) +
           "</td>";
    }
    o += "</tr>";
  }
  return o + "</tbody></table></div>";
}

}  // namespace

std::string token_label(double n) {
  for (const auto& [unit, suffix] : {std::pair{1e9, "B"}, {1e6, "M"}, {1e3, "K"}})
    if (std::fabs(n) >= unit) return sprint("%.3g", n / unit) + suffix;
  return sprint("%.3g", n);
}

std::pair<std::string, std::string> split_label_file(const std::string& spec, const std::string& flag) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw Error(flag + ": expected LABEL=FILE, found " + quoted(spec));
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

LossResultFile load_loss_result(const std::string& label, const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw Error(path +
                ": expected `longctx eval-loss --json` output, found malformed JSON: " + strip_json_prefix(e.what()));
  }
  const std::string what = path + ": expected `longctx eval-loss --json` output";
  if (!j.is_object()) throw Error(what + " (a JSON object), found " + found(j));
  const auto loss = j.find("loss");
  if (loss == j.end() || !loss->is_number() || !std::isfinite(loss->get<double>()))
    throw Error(what + " with \"loss\" (a number), found " + (loss == j.end() ? std::string("none") : found(*loss)));
  const auto domains = j.find("domains");
  if (domains == j.end() || !domains->is_object())
    throw Error(what + " with \"domains\" (an object), found " +
                (domains == j.end() ? std::string("none") : found(*domains)));
  LossResultFile r;
  r.label = label;
  r.path = path;
  r.loss = loss->get<double>();
  if (const auto t = j.find("tokens"); t != j.end() && t->is_number_unsigned()) r.tokens = t->get<uint64_t>();
  for (const auto& [d, bins] : domains->items())
    r.domains.emplace_back(d, loss_cells(bins, path + ": domains." + quoted(d)));
  if (const auto p = j.find("positions"); p != j.end()) r.positions = loss_cells(*p, path + ": positions");
  return r;
}

TrainLog load_train_log(const std::string& label, const std::string& path) {
  TrainLog log;
  log.label = label;
  log.path = path;
  const std::string text = read_file(path);
  for_each_line(text, [&](std::string_view line, size_t line_no, bool unterminated) {
    const std::string where = path + ":" + std::to_string(line_no);
    json o;
    try {
      o = json::parse(line);
    } catch (const json::exception& e) {
      if (unterminated) return false;  // cut short by a run killed (or still writing)
      throw Error(where + ": expected a `longctx train --log` line (a JSON object), found malformed JSON: " +
                  strip_json_prefix(e.what()));
    }
    log.steps.push_back(train_step(o, where));
    return true;
  });
  if (log.steps.empty())
    throw Error(path + ": expected `longctx train --log` lines (one JSON object per step), found none");
  return log;
}

const char* experiment_report_style() {
  return R"(
.notes p{margin:6px 0 0;max-width:980px}
h3{font-size:13.5px;font-weight:650;margin:18px 0 8px}
section.experiment{margin-top:8px}
.chart{padding:10px 14px 6px}
svg.train-loss{display:block;width:100%;height:auto;font-size:11px;margin-top:6px}
svg .series{fill:none;stroke-width:1.8;stroke-linejoin:round}
svg .series:hover{stroke-width:3}
svg .ylabel{font-size:10.5px}
table.train-summary,table.loss,table.positions{font-size:12.5px}
table.train-summary th,table.train-summary td,table.positions th,table.positions td{padding:5px 10px}
table.loss th,table.loss td{padding:4px 8px}
table.loss td.base{color:var(--ink)}
table.loss td.worse{background:#fcd9d9;color:#9b1c1c;font-weight:700}
table.loss td.better{background:#cdf0dc;color:#05603a;font-weight:700}
td.missing{color:#9aa5b1}
table.loss th small{display:block;font-weight:400;font-size:10.5px}
.key-worse,.key-better{padding:0 4px;border-radius:3px;font-weight:700}
.key-worse{background:#fcd9d9;color:#9b1c1c}
.key-better{background:#cdf0dc;color:#05603a}
)";
}

std::string training_section(const std::vector<TrainLog>& logs) {
  if (logs.empty()) return "";
  std::string o =
      "<section class=\"experiment training\"><h2>Training loss</h2><div class=\"card chart\"><div class=\"legend\">";
  for (size_t k = 0; k < logs.size(); ++k)
    o += "<span><span class=\"swatch\" style=\"background:" + colour_of(k) + "\"></span>" + esc(logs[k].label) +
         "</span>";
  o += "</div>" + loss_chart(logs) + "</div>";
  o += "<p class=\"summary\">Loss of every optimizer step against the tokens trained on so far. Last loss: the mean of "
       "the last 5 steps; wall time: the last step's elapsed time.</p>";
  return o + train_summary(logs) + "</section>";
}

std::string loss_section(const std::vector<LossResultFile>& rs) {
  if (rs.empty()) return "";
  std::vector<std::string> domains, bins;
  for (const auto& r : rs)
    for (const auto& [d, cells] : r.domains) {
      add_unique(domains, d);
      for (const auto& [b, c] : cells) add_unique(bins, b);
    }
  // eval-loss writes bins in name order ("0-512", "4K+", "512-4K"): shown by length when the labels say it.
  if (std::all_of(bins.begin(), bins.end(), [](const std::string& b) { return bin_lower_edge(b).has_value(); }))
    std::stable_sort(bins.begin(), bins.end(), [](const std::string& a, const std::string& b) {
      return *bin_lower_edge(a) < *bin_lower_edge(b);
    });
  std::vector<LossGrid> grids;
  for (const auto& r : rs) grids.push_back(grid_of(r));

  const std::string base = esc(rs[0].label);
  std::string o = "<section class=\"experiment loss\"><h2>Per-domain validation loss (Table 5 style)</h2>";
  o += "<p class=\"summary legend-text\">Rows: domains; columns: document-length bins, one column per result. <b>" +
       base +
       "</b> (the first result, the baseline) shows the absolute loss; every other result shows its loss "
       "\u2212 " +
       base +
       "'s, 3 decimals. |\u0394| &gt; 0.01 is the paper's threshold for a significant change: "
       "<span class=\"key-worse\">worse</span> (\u0394 &gt; +0.01) and <span class=\"key-better\">better</span> "
       "(\u0394 &lt; \u22120.01) are marked. " +
       std::string(kMissing) +
       ": no tokens there. The all row and column "
       "are token-weighted means of the cells; all \u00d7 all is the result's overall loss (every predicted "
       "token).</p>";
  o += "<p class=\"summary\">";
  for (size_t k = 0; k < rs.size(); ++k)
    o += std::string(k ? " · " : "") + "<b>" + esc(rs[k].label) + "</b> " + esc(rs[k].path) +
         (rs[k].tokens ? " (" + token_label(static_cast<double>(rs[k].tokens)) + " tokens)" : "");
  o += "</p><div class=\"card table-wrap\"><table class=\"loss\"><thead><tr class=\"group\"><th></th>";
  const std::string span = std::to_string(rs.size());
  for (const auto& b : bins) o += "<th class=\"span sep\" colspan=\"" + span + "\">" + esc(b) + "</th>";
  o += "<th class=\"span sep\" colspan=\"" + span + "\">all</th></tr><tr><th>domain</th>";
  for (size_t g = 0; g <= bins.size(); ++g)
    for (size_t k = 0; k < rs.size(); ++k)
      o += "<th" + std::string(k == 0 ? " class=\"sep\"" : "") + " data-label=\"" + esc(rs[k].label) + "\">" +
           esc(rs[k].label) + "<small>" + (k == 0 ? "loss" : "\u0394") + "</small></th>";
  o += "</tr></thead><tbody>";
  auto row = [&](const std::optional<std::string>& domain) {
    std::string r = domain ? "<tr data-domain=\"" + esc(*domain) + "\"><td>" + esc(*domain) + "</td>"
                           : std::string("<tr class=\"all\"><td>all</td>");
    for (size_t g = 0; g <= bins.size(); ++g) {
      const auto bin = g < bins.size() ? std::optional<std::string>(bins[g]) : std::nullopt;
      for (size_t k = 0; k < rs.size(); ++k) r += loss_cell_html(grids, rs, k, domain, bin, k == 0);
    }
    return r + "</tr>";
  };
  for (const auto& d : domains) o += row(d);
  o += row(std::nullopt) + "</tbody></table></div>";
  return o + positions_table(rs) + "</section>";
}

std::string experiment_report_html(const Experiment& e) {
  if (e.title.empty() && e.notes.empty() && e.logs.empty() && e.losses.empty())
    return needle_report_html(e.runs, e.metric, e.train_length);  // `longctx report RUN...` keeps its page
  NeedleSections needle;
  if (!e.runs.empty()) needle = needle_report_sections(e.runs, e.metric, e.train_length);
  const std::string title = !e.title.empty()                     ? e.title
                            : e.logs.empty() && e.losses.empty() ? "Needle in a haystack: " + needle.title
                                                                 : "Continual pretraining experiment";
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  o += "<title>" + esc(title) + "</title><style>" + kStyle + needle.style + experiment_report_style() +
       "</style></head><body><main>";
  o += "<header><h1><small>longctx report</small>" + esc(title) + "</h1>";
  if (!e.notes.empty()) {
    o += "<div class=\"notes\">";
    for (const auto& n : e.notes) o += "<p class=\"note\">" + esc(n) + "</p>";
    o += "</div>";
  }
  std::vector<std::string> parts;
  if (!e.logs.empty())
    parts.push_back("<b>" + count(e.logs.size()) + "</b> training log" + (e.logs.size() == 1 ? "" : "s"));
  if (!e.losses.empty())
    parts.push_back("<b>" + count(e.losses.size()) + "</b> eval-loss result" + (e.losses.size() == 1 ? "" : "s") +
                    " (baseline <b>" + esc(e.losses[0].label) + "</b>)");
  if (!e.runs.empty())
    parts.push_back("<b>" + count(e.runs.size()) + "</b> needle run" + (e.runs.size() == 1 ? "" : "s"));
  o += "<p class=\"summary contents\">";
  for (size_t i = 0; i < parts.size(); ++i) o += (i ? " · " : "") + parts[i];
  o += "</p></header>";
  o += training_section(e.logs) + loss_section(e.losses);
  if (!e.runs.empty())
    o += "<section class=\"experiment needle\"><h2>Needle in a haystack</h2>" + needle.intro + needle.body +
         "</section>";
  return o + "</main></body></html>\n";
}

}  // namespace longctx::report
