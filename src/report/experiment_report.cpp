// The experiment page of `longctx report`: training-loss curves (`longctx train --log`), the
// paper's Table 5 (per-domain validation loss of `longctx eval-loss --json` results as differences
// from a baseline, |delta| > 0.01 marked; with several seeds per result, their means and spreads,
// marked only beyond both), loss by position, loss by position against continual-pretraining tokens
// (the paper's Figure 3), and the needle sections of needle_report.cpp. Same look and rules as the other reports (src/report/html.h): inline CSS and
// SVG, no scripts, every string from the data escaped.
#include "longctx/report/experiment_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>

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

// What both loss charts draw around their lines: the y grid with its tick labels, the two axes, the
// x label (XLABEL) and the y label "loss". The x ticks differ (a regular grid, or the evaluated points).
void loss_axes(std::string& o, const Axis& y, double x0, double x1, double y0, double y1, double H, const std::string& xlabel) {
  for (int i = 0; y.lo + i * y.step <= y.hi + y.step * 1e-6; ++i) {
    const double v = y.lo + i * y.step, py = y.at(v, y0, y1);
    o += "<line class=\"grid\" x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + num(py) + "\" y2=\"" + num(py) +
         "\"/><text class=\"ytick\" x=\"" + num(x0 - 6) + "\" y=\"" + num(py + 4) + "\">" + y_tick_label(v, y.step) +
         "</text>";
  }
  o += "<line class=\"axis\" x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + num(y0) + "\" y2=\"" + num(y0) +
       "\"/><line class=\"axis\" x1=\"" + num(x0) + "\" x2=\"" + num(x0) + "\" y1=\"" + num(y1) + "\" y2=\"" + num(y0) +
       "\"/>";
  o += "<text class=\"xlabel\" x=\"" + num(x1) + "\" y=\"" + num(H - 6) + "\">" + xlabel + "</text>";
  o += "<text class=\"ylabel\" transform=\"rotate(-90)\" x=\"" + num(-(y0 + y1) / 2) + "\" y=\"14\">loss</text>";
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
  loss_axes(o, y, x0, x1, y0, y1, H, "tokens seen");
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

// The results of one label: the seeds of one configuration, in the order given.
struct LossGroup {
  std::string label;
  std::vector<const LossResultFile*> files;
  std::vector<LossGrid> grids;
};

std::vector<LossGroup> group_by_label(const std::vector<LossResultFile>& rs) {
  std::vector<LossGroup> gs;
  for (const auto& r : rs) {
    auto it = std::find_if(gs.begin(), gs.end(), [&](const LossGroup& g) { return g.label == r.label; });
    if (it == gs.end()) it = gs.insert(gs.end(), LossGroup{r.label, {}, {}});
    it->files.push_back(&r);
    it->grids.push_back(grid_of(r));
  }
  return gs;
}

// Mean and sample standard deviation (n - 1; 0 for one value) of the values the seeds have.
struct Stat {
  double mean = 0, sd = 0;
  std::vector<double> values;
};

std::optional<Stat> stat_of(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  Stat s;
  for (const double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (const double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
  s.values = std::move(v);
  return s;
}

std::optional<Stat> stat_at(const LossGroup& g, const std::optional<std::string>& domain,
                            const std::optional<std::string>& bin) {
  std::vector<double> v;
  for (const auto& grid : g.grids)
    if (const auto x = value_at(grid, domain, bin)) v.push_back(*x);
  return stat_of(std::move(v));
}

// x against the baseline: the difference of means, the spread of a difference between two single
// runs, and whether it counts: beyond the paper's 0.01 and beyond what the seeds alone move it by.
struct Delta {
  double d = 0, spread = 0;
  bool marked = false;
};

Delta delta_of(const Stat& x, const Stat& base) {
  Delta r;
  r.d = x.mean - base.mean;
  r.spread = std::sqrt(x.sd * x.sd + base.sd * base.sd);
  r.marked = std::fabs(r.d) > kSignificant && std::fabs(r.d) > r.spread;
  return r;
}

bool seeded(const std::vector<LossGroup>& gs) {
  return std::any_of(gs.begin(), gs.end(), [](const LossGroup& g) { return g.files.size() > 1; });
}

std::string seed_values(const LossGroup& g, const Stat& s) {  // a tooltip: every seed's value
  std::string o = esc(g.label) + " " + loss3(s.mean);
  if (s.values.size() > 1) {
    o += " (";
    for (size_t i = 0; i < s.values.size(); ++i) o += (i ? ", " : "") + loss3(s.values[i]);
    o += ")";
  }
  return o;
}

std::string spread_html(double s) { return "<small class=\"spread\">\u00b1" + sprint("%.3f", s) + "</small>"; }

std::string loss_cell_html(const std::vector<LossGroup>& gs, size_t k, const std::optional<std::string>& domain,
                           const std::optional<std::string>& bin, bool first_of_group, bool show_spread) {
  const auto v = stat_at(gs[k], domain, bin);
  std::string cls = k == 0 ? "base" : "delta";
  if (first_of_group) cls += " sep";
  std::string text, title;
  if (k == 0 && v) {
    text = loss3(v->mean) + (show_spread ? spread_html(v->sd) : "");
    title = seed_values(gs[0], *v);
  } else if (k > 0 && v) {
    if (const auto b = stat_at(gs[0], domain, bin)) {
      const Delta d = delta_of(*v, *b);
      text = delta3(d.d) + (show_spread ? spread_html(d.spread) : "");
      title = seed_values(gs[k], *v) + ", " + seed_values(gs[0], *b);
      if (d.marked) cls += d.d > 0 ? " worse" : " better";
    } else {
      title = seed_values(gs[k], *v) + ", no " + esc(gs[0].label) + " value";
    }
  }
  if (text.empty()) {
    text = kMissing;
    cls += " missing";
  }
  if (k == 0 && !show_spread) title.clear();  // one run: the cell says it all
  return "<td class=\"" + cls + "\"" + (bin ? " data-bin=\"" + esc(*bin) + "\"" : std::string(" data-bin-all=\"\"")) +
         " data-label=\"" + esc(gs[k].label) + "\"" + (title.empty() ? "" : " title=\"" + title + "\"") + ">" + text +
         "</td>";
}

std::vector<std::string> position_buckets(const std::vector<const LossResultFile*>& rs) {
  std::vector<std::string> buckets;
  for (const auto* r : rs)
    for (const auto& [p, c] : r->positions) add_unique(buckets, p);
  return buckets;
}

std::optional<LossCellValue> position_of(const LossResultFile& r, const std::string& bucket) {
  const auto it = std::find_if(r.positions.begin(), r.positions.end(), [&](const auto& p) { return p.first == bucket; });
  return it == r.positions.end() ? std::nullopt : std::optional<LossCellValue>(it->second);
}

std::optional<Stat> position_stat(const LossGroup& g, const std::string& bucket) {
  std::vector<double> v;
  for (const auto* r : g.files)
    if (const auto c = position_of(*r, bucket)) v.push_back(c->loss);
  return stat_of(std::move(v));
}

std::string positions_table(const std::vector<LossGroup>& gs) {
  std::vector<const LossResultFile*> all;
  for (const auto& g : gs) all.insert(all.end(), g.files.begin(), g.files.end());
  const std::vector<std::string> buckets = position_buckets(all);
  if (buckets.empty()) return "";
  const bool spread = seeded(gs);
  std::string o =
      "<h3>Loss by position</h3><p class=\"summary\">The mean loss of the tokens predicted at these positions of "
      "the sequences (a bucket ends at its label), absolute" +
      std::string(spread ? "; mean \u00b1 standard deviation over a result's seeds" : "") +
      ".</p><div class=\"card table-wrap\"><table class=\"positions\"><thead><tr><th>result</th>";
  for (const auto& b : buckets) o += "<th data-position=\"" + esc(b) + "\">" + esc(b) + "</th>";
  o += "</tr></thead><tbody>";
  for (const auto& g : gs) {
    o += "<tr data-label=\"" + esc(g.label) + "\"><td>" + esc(g.label) + "</td>";
    for (const auto& b : buckets) {
      const auto s = position_stat(g, b);
      uint64_t tokens = 0;
      if (const auto c = position_of(*g.files[0], b)) tokens = c->tokens;
      o += "<td data-position=\"" + esc(b) + "\"" +
           (!s ? " class=\"missing\">" + std::string(kMissing)
               : " title=\"" + count(tokens) + " tokens\">" + loss3(s->mean) + (spread ? spread_html(s->sd) : "")) +
           "</td>";
    }
    o += "</tr>";
  }
  return o + "</tbody></table></div>";
}

// Domains and bins over every result; bins by length when their labels say it (eval-loss writes
// them in name order: "0-512", "4K+", "512-4K").
std::pair<std::vector<std::string>, std::vector<std::string>> table_axes(const std::vector<LossResultFile>& rs) {
  std::vector<std::string> domains, bins;
  for (const auto& r : rs)
    for (const auto& [d, cells] : r.domains) {
      add_unique(domains, d);
      for (const auto& [b, c] : cells) add_unique(bins, b);
    }
  if (std::all_of(bins.begin(), bins.end(), [](const std::string& b) { return bin_lower_edge(b).has_value(); }))
    std::stable_sort(bins.begin(), bins.end(), [](const std::string& a, const std::string& b) {
      return *bin_lower_edge(a) < *bin_lower_edge(b);
    });
  return {domains, bins};
}

// ---- the curve section (Figure 3) ----------------------------------------------------------------

// The series of the curve: every position bucket, then "all" (the result's overall loss).
std::vector<std::string> curve_series(const std::vector<CurvePoint>& curve) {
  std::vector<const LossResultFile*> rs;
  for (const auto& p : curve) rs.push_back(&p.result);
  std::vector<std::string> s = position_buckets(rs);
  s.push_back("all");
  return s;
}

std::optional<double> curve_value(const CurvePoint& p, const std::string& series) {
  if (series == "all") return p.result.loss;
  if (const auto c = position_of(p.result, series)) return c->loss;
  return std::nullopt;
}

std::string curve_chart(const std::vector<CurvePoint>& curve, const std::vector<std::string>& series) {
  double xmax = 0, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& p : curve) {
    xmax = std::max(xmax, static_cast<double>(p.tokens));
    for (const auto& s : series)
      if (const auto v = curve_value(p, s)) {
        ymin = std::min(ymin, *v);
        ymax = std::max(ymax, *v);
      }
  }
  const Axis x = axis_over(0, xmax, 8, true), y = axis_over(ymin, ymax, 6, false);
  constexpr double W = 1160, H = 340, L = 62, R = 18, T = 14, B = 44;
  const double x0 = L, x1 = W - R, y0 = H - B, y1 = T;
  std::string o = "<svg class=\"curve\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                  "\" role=\"img\"><title>loss by position against continual-pretraining tokens</title>";
  for (const auto& p : curve) {  // a grid line at every evaluated point: the x values are the data
    const double px = x.at(static_cast<double>(p.tokens), x0, x1);
    o += "<line class=\"grid\" x1=\"" + num(px) + "\" x2=\"" + num(px) + "\" y1=\"" + num(y1) + "\" y2=\"" + num(y0) +
         "\"/><text class=\"xtick minor\" x=\"" + num(px) + "\" y=\"" + num(y0 + 16) + "\">" +
         token_label(static_cast<double>(p.tokens)) + "</text>";
  }
  loss_axes(o, y, x0, x1, y0, y1, H, "continual-pretraining tokens");
  for (size_t k = 0; k < series.size(); ++k) {
    const std::string colour = series[k] == "all" ? kAllColour : colour_of(k);
    std::string pts, dots;
    size_t n = 0;
    for (const auto& p : curve)
      if (const auto v = curve_value(p, series[k])) {
        const std::string px = num(x.at(static_cast<double>(p.tokens), x0, x1)), py = num(y.at(*v, y0, y1));
        pts += (pts.empty() ? "" : " ") + px + "," + py;
        dots += "<circle cx=\"" + px + "\" cy=\"" + py + "\" r=\"3.5\" fill=\"" + colour + "\"><title>" +
                esc(series[k]) + " at " + token_label(static_cast<double>(p.tokens)) + " tokens: " + loss3(*v) +
                "</title></circle>";
        ++n;
      }
    o += "<polyline class=\"series\" data-series=\"" + esc(series[k]) + "\" data-points=\"" + std::to_string(n) +
         "\" stroke=\"" + colour + "\" points=\"" + pts + "\"/>" + dots;
  }
  return o + "</svg>";
}

std::string curve_table(const std::vector<CurvePoint>& curve, const std::vector<std::string>& series) {
  std::string o =
      "<div class=\"card table-wrap\"><table class=\"curve\"><thead><tr><th>tokens</th><th>result</th>";
  for (const auto& s : series) o += "<th data-series=\"" + esc(s) + "\">" + esc(s) + "</th>";
  o += "</tr></thead><tbody>";
  for (const auto& p : curve) {
    o += "<tr data-tokens=\"" + std::to_string(p.tokens) + "\"><td>" + count(p.tokens) + "</td><td>" +
         esc(p.result.path) + "</td>";
    for (const auto& s : series) {
      const auto v = curve_value(p, s);
      o += "<td data-series=\"" + esc(s) + "\"" + (v ? ">" + loss3(*v) : " class=\"missing\">" + std::string(kMissing)) +
           "</td>";
    }
    o += "</tr>";
  }
  return o + "</tbody></table></div>";
}

// ---- plain text ----------------------------------------------------------------------------------

// Rows of cells as text columns, each as wide as its widest cell, two spaces apart (the cells are
// ASCII: widths in bytes are widths on screen).
std::string columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::string o;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) o += r[i] + (i + 1 < r.size() ? std::string(w[i] - r[i].size() + 2, ' ') : "");
    o += "\n";
  }
  return o;
}

std::string text_cell(const std::vector<LossGroup>& gs, size_t k, const std::optional<std::string>& domain,
                      const std::optional<std::string>& bin, bool spread) {
  const auto v = stat_at(gs[k], domain, bin);
  if (!v) return "-";
  if (k == 0) return loss3(v->mean) + (spread ? "+-" + sprint("%.3f", v->sd) : "");
  const auto b = stat_at(gs[0], domain, bin);
  if (!b) return "-";
  const Delta d = delta_of(*v, *b);
  return delta3(d.d) + (spread ? "+-" + sprint("%.3f", d.spread) : "") + (d.marked ? " *" : "");
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
small.spread{display:block;font-weight:400;font-size:10px;opacity:.75}
svg.curve{display:block;width:100%;height:auto;font-size:11px;margin-top:6px}
table.curve{font-size:12.5px}
table.curve th,table.curve td{padding:5px 10px}
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
  // Named, not a structured binding: `row` below captures bins (clang < 16 cannot).
  const auto axes = table_axes(rs);
  const std::vector<std::string>& domains = axes.first;
  const std::vector<std::string>& bins = axes.second;
  const std::vector<LossGroup> gs = group_by_label(rs);
  const bool spread = seeded(gs);

  const std::string base = esc(gs[0].label);
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
  if (spread)
    o += "<p class=\"summary seeds-text\">Seeds: a result given with several files is one configuration run "
         "with different seeds. <b>" +
         base +
         "</b> shows the mean over its seeds \u00b1 their standard deviation sd; every other result the "
         "difference of the means \u0394 \u00b1 s, s = \u221a(sd\u00b2 + sd<sub>" +
         base +
         "</sub>\u00b2), the spread of the difference between two single-seed runs. A cell is marked only when "
         "|\u0394| &gt; 0.01 <b>and</b> |\u0394| &gt; s. Hover a cell for every seed's value.</p>";
  o += "<p class=\"summary\">";
  for (size_t k = 0; k < gs.size(); ++k) {
    o += std::string(k ? " · " : "") + "<b>" + esc(gs[k].label) + "</b> ";
    if (gs[k].files.size() > 1) o += std::to_string(gs[k].files.size()) + " seeds: ";
    for (size_t i = 0; i < gs[k].files.size(); ++i) o += (i ? ", " : "") + esc(gs[k].files[i]->path);
    const uint64_t tokens = gs[k].files[0]->tokens;
    if (tokens) o += " (" + token_label(static_cast<double>(tokens)) + " tokens)";
  }
  o += "</p><div class=\"card table-wrap\"><table class=\"loss\"><thead><tr class=\"group\"><th></th>";
  const std::string span = std::to_string(gs.size());
  for (const auto& b : bins) o += "<th class=\"span sep\" colspan=\"" + span + "\">" + esc(b) + "</th>";
  o += "<th class=\"span sep\" colspan=\"" + span + "\">all</th></tr><tr><th>domain</th>";
  for (size_t g = 0; g <= bins.size(); ++g)
    for (size_t k = 0; k < gs.size(); ++k) {
      const size_t n = gs[k].files.size();
      o += "<th" + std::string(k == 0 ? " class=\"sep\"" : "") + " data-label=\"" + esc(gs[k].label) +
           "\" data-seeds=\"" + std::to_string(n) + "\">" + esc(gs[k].label) + "<small>" +
           (k == 0 ? "loss" : "\u0394") + (n > 1 ? ", " + std::to_string(n) + " seeds" : "") + "</small></th>";
    }
  o += "</tr></thead><tbody>";
  auto row = [&](const std::optional<std::string>& domain) {
    std::string r = domain ? "<tr data-domain=\"" + esc(*domain) + "\"><td>" + esc(*domain) + "</td>"
                           : std::string("<tr class=\"all\"><td>all</td>");
    for (size_t g = 0; g <= bins.size(); ++g) {
      const auto bin = g < bins.size() ? std::optional<std::string>(bins[g]) : std::nullopt;
      for (size_t k = 0; k < gs.size(); ++k) r += loss_cell_html(gs, k, domain, bin, k == 0, spread);
    }
    return r + "</tr>";
  };
  for (const auto& d : domains) o += row(d);
  o += row(std::nullopt) + "</tbody></table></div>";
  return o + positions_table(gs) + "</section>";
}

std::string curve_section(const std::vector<CurvePoint>& curve) {
  if (curve.empty()) return "";
  const std::vector<std::string> series = curve_series(curve);
  std::string o =
      "<section class=\"experiment curve\"><h2>Loss by position against continual-pretraining tokens (Figure 3 "
      "style)</h2><div class=\"card chart\"><div class=\"legend\">";
  for (size_t k = 0; k < series.size(); ++k)
    o += "<span><span class=\"swatch\" style=\"background:" +
         std::string(series[k] == "all" ? kAllColour : colour_of(k)) + "\"></span>" +
         (series[k] == "all" ? std::string("all tokens") : "positions &lt; " + esc(series[k])) + "</span>";
  o += "</div>" + curve_chart(curve, series) + "</div>";
  o += "<p class=\"summary\">The validation loss of one model at several points of its continual pretraining: a "
       "line per position bucket (the tokens predicted at positions below its label and at or above the "
       "previous one), and the loss over all tokens. Points at the tokens trained on so far.</p>";
  return o + curve_table(curve, series) + "</section>";
}

std::string loss_table_text(const std::vector<LossResultFile>& rs, const std::vector<CurvePoint>& curve) {
  std::string o;
  if (!rs.empty()) {
    const auto [domains, bins] = table_axes(rs);
    const std::vector<LossGroup> gs = group_by_label(rs);
    const bool spread = seeded(gs);
    o += "Per-domain validation loss (Table 5): " + gs[0].label + " absolute, the others as delta = loss - " +
         gs[0].label + "'s.\n";
    if (spread)
      o += gs[0].label + ": mean+-sd over its seeds; others: difference of means +- s, s = sqrt(sd^2 + sd_" +
           gs[0].label + "^2).\n* = |delta| > 0.01 and |delta| > s.\n";
    else
      o += "* = |delta| > 0.01.\n";
    o += "seeds:";
    for (const auto& g : gs) o += " " + g.label + " " + std::to_string(g.files.size()) + ";";
    o += "\n\n";
    std::vector<std::vector<std::string>> t = {{"domain", "bin"}};
    for (const auto& g : gs) t[0].push_back(g.label);
    std::vector<std::optional<std::string>> rows(domains.begin(), domains.end()), cols(bins.begin(), bins.end());
    rows.push_back(std::nullopt);  // all
    cols.push_back(std::nullopt);
    for (const auto& d : rows)
      for (const auto& b : cols) {
        if (std::none_of(gs.begin(), gs.end(), [&](const LossGroup& g) { return stat_at(g, d, b).has_value(); }))
          continue;  // no result has tokens there
        t.push_back({d.value_or("all"), b.value_or("all")});
        for (size_t k = 0; k < gs.size(); ++k) t.back().push_back(text_cell(gs, k, d, b, spread));
      }
    o += columns(t);
    std::vector<const LossResultFile*> all;
    for (const auto& g : gs) all.insert(all.end(), g.files.begin(), g.files.end());
    const auto buckets = position_buckets(all);
    if (!buckets.empty()) {
      o += "\nLoss by position (absolute" + std::string(spread ? ", mean+-sd over seeds" : "") + ")\n";
      std::vector<std::vector<std::string>> p = {{"result"}};
      for (const auto& b : buckets) p[0].push_back("<" + b);
      for (const auto& g : gs) {
        p.push_back({g.label});
        for (const auto& b : buckets) {
          const auto s = position_stat(g, b);
          p.back().push_back(s ? loss3(s->mean) + (spread ? "+-" + sprint("%.3f", s->sd) : "") : "-");
        }
      }
      o += columns(p);
    }
  }
  if (!curve.empty()) {
    const auto series = curve_series(curve);
    o += std::string(o.empty() ? "" : "\n") + "Loss by position against continual-pretraining tokens (Figure 3)\n";
    std::vector<std::vector<std::string>> c = {{"tokens"}};
    for (const auto& s : series) c[0].push_back(s == "all" ? "all" : "<" + s);
    for (const auto& p : curve) {
      c.push_back({std::to_string(p.tokens)});
      for (const auto& s : series) {
        const auto v = curve_value(p, s);
        c.back().push_back(v ? loss3(*v) : "-");
      }
    }
    o += columns(c);
  }
  return o;
}

std::string experiment_report_html(const Experiment& e) {
  if (e.title.empty() && e.notes.empty() && e.logs.empty() && e.losses.empty() && e.curve.empty())
    return needle_report_html(e.runs, e.metric, e.train_length);  // `longctx report RUN...` keeps its page
  NeedleSections needle;
  if (!e.runs.empty()) needle = needle_report_sections(e.runs, e.metric, e.train_length);
  const std::string title = !e.title.empty()                     ? e.title
                            : e.logs.empty() && e.losses.empty() && e.curve.empty() ? "Needle in a haystack: " + needle.title
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
  if (!e.curve.empty())
    parts.push_back("<b>" + count(e.curve.size()) + "</b> curve point" + (e.curve.size() == 1 ? "" : "s"));
  if (!e.runs.empty())
    parts.push_back("<b>" + count(e.runs.size()) + "</b> needle run" + (e.runs.size() == 1 ? "" : "s"));
  o += "<p class=\"summary contents\">";
  for (size_t i = 0; i < parts.size(); ++i) o += (i ? " · " : "") + parts[i];
  o += "</p></header>";
  o += training_section(e.logs) + loss_section(e.losses) + curve_section(e.curve);
  if (!e.runs.empty())
    o += "<section class=\"experiment needle\"><h2>Needle in a haystack</h2>" + needle.intro + needle.body +
         "</section>";
  return o + "</main></body></html>\n";
}

}  // namespace longctx::report
