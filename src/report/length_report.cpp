// The stats HTML report: a header, the table `longctx stats` prints, and one token-weighted length
// histogram per domain (plus "all", stacked by domain). Everything is inline (CSS in <style>, SVG in
// the page) so the file can be mailed, attached to a ticket or opened offline; there are no
// scripts, so hover details are SVG <title>s.
#include "longctx/report/length_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "html.h"

namespace longctx::report {
namespace {

using mix::DomainLengthStats;
using mix::StoreLengthStats;

using namespace html;

constexpr int kPerOctave = 4;  // histogram buckets per doubling of the length

// Bucket k holds the lengths in [2^(k/4), 2^((k+1)/4)); powers of two start a bucket, so the
// paper's power-of-two bins line up with bucket edges.
int bucket_of(uint64_t len) { return static_cast<int>(std::floor(std::log2(static_cast<double>(len)) * kPerOctave)); }

uint64_t bucket_first(int k) {  // smallest integer length in bucket k or above
  auto n = static_cast<uint64_t>(std::ceil(std::exp2(static_cast<double>(k) / kPerOctave)));
  while (n > 1 && bucket_of(n - 1) >= k) --n;
  while (bucket_of(n) < k) ++n;
  return n;
}

struct Cell {
  uint64_t tokens = 0, documents = 0;
};
using Buckets = std::map<int, Cell>;

Buckets bucketize(const DomainLengthStats& d) {
  Buckets b;
  for (const auto& [len, n] : d.length_counts) {
    if (len == 0) continue;  // holds no tokens, and has no place on a log axis
    auto& c = b[bucket_of(len)];
    c.tokens += len * n;
    c.documents += n;
  }
  return b;
}

// The x range (in octaves) every histogram shares, so the shapes can be compared across domains;
// it always reaches past the long threshold, so "nothing is long" is visible too.
struct Axis {
  int lo = 0, hi = 1;
};

Axis shared_axis(const StoreLengthStats& s) {
  Axis a;
  const auto& lc = s.all.length_counts;
  const auto first = std::find_if(lc.begin(), lc.end(), [](const auto& p) { return p.first > 0; });
  if (first != lc.end()) {
    a.lo = bucket_of(first->first) / kPerOctave;
    a.hi = (bucket_of(lc.back().first) + kPerOctave) / kPerOctave;
  }
  a.hi = std::max({a.hi, a.lo + 1, static_cast<int>(std::ceil(std::log2(static_cast<double>(s.long_threshold)))) + 1});
  return a;
}

struct Series {
  std::string name, colour;
  Buckets buckets;
};

// One histogram: bar height = share of `total` tokens in the bucket; several series stack.
std::string histogram_svg(const StoreLengthStats& s, const Axis& ax, const std::string& domain,
                          const std::vector<Series>& series, uint64_t total, double long_share) {
  constexpr double W = 1160, H = 210, L = 56, R = 14, T = 22, B = 34;
  const double pw = W - L - R, ph = H - T - B;
  const double log_lo = ax.lo, log_hi = ax.hi;
  auto x_of_log = [&](double lg) { return L + (std::clamp(lg, log_lo, log_hi) - log_lo) / (log_hi - log_lo) * pw; };
  auto x_of = [&](uint64_t len) { return len == 0 ? L : x_of_log(std::log2(static_cast<double>(len))); };

  std::map<int, uint64_t> stacked;  // bucket -> tokens of every series
  for (const auto& se : series)
    for (const auto& [k, c] : se.buckets) stacked[k] += c.tokens;
  double top = 0;
  for (const auto& [k, t] : stacked) top = std::max(top, share(t, total));
  // A "nice" y step: at most five gridlines, and a round number for each.
  double step = 0.5;
  for (const double c : {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5})
    if (std::ceil(top / c - 1e-9) <= 5) {
      step = c;
      break;
    }
  const double ymax = std::max(step, std::ceil(top / step - 1e-9) * step);
  auto y_of = [&](double sh) { return T + ph - sh / ymax * ph; };

  std::string o = "<svg class=\"length-histogram\" data-domain=\"" + esc(domain) + "\" viewBox=\"0 0 " + num(W) + " " +
                  num(H) + "\" role=\"img\">";
  o += "<title>" + esc(domain) + ": share of tokens by document length</title>";

  // The length bins of the table (the paper's Figure 2), as alternating bands with their labels.
  for (size_t i = 0; i < s.bins.edges.size(); ++i) {
    const double x0 = x_of(s.bins.edges[i]);
    const double x1 = i + 1 < s.bins.edges.size() ? x_of(s.bins.edges[i + 1]) : L + pw;
    if (x1 - x0 < 1) continue;  // outside the range of the data
    if (i % 2)
      o += "<rect class=\"band\" x=\"" + num(x0) + "\" y=\"" + num(T) + "\" width=\"" + num(x1 - x0) + "\" height=\"" +
           num(ph) + "\"/>";
    const std::string& label = s.bins.labels[i];
    if (x1 - x0 >= label.size() * 5.6 + 4)
      o += "<text class=\"bin\" x=\"" + num((x0 + x1) / 2) + "\" y=\"" + num(T - 6) + "\">" + esc(label) + "</text>";
  }
  // y gridlines and labels
  for (double v = 0; v <= ymax + 1e-9; v += step) {
    const double y = y_of(v);
    o += "<line class=\"grid\" x1=\"" + num(L) + "\" x2=\"" + num(L + pw) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
         "\"/>";
    o += "<text class=\"ytick\" x=\"" + num(L - 6) + "\" y=\"" + num(y + 3.5) + "\">" +
         sprint(step < 0.01 ? "%.1f%%" : "%.0f%%", 100 * v) + "</text>";
  }
  // Bars, one rect per series and bucket, stacked bottom-up in domain order.
  std::map<int, double> base;
  for (const auto& se : series) {
    for (const auto& [k, c] : se.buckets) {
      const double x0 = x_of_log(static_cast<double>(k) / kPerOctave) + 0.5;
      const double x1 = x_of_log(static_cast<double>(k + 1) / kPerOctave) - 0.5;
      const double sh = share(c.tokens, total);
      const double y1 = y_of(base[k]);
      const double h = std::max(1.0, y1 - y_of(base[k] + sh));  // a visible sliver for tiny shares
      base[k] += sh;
      const uint64_t first = bucket_first(k), last = bucket_first(k + 1) - 1;
      const std::string range = first == last ? count(first) : count(first) + "\u2013" + count(last);
      o += "<rect class=\"bar\" fill=\"" + se.colour + "\" x=\"" + num(x0) + "\" y=\"" + num(y1 - h) + "\" width=\"" +
           num(std::max(0.5, x1 - x0)) + "\" height=\"" + num(h) + "\"><title>" +
           (series.size() > 1 ? esc(se.name) + ": " : std::string()) + range + " tokens per document: " + pct(sh) +
           " of the tokens, " + count(c.documents) + (c.documents == 1 ? " document" : " documents") +
           "</title></rect>";
    }
  }
  // x axis: a tick at every power of two; 1, 32, 1K, 32K, 1M stand out as landmarks, the others
  // are labelled lightly where there is room.
  o += "<line class=\"axis\" x1=\"" + num(L) + "\" x2=\"" + num(L + pw) + "\" y1=\"" + num(T + ph) + "\" y2=\"" +
       num(T + ph) + "\"/>";
  const bool room = pw / (ax.hi - ax.lo) >= 36;
  for (int e = ax.lo; e <= ax.hi; ++e) {
    const double x = x_of_log(e);
    const bool major = e % 5 == 0;
    o += "<line class=\"axis\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(T + ph) + "\" y2=\"" +
         num(T + ph + (major ? 5 : 3)) + "\"/>";
    if (major || room)
      o += "<text class=\"" + std::string(major ? "xtick" : "xtick minor") + "\" x=\"" + num(x) + "\" y=\"" +
           num(T + ph + 16) + "\">" + mix::length_label(uint64_t{1} << e) + "</text>";
  }
  o += "<text class=\"ylabel\" transform=\"translate(13," + num(T + ph / 2) + ") rotate(-90)\">share of tokens</text>";
  o += "<text class=\"xlabel\" x=\"" + num(L + pw) + "\" y=\"" + num(H - 3) +
       "\">tokens per document (log scale)</text>";
  // The long threshold: what lies right of the line counts as long.
  const double xt = x_of(s.long_threshold);
  const bool right = xt < L + pw - 120;
  o += "<line class=\"threshold\" x1=\"" + num(xt) + "\" x2=\"" + num(xt) + "\" y1=\"" + num(T) + "\" y2=\"" +
       num(T + ph) + "\"/>";
  o += "<text class=\"threshold-label\" text-anchor=\"" + std::string(right ? "start" : "end") + "\" x=\"" +
       num(xt + (right ? 5 : -5)) + "\" y=\"" + num(T + 12) + "\">&gt; " + mix::length_label(s.long_threshold) + ": " +
       pct(long_share) + " of tokens</text>";
  return o + "</svg>";
}

std::string header(const StoreLengthStats& s, const store::Manifest& m, const std::string& title) {
  std::string o = "<header><h1><small>longctx stats</small>" + esc(title) + "</h1><p class=\"summary\">";
  o += "<b>" + count(s.documents) + "</b> documents · <b>" + count(s.tokens) + "</b> tokens · <b>" +
       count(s.domains.size()) + "</b> domain" + (s.domains.size() == 1 ? "" : "s") + " · <b>" +
       count(m.inputs.size()) + "</b> input" + (m.inputs.size() == 1 ? "" : "s") + " · tokenizer " +
       esc(m.tokenizer_path);
  if (!m.tokenizer_xxh128.empty()) o += " (xxh128 " + esc(m.tokenizer_xxh128.substr(0, 12)) + ")";
  if (m.is_task) o += " · task " + std::to_string(m.task_id) + " of " + std::to_string(m.task_count);
  if (const uint64_t skipped = m.skipped_total()) {
    o += " · <b>" + count(skipped) + "</b> line" + (skipped == 1 ? "" : "s") + " skipped (";
    bool first = true;
    for (const auto& [reason, n] : m.skipped_by_reason) {
      o += (first ? "" : ", ") + esc(reason) + ": " + count(n);
      first = false;
    }
    o += ")";
  } else {
    o += " · no lines skipped";
  }
  return o + "</p></header>";
}

std::string table(const StoreLengthStats& s) {
  const size_t np = std::size(mix::kPercentiles) + 1, nb = s.bins.labels.size();
  const std::string long_label = "&gt;" + mix::length_label(s.long_threshold);
  std::string o = "<div class=\"card table-wrap\"><table><thead><tr class=\"group\"><th colspan=\"4\"></th>";
  o += "<th class=\"span sep\" colspan=\"" + std::to_string(np) + "\">token-weighted length percentiles</th><th></th>";
  o += "<th class=\"span sep\" colspan=\"" + std::to_string(nb) + "\">share of tokens by document length</th></tr><tr>";
  o += "<th>domain</th><th>documents</th><th>tokens</th><th>share</th>";
  for (size_t i = 0; i < np; ++i)
    o += std::string(i ? "<th>" : "<th class=\"sep\">") +
         (i + 1 < np ? "p" + std::to_string(mix::kPercentiles[i]) : "max") + "</th>";
  o += "<th class=\"sep\">" + long_label + "</th>";
  for (size_t b = 0; b < nb; ++b) o += std::string(b ? "<th>" : "<th class=\"sep\">") + esc(s.bins.labels[b]) + "</th>";
  o += "</tr></thead><tbody>";
  auto row = [&](const DomainLengthStats& d, const std::string& colour, bool all) {
    o += all ? "<tr class=\"all\">" : "<tr>";
    o += "<td><span class=\"swatch\" style=\"background:" + colour + "\"></span>" + esc(d.name) + "</td>";
    o += "<td>" + count(d.documents) + "</td><td>" + count(d.tokens) + "</td><td>" + pct(share(d.tokens, s.tokens)) +
         "</td>";
    for (size_t i = 0; i < d.percentiles.size(); ++i)
      o += std::string(i ? "<td>" : "<td class=\"sep\">") + count(d.percentiles[i]) + "</td>";
    o += "<td class=\"sep\">" + pct(d.long_token_share()) + "</td>";
    // Bin shares as a heat map: the bins that hold the tokens stand out without reading numbers.
    for (size_t b = 0; b < nb; ++b) {
      const double sh = share(d.bin_tokens[b], d.tokens);
      o += std::string("<td") + (b ? "" : " class=\"sep\"") + " style=\"background:rgba(78,121,167," +
           sprint("%.2f", 0.7 * sh) + ")" + (sh > 0.55 ? ";color:#fff" : "") + "\">" + pct(sh) + "</td>";
    }
    o += "</tr>";
  };
  for (size_t i = 0; i < s.domains.size(); ++i) row(s.domains[i], colour_of(i), false);
  row(s.all, kAllColour, true);
  return o + "</tbody></table></div>";
}

std::string figure(const DomainLengthStats& d, const std::string& colour, const std::string& svg,
                   const std::string& legend) {
  std::string o = "<figure class=\"card\"><figcaption><b><span class=\"swatch\" style=\"background:" + colour +
                  "\"></span>" + esc(d.name) + "</b><span>" + count(d.documents) + " documents · " + count(d.tokens) +
                  " tokens · p50 " + count(d.percentiles[1]) + " · max " + count(d.percentiles.back()) +
                  "</span></figcaption>";
  return o + legend + svg + "</figure>";
}

}  // namespace

std::string length_report_sections(const StoreLengthStats& s, const store::Manifest& m) {
  const Axis ax = shared_axis(s);
  std::string o = "<h2>Length statistics</h2>" + table(s);
  o += "<h2>Where the tokens are: token-weighted document lengths</h2><div class=\"figures\">";
  // "all" first, stacked by domain: the overview, with the domains' own histograms below it on the
  // same x axis.
  std::vector<Series> stacked;
  std::string legend = "<div class=\"legend\">", per_domain;
  for (size_t i = 0; i < s.domains.size(); ++i) {
    const auto& d = s.domains[i];
    Series se{d.name, colour_of(i), bucketize(d)};
    per_domain += figure(d, se.colour, histogram_svg(s, ax, d.name, {se}, d.tokens, d.long_token_share()), "");
    legend += "<span><span class=\"swatch\" style=\"background:" + se.colour + "\"></span>" + esc(d.name) + "</span>";
    stacked.push_back(std::move(se));
  }
  legend += "</div>";
  o += figure(s.all, kAllColour, histogram_svg(s, ax, s.all.name, stacked, s.all.tokens, s.all.long_token_share()),
              legend);
  o += per_domain;
  o += "</div><footer>Lengths are stored sequence lengths" + std::string(m.bos ? ", BOS included" : "") +
       (m.eos_id >= 0 ? ", EOS included" : "") +
       ". Percentiles and bars are token-weighted: p50 is the length at or below which half of the tokens lie; a bar "
       "is the "
       "share of the domain's tokens in documents of that length (" +
       std::to_string(kPerOctave) +
       " bars per doubling). Shaded bands are the length bins of the table; the dashed line is the long threshold (" +
       count(s.long_threshold) + " tokens). " + esc(m.tool) + ".</footer>";
  return o;
}

std::string length_report_html(const StoreLengthStats& s, const store::Manifest& m, const std::string& title) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  o += "<title>" + esc(title) + " \u2014 longctx stats</title><style>" + kStyle + "</style></head><body><main>";
  o += header(s, m, title);
  o += length_report_sections(s, m);
  return o + "</main></body></html>\n";
}

}  // namespace longctx::report
