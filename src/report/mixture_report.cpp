// The `longctx prepare` HTML report: a header, the paper's Figure 2 (token share by domain and by
// length bin, before and after mixing) as two grouped bar charts, the plan table, the pack summary,
// and then the store's length statistics (the sections of the stats report). Same look, palette and
// rules as the stats report (src/report/html.h): inline CSS and SVG, no scripts, every string from
// the data escaped.
#include "longctx/report/mixture_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "html.h"
#include "longctx/report/length_report.h"
#include "longctx/util/error.h"

namespace longctx::report {
namespace {

using mix::StoreLengthStats;
using namespace html;
using ojson = nlohmann::ordered_json;

constexpr const char* kBeforeColour = "#cbd2d9";  // the store: a neutral grey under every colour

// What the page needs from plan.json (mix::Plan::to_json), read leniently: a missing field reads as
// zero or empty, so a plan from a newer writer still renders.
struct DomainRow {
  std::string name;
  double target_share = 0, share = 0, long_share = 0;
  uint64_t budget = 0, available = 0, tokens = 0, documents = 0, shortfall = 0, passes = 0;
  uint64_t cut_tokens = 0;  // of the document cut to meet the budget (exact budgets)
};

struct PlanView {
  std::string strategy, store_path;
  uint64_t tokens = 0, tokens_requested = 0, seed = 0, long_threshold = 4096;
  bool exact_budgets = false;
  ojson options;
  std::vector<DomainRow> domains;
  std::vector<std::string> notes;
  std::map<std::string, double> before_domains, after_domains;
  std::vector<std::pair<std::string, double>> before_bins, after_bins;
};

template <typename T>
T get_or(const ojson& j, const char* key, T fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->template get<T>();
}

ojson parse_json(const std::string& text, const std::string& what) {
  try {
    return ojson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": malformed JSON: " + e.what());
  }
}

PlanView read_plan_json(const std::string& text) {
  const ojson j = parse_json(text, "plan.json");
  PlanView p;
  try {
    if (!j.is_object()) throw Error("plan.json: expected a JSON object");
    p.strategy = get_or<std::string>(j, "strategy", "");
    p.tokens = get_or<uint64_t>(j, "tokens", 0);
    p.tokens_requested = get_or<uint64_t>(j, "tokens_requested", 0);
    p.seed = get_or<uint64_t>(j, "seed", 0);
    p.exact_budgets = get_or<bool>(j, "exact_budgets", false);
    if (const auto s = j.find("store"); s != j.end() && s->is_object()) p.store_path = get_or<std::string>(*s, "path", "");
    if (const auto o = j.find("options"); o != j.end() && o->is_object()) {
      p.options = *o;
      p.long_threshold = get_or<uint64_t>(*o, "long_threshold", 4096);
    }
    if (const auto d = j.find("domains"); d != j.end() && d->is_object())
      for (const auto& [name, v] : d->items()) {
        DomainRow r;
        r.name = name;
        r.target_share = get_or<double>(v, "target_share", 0);
        r.budget = get_or<uint64_t>(v, "budget", 0);
        r.available = get_or<uint64_t>(v, "available", 0);
        r.tokens = get_or<uint64_t>(v, "tokens", 0);
        r.documents = get_or<uint64_t>(v, "documents", 0);
        r.share = get_or<double>(v, "share", 0);
        r.long_share = get_or<double>(v, "long_token_share", 0);
        r.shortfall = get_or<uint64_t>(v, "shortfall", 0);
        r.passes = get_or<uint64_t>(v, "passes", 0);
        r.cut_tokens = get_or<uint64_t>(v, "cut_tokens", 0);
        p.domains.push_back(std::move(r));
      }
    if (const auto n = j.find("notes"); n != j.end() && n->is_array())
      for (const auto& x : *n) p.notes.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    if (const auto f = j.find("figure2"); f != j.end() && f->is_object()) {
      auto side = [&](const char* name, std::map<std::string, double>& domains,
                      std::vector<std::pair<std::string, double>>& bins) {
        const auto s = f->find(name);
        if (s == f->end() || !s->is_object()) return;
        if (const auto d = s->find("domains"); d != s->end() && d->is_object())
          for (const auto& [k, v] : d->items()) domains[k] = v.get<double>();
        if (const auto b = s->find("bins"); b != s->end() && b->is_object())
          for (const auto& [k, v] : b->items()) bins.emplace_back(k, v.get<double>());
      };
      side("before", p.before_domains, p.before_bins);
      side("after", p.after_domains, p.after_bins);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("plan.json: unexpected content: ") + e.what());
  }
  return p;
}

// A UTF-8 label cut to about `max_units` character widths, with an ellipsis when cut; CJK and other
// wide characters (lead byte 0xE3 and up: U+3000 on, emoji) count as two.
std::string clip(const std::string& s, size_t max_units) {
  size_t units = 0, cut = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    units += c >= 0xE3 ? 2 : 1;
    if (units + 1 <= max_units) cut = i + 1;  // this character still leaves room for the ellipsis...
    while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;  // ...whole
    if (units > max_units) return s.substr(0, cut) + "\u2026";
  }
  return s;
}

std::string tokens_text(uint64_t n) { return count(n) + (n == 1 ? " token" : " tokens"); }

// ---- Figure 2 ------------------------------------------------------------------------------------

struct Group {
  std::string key, label, colour;  // colour of the "after" bar
  double before = 0, after = 0;
};

// A grouped bar chart: one group per key, the store's share (grey) left and the plan's (colour)
// right, each labelled with its value; the y axis runs from 0 to a round maximum above both.
std::string grouped_bars_svg(const std::string& chart, const std::string& what, const std::vector<Group>& groups,
                             const std::string& xlabel) {
  constexpr double W = 1160, H = 268, L = 56, R = 14, T = 24, B = 50;
  const double pw = W - L - R, ph = H - T - B;
  double top = 0;
  for (const auto& g : groups) top = std::max({top, g.before, g.after});
  double step = 0.5;  // a "nice" y step: at most five gridlines, and a round number for each
  for (const double c : {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5})
    if (std::ceil(top / c - 1e-9) <= 5) {
      step = c;
      break;
    }
  const double ymax = std::max(step, std::ceil(top / step - 1e-9) * step);
  auto y_of = [&](double sh) { return T + ph - std::clamp(sh, 0.0, ymax) / ymax * ph; };

  std::string o = "<svg class=\"figure2\" data-chart=\"" + chart + "\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                  "\" role=\"img\"><title>" + esc(what) + ", before and after mixing</title>";
  for (double v = 0; v <= ymax + 1e-9; v += step) {
    const double y = y_of(v);
    o += "<line class=\"grid\" x1=\"" + num(L) + "\" x2=\"" + num(L + pw) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
         "\"/><text class=\"ytick\" x=\"" + num(L - 6) + "\" y=\"" + num(y + 3.5) + "\">" +
         sprint(step < 0.01 ? "%.1f%%" : "%.0f%%", 100 * v) + "</text>";
  }
  const double gw = groups.empty() ? pw : pw / groups.size();
  const double bw = std::min(64.0, std::max(2.0, (gw * 0.78 - 4) / 2));  // bar width; 4 between the two
  const size_t max_units = std::max<size_t>(4, static_cast<size_t>((gw - 8) / 7.6));  // bold 11.5px
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    const double cx = L + gw * (i + 0.5);
    if (i % 2)
      o += "<rect class=\"band\" x=\"" + num(L + gw * i) + "\" y=\"" + num(T) + "\" width=\"" + num(gw) +
           "\" height=\"" + num(ph) + "\"/>";
    auto bar = [&](const char* series, const char* who, double v, const std::string& fill, double x) {
      const double y = y_of(v), h = v > 0 ? std::max(1.0, T + ph - y) : 0.0;
      o += "<rect class=\"bar " + std::string(series) + "\" data-key=\"" + esc(g.key) + "\" fill=\"" + fill +
           "\" x=\"" + num(x) + "\" y=\"" + num(T + ph - h) + "\" width=\"" + num(bw) + "\" height=\"" + num(h) +
           "\"><title>" + esc(g.label) + ", " + who + ": " + pct(v) + " of the tokens</title></rect>";
      o += "<text class=\"value " + std::string(series) + "\" data-key=\"" + esc(g.key) + "\" x=\"" + num(x + bw / 2) +
           "\" y=\"" + num(T + ph - h - 4) + "\">" + pct(v) + "</text>";
    };
    bar("before", "before (the store)", g.before, kBeforeColour, cx - 2 - bw);
    bar("after", "after (the plan)", g.after, g.colour, cx + 2);
    // The category, and the change in percentage points under it.
    const std::string label = clip(g.label, max_units);
    o += "<text class=\"cat\" x=\"" + num(cx) + "\" y=\"" + num(T + ph + 16) + "\">" + esc(label) +
         (label != g.label ? "<title>" + esc(g.label) + "</title>" : "") + "</text>";
    const double d = 100 * (g.after - g.before);
    const std::string delta = std::fabs(d) < 0.05 ? "\u00b10.0 pp" : (d < 0 ? "\u2212" : "+") + sprint("%.1f pp", std::fabs(d));
    o += "<text class=\"delta\" x=\"" + num(cx) + "\" y=\"" + num(T + ph + 30) + "\">" + delta + "</text>";
  }
  o += "<line class=\"axis\" x1=\"" + num(L) + "\" x2=\"" + num(L + pw) + "\" y1=\"" + num(T + ph) + "\" y2=\"" +
       num(T + ph) + "\"/>";
  o += "<text class=\"ylabel\" transform=\"translate(13," + num(T + ph / 2) + ") rotate(-90)\">share of tokens</text>";
  o += "<text class=\"xlabel\" x=\"" + num(L + pw) + "\" y=\"" + num(H - 3) + "\">" + esc(xlabel) + "</text>";
  return o + "</svg>";
}

std::string legend(const std::string& after_swatches, uint64_t store_tokens, uint64_t plan_tokens) {
  return "<div class=\"legend\"><span><span class=\"swatch\" style=\"background:" + std::string(kBeforeColour) +
         "\"></span>before: the store, " + tokens_text(store_tokens) + "</span><span>" + after_swatches +
         "after: the plan, " + tokens_text(plan_tokens) + "</span></div>";
}

std::string swatch(const std::string& colour, bool mini = false) {
  return "<span class=\"swatch" + std::string(mini ? " mini" : "") + "\" style=\"background:" + colour + "\"></span>";
}

// ---- the page ------------------------------------------------------------------------------------

constexpr const char* kMixtureStyle = R"(
.figure2-grid{display:grid;gap:14px}
svg.figure2{display:block;width:100%;height:auto;font-size:11px;margin-top:6px}
svg .value{text-anchor:middle;font-size:10.5px;font-variant-numeric:tabular-nums}
svg .value.after{fill:#1f2933;font-weight:650}
svg .cat{text-anchor:middle;fill:#3e4c59;font-weight:600;font-size:11.5px}
svg .delta{text-anchor:middle;fill:#9aa5b1;font-size:10px}
.swatch.mini{margin-right:1px}
.swatch.mini:last-of-type{margin-right:7px}
table.plan{font-size:12.5px}
table.plan th,table.plan td{padding:5px 8px}
td.shortfall{background:#fde8e8;color:#c81e1e;font-weight:650}
.muted{color:var(--muted)}
.plan-notes{padding:4px 12px 10px;font-size:12.5px;color:var(--muted)}
.plan-notes ul{margin:4px 0 0;padding-left:18px}
.plan-notes li{overflow-wrap:anywhere}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));padding:4px}
.tile{padding:10px 14px}
.tile span{display:block;color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.04em}
.tile b{font-size:18px;font-weight:650;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.tile small{display:block;color:var(--muted);font-size:11.5px}
.store-sections{margin-top:30px;padding-top:4px;border-top:1px solid var(--line)}
)";

std::string header(const StoreLengthStats& s, const store::Manifest& m, const PlanView& p, const ojson* packed,
                   const std::string& title) {
  std::string o = "<header><h1><small>longctx prepare</small>" + esc(title) + "</h1><p class=\"summary\">";
  o += "strategy <b>" + esc(p.strategy) + "</b> · <b>" + count(p.tokens) + "</b> tokens planned of <b>" +
       count(p.tokens_requested) + "</b> requested";
  if (p.tokens_requested) o += " (" + pct(share(p.tokens, p.tokens_requested)) + ")";
  const bool short_of = std::any_of(p.domains.begin(), p.domains.end(), [](const DomainRow& d) { return d.shortfall > 0; });
  if (p.exact_budgets && !short_of) o += ", every budget met to the token";
  o += " · seed <b>" + std::to_string(p.seed) + "</b>";
  if (packed)
    o += " · <b>" + count(get_or<uint64_t>(*packed, "sequences", 0)) + "</b> sequences × <b>" +
         count(get_or<uint64_t>(*packed, "seq_len", 0)) + "</b> tokens, " +
         esc(get_or<std::string>(*packed, "layout", "")) + " layout";
  else
    o += " · not packed";
  o += "</p><p class=\"summary\">store " + esc(p.store_path.empty() ? std::string("(unnamed)") : p.store_path) +
       ": <b>" + count(s.documents) + "</b> documents · <b>" + count(s.tokens) + "</b> tokens · <b>" +
       count(s.domains.size()) + "</b> domain" + (s.domains.size() == 1 ? "" : "s") + " · tokenizer " +
       esc(m.tokenizer_path);
  return o + "</p></header>";
}

std::string figure2(const StoreLengthStats& s, const PlanView& p, const std::vector<std::string>& order,
                    const std::map<std::string, std::string>& colours) {
  std::vector<Group> domains;
  std::string swatches;
  for (const auto& name : order) {
    const auto b = p.before_domains.find(name), a = p.after_domains.find(name);
    domains.push_back({name, name, colours.at(name), b == p.before_domains.end() ? 0.0 : b->second,
                       a == p.after_domains.end() ? 0.0 : a->second});
    swatches += swatch(colours.at(name), true);
  }
  std::vector<Group> bins;
  for (const auto& [label, before] : p.before_bins) bins.push_back({label, label, kAllColour, before, 0.0});
  for (const auto& [label, after] : p.after_bins) {
    auto it = std::find_if(bins.begin(), bins.end(), [&l = label](const Group& g) { return g.key == l; });  // clang 14: no binding captures
    if (it == bins.end()) it = bins.insert(bins.end(), Group{label, label, kAllColour, 0.0, 0.0});
    it->after = after;
  }
  std::string o = "<h2>Figure 2: the data before and after mixing</h2><div class=\"figure2-grid\">";
  o += "<figure class=\"card\"><figcaption><b>(a) Domain mixture</b><span>share of the tokens per domain: "
       "the store against the plan</span></figcaption>" +
       legend(swatches, s.tokens, p.tokens) + grouped_bars_svg("domains", "Share of tokens by domain", domains, "domain") +
       "</figure>";
  o += "<figure class=\"card\"><figcaption><b>(b) Length distribution</b><span>share of the tokens in documents of "
       "each length (plan pieces by their own length)</span></figcaption>" +
       legend(swatch(kAllColour), s.tokens, p.tokens) +
       grouped_bars_svg("bins", "Share of tokens by document length", bins, "tokens per document") + "</figure>";
  return o + "</div>";
}

std::string plan_table(const PlanView& p, const std::map<std::string, std::string>& colours) {
  const std::string long_label = "&gt;" + mix::length_label(p.long_threshold);
  std::string o = "<h2>The plan: " + esc(p.strategy) + "</h2><div class=\"card\"><div class=\"table-wrap\">";
  o += "<table class=\"plan\"><thead><tr><th>domain</th><th>target share</th><th>budget</th><th>available</th>"
       "<th>planned tokens</th><th>documents</th><th>share</th><th>" +
       long_label + " share</th><th>shortfall</th><th>cut off</th><th>passes</th></tr></thead><tbody>";
  DomainRow all;
  all.name = "all";
  double long_tokens = 0;
  uint64_t max_passes = 0;
  auto cells = [&](const DomainRow& d, bool total) {
    o += "<td>" + (d.target_share > 0 ? pct(d.target_share) : std::string("\u2014")) + "</td>";
    o += "<td>" + (d.budget ? count(d.budget) : std::string("\u2014")) + "</td>";
    o += "<td>" + count(d.available) + "</td><td>" + count(d.tokens) + "</td><td>" + count(d.documents) + "</td>";
    o += "<td>" + pct(d.share) + "</td><td>" + pct(d.long_share) + "</td>";
    o += std::string(d.shortfall ? "<td class=\"shortfall\">" : "<td>") + count(d.shortfall) + "</td>";
    o += "<td>" + count(d.cut_tokens) + "</td>";
    o += "<td>" + (total ? (max_passes ? "\u2264 " + count(max_passes) : std::string("\u2014")) : count(d.passes)) +
         "</td></tr>";
  };
  for (const auto& d : p.domains) {
    o += "<tr data-domain=\"" + esc(d.name) + "\"><td>" + swatch(colours.at(d.name)) + esc(d.name) + "</td>";
    cells(d, false);
    all.target_share += d.target_share;
    all.budget += d.budget;
    all.available += d.available;
    all.tokens += d.tokens;
    all.documents += d.documents;
    all.shortfall += d.shortfall;
    all.cut_tokens += d.cut_tokens;
    long_tokens += d.long_share * static_cast<double>(d.tokens);
    max_passes = std::max(max_passes, d.passes);
  }
  all.share = all.tokens ? 1.0 : 0.0;
  all.long_share = all.tokens ? long_tokens / static_cast<double>(all.tokens) : 0.0;
  o += "<tr class=\"all\"><td>" + swatch(kAllColour) + "all</td>";
  cells(all, true);
  o += "</tbody></table></div><div class=\"plan-notes\">";
  if (p.options.is_object() && !p.options.empty()) {
    o += "options: ";
    bool first = true;
    for (const auto& [k, v] : p.options.items()) {
      o += (first ? "" : " · ") + esc(k) + " " + esc(v.is_string() ? v.get<std::string>() : v.dump());
      first = false;
    }
    o += ".";
  }
  if (p.notes.empty()) {
    o += " No notes.";
  } else {
    o += "<ul class=\"notes\">";
    for (const auto& n : p.notes) o += "<li>" + esc(n) + "</li>";
    o += "</ul>";
  }
  return o + "</div></div>";
}

std::string pack_summary(const ojson& j) {
  const uint64_t tokens = get_or<uint64_t>(j, "tokens", 0), doc_tokens = get_or<uint64_t>(j, "document_tokens", 0);
  const uint64_t dropped = get_or<uint64_t>(j, "dropped_tail_tokens", 0);
  uint64_t shards = 0, bytes = 0;
  if (const auto s = j.find("shards"); s != j.end() && s->is_array()) {
    shards = s->size();
    for (const auto& sh : *s)
      if (const auto f = sh.find("files"); f != sh.end() && f->is_object())
        for (const auto& [name, file] : f->items()) bytes += get_or<uint64_t>(file, "bytes", 0);
  }
  std::string o = "<h2>Packed sequences</h2><div class=\"card tiles\">";
  auto tile = [&](const char* key, const std::string& label, const std::string& value, const std::string& note) {
    o += "<div class=\"tile\" data-key=\"" + std::string(key) + "\"><span>" + label + "</span><b>" + value + "</b>" +
         (note.empty() ? "" : "<small>" + note + "</small>") + "</div>";
  };
  std::string layout_note = esc(get_or<std::string>(j, "token_dtype", ""));
  if (get_or<bool>(j, "align_docs", false)) layout_note += (layout_note.empty() ? "" : ", ") + std::string("documents aligned");
  tile("layout", "layout", esc(get_or<std::string>(j, "layout", "")), layout_note);
  tile("sequences", "sequences", count(get_or<uint64_t>(j, "sequences", 0)), "");
  tile("seq_len", "sequence length", count(get_or<uint64_t>(j, "seq_len", 0)), "tokens");
  tile("tokens", "tokens", count(tokens), "");
  tile("document_tokens", "document tokens", count(doc_tokens),
       doc_tokens >= tokens ? std::string("no padding")
                            : pct(share(doc_tokens, tokens)) + " of the tokens; " + count(tokens - doc_tokens) + " padding");
  tile("dropped_tail_tokens", "dropped tail", count(dropped), "tokens that did not fill a sequence");
  tile("shards", "shards", count(shards), bytes ? sprint("%.1f MB on disk", static_cast<double>(bytes) / 1e6) : "");
  return o + "</div>";
}

}  // namespace

std::string mixture_report_html(const StoreLengthStats& s, const store::Manifest& m, const std::string& plan_json,
                                const std::string& packed_manifest_json, const std::string& title) {
  const PlanView p = read_plan_json(plan_json);
  ojson packed;
  if (!packed_manifest_json.empty()) {
    packed = parse_json(packed_manifest_json, "manifest.json");
    if (!packed.is_object()) throw Error("manifest.json: expected a JSON object");
  }

  // The domains in the plan's (the store's) order, then any only in Figure 2; each keeps the colour
  // the store's length report gives it.
  std::vector<std::string> order;
  auto add = [&](const std::string& n) {
    if (std::find(order.begin(), order.end(), n) == order.end()) order.push_back(n);
  };
  for (const auto& d : p.domains) add(d.name);
  for (const auto& d : s.domains) add(d.name);
  for (const auto& [n, x] : p.before_domains) add(n);
  for (const auto& [n, x] : p.after_domains) add(n);
  std::map<std::string, std::string> colours;
  size_t extra = s.domains.size();
  for (const auto& n : order) {
    const auto it = std::find_if(s.domains.begin(), s.domains.end(), [&](const auto& d) { return d.name == n; });
    colours[n] = colour_of(it != s.domains.end() ? static_cast<size_t>(it - s.domains.begin()) : extra++);
  }

  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  o += "<title>" + esc(title) + " \u2014 longctx prepare</title><style>" + kStyle + kMixtureStyle +
       "</style></head><body><main>";
  o += header(s, m, p, packed.is_object() ? &packed : nullptr, title);
  o += figure2(s, p, order, colours);
  o += plan_table(p, colours);
  if (packed.is_object()) o += pack_summary(packed);
  o += "<div class=\"store-sections\">" + length_report_sections(s, m) + "</div>";
  return o + "</main></body></html>\n";
}

}  // namespace longctx::report
