// The mixture strategies of the paper, as its public script runs them but on exact token counts:
// stream through the store's documents in a seeded shuffled order and keep or drop each one.
#include "longctx/mix/plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "budgets.h"
#include "plan_writer.h"
#include "longctx/mix/length_stats.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/mmap.h"
#include "longctx/util/rng.h"
#include "longctx/util/size.h"

namespace longctx::mix {
namespace {

using ojson = nlohmann::ordered_json;

// The paper's SlimPajama domain shares (its public script's SLIMPAJAMA_ORIGINAL_MIX).
const std::vector<std::pair<std::string, double>> kSlimPajama = {
    {"RedPajamaC4", 0.26609933},     {"RedPajamaCommonCrawl", 0.53374772}, {"RedPajamaStackExchange", 0.03169647},
    {"RedPajamaWikipedia", 0.03402128}, {"RedPajamaGithub", 0.05004782},   {"RedPajamaArXiv", 0.04290379},
    {"RedPajamaBook", 0.0414836}};
constexpr double kUpsampleWeight = 0.6;  // the public script's weight for an upsampled domain
constexpr double kShareTolerance = 1e-6;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

double parse_share(const std::string& v, const std::string& what) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(x) || x < 0) throw Error(what + ": expected a share >= 0, found \"" + v + "\"");
  return x;
}

std::string known_domains(const store::Manifest& m) {
  std::string s;
  for (const auto& d : m.domains) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

// Target shares per store domain (index = store domain), summing to 1.
std::vector<double> base_shares(const PlanSource& st, const MixOptions& o) {
  const auto& m = st.manifest();
  std::vector<double> shares(m.domains.size(), 0.0);
  auto index_of = [&](const std::string& name, const std::string& what) -> size_t {
    for (size_t i = 0; i < m.domains.size(); ++i)
      if (m.domains[i].name == name) return i;
    throw Error(what + ": no domain \"" + name + "\" in " + st.dir() + " (it has: " + known_domains(m) + ")");
  };
  if (o.domain_shares == "natural") {
    for (size_t i = 0; i < shares.size(); ++i) shares[i] = m.tokens ? static_cast<double>(m.domains[i].tokens) / m.tokens : 0;
    return shares;
  }
  std::vector<std::pair<std::string, double>> spec;
  if (o.domain_shares == "slimpajama") {
    spec = kSlimPajama;
  } else {
    for (const auto& part : split(o.domain_shares, ',')) {
      const size_t eq = part.rfind('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("--domain-shares: expected natural, slimpajama or NAME=x,..., found \"" + part + "\"");
      spec.emplace_back(part.substr(0, eq), parse_share(part.substr(eq + 1), "--domain-shares " + part.substr(0, eq)));
    }
  }
  double sum = 0;
  for (const auto& [name, x] : spec) {
    shares[index_of(name, "--domain-shares " + o.domain_shares)] = x;
    sum += x;
  }
  // The paper's constants sum to 0.99999... ; a user's list must sum to 1.
  if (std::fabs(sum - 1.0) > (o.domain_shares == "slimpajama" ? 1e-6 : kShareTolerance))
    throw Error("--domain-shares " + o.domain_shares + ": expected shares summing to 1, found " + std::to_string(sum));
  for (auto& x : shares) x /= sum;
  return shares;
}

struct Ctx {
  const PlanSource& st;
  const MixOptions& o;
  std::span<const int32_t> lengths;
  std::span<const store::DocRecord> docs;
  double chars_per_token = 0;  // > 0: decide on chars / this, as the paper's script
  Plan& plan;

  // The length the keep/budget decisions see (the paper's script: characters / 3.68).
  double decision_length(uint64_t doc) const {
    return chars_per_token > 0 ? docs[doc].chars / chars_per_token : static_cast<double>(lengths[doc]);
  }
  // The paper's keep rule: a long document always, a short one with probability keep_short. The
  // coin is drawn for short documents only, so every strategy walks the same coin stream.
  bool kept(uint64_t doc, Rng& coin) const { return decision_length(doc) > o.long_threshold || coin.uniform() < o.keep_short; }
  PlanWriter out{plan, lengths, docs, o.long_threshold};
};

std::vector<uint64_t> shuffled(uint64_t n, uint64_t seed, uint64_t pass) {
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Rng(seed, 1 + pass).shuffle(std::span<uint64_t>(order));
  return order;
}

void total_short(const Ctx& c) {
  if (c.o.allow_shortfall) return;
  throw Error(c.o.strategy + ": the store holds only " + std::to_string(c.plan.tokens) + " eligible tokens for --tokens " +
              std::to_string(c.o.tokens) + " after " + std::to_string(c.o.max_repeat) +
              " pass(es); allow repeats with --max-repeat, plan fewer tokens, or pass --allow-shortfall");
}

// original / cut:LEN / global --whole-docs: one total budget, whole documents (cut:LEN pieces), so
// the last one may overshoot it.
void plan_total(Ctx& c, bool keep_rule, uint32_t cut) {
  const uint64_t n = c.lengths.size();
  double used = 0;
  for (uint32_t pass = 0; pass < c.o.max_repeat && used < c.o.tokens; ++pass) {
    Rng coin(c.o.seed, 1000 + pass);
    for (const uint64_t doc : shuffled(n, c.o.seed, pass)) {
      if (used >= c.o.tokens) break;
      const double len = c.decision_length(doc);
      if (keep_rule && len <= c.o.long_threshold && coin.uniform() >= c.o.keep_short) continue;
      if (cut == 0) {
        c.out.take_whole(doc);
      } else {
        c.out.take_pieces(doc, cut);
      }
      used += len;
      c.plan.domains[c.docs[doc].domain].passes = pass + 1;
    }
  }
  if (used < c.o.tokens) total_short(c);
}

// global with exact budgets: the same walk and keep rule, counted in tokens, the last document cut
// to a prefix so that the plan holds exactly --tokens.
void plan_total_exact(Ctx& c) {
  uint64_t left = c.o.tokens;
  for (uint32_t pass = 0; pass < c.o.max_repeat && left > 0; ++pass) {
    Rng coin(c.o.seed, 1000 + pass);
    for (const uint64_t doc : shuffled(c.lengths.size(), c.o.seed, pass)) {
      if (left == 0) break;
      if (!c.kept(doc, coin)) continue;
      left -= c.out.take_prefix(doc, left);
      c.plan.domains[c.docs[doc].domain].passes = pass + 1;
    }
  }
  if (left > 0) total_short(c);
}

void budgets_short(const Ctx& c, const std::string& short_of) {
  if (short_of.empty() || c.o.allow_shortfall) return;
  throw Error(c.o.strategy + ": " + short_of + " (after " + std::to_string(c.o.max_repeat) +
              " pass(es)); allow repeats with --max-repeat, plan fewer tokens, or pass --allow-shortfall");
}

std::string short_text(const DomainResult& r) {
  return r.name + " got " + std::to_string(r.tokens) + " of a budget of " + std::to_string(r.budget) + " tokens";
}

// per-source / upsample --whole-docs / target: budgets per domain (and per length bin for target),
// whole documents, so a domain's (a cell's) last document may overshoot. The paper's script; the
// walk compares the decision lengths with the unrounded budgets, as it always has.
void plan_budgets(Ctx& c, const std::vector<double>& shares, bool keep_rule, const LengthBins* bins,
                  const std::vector<double>& bin_shares) {
  const uint64_t n = c.lengths.size();
  const size_t nd = shares.size(), nb = bins ? bin_shares.size() : 1;
  std::vector<double> budget(nd * nb), used(nd * nb, 0.0);
  for (size_t d = 0; d < nd; ++d)
    for (size_t b = 0; b < nb; ++b) budget[d * nb + b] = shares[d] * c.o.tokens * (bins ? bin_shares[b] : 1.0);
  size_t open = 0;
  for (size_t i = 0; i < budget.size(); ++i) open += budget[i] > 0;
  for (uint32_t pass = 0; pass < c.o.max_repeat && open > 0; ++pass) {
    Rng coin(c.o.seed, 1000 + pass);
    for (const uint64_t doc : shuffled(n, c.o.seed, pass)) {
      const size_t d = c.docs[doc].domain;
      const double len = c.decision_length(doc);
      const size_t cell = d * nb + (bins ? std::min(bins->bin_of(static_cast<uint64_t>(len)), nb - 1) : 0);
      // A domain (cell) at its budget takes no more.
      if (budget[cell] <= 0 || used[cell] >= budget[cell]) continue;
      if (keep_rule && !c.kept(doc, coin)) continue;
      c.out.take_whole(doc);
      used[cell] += len;
      c.plan.domains[d].passes = pass + 1;
      if (used[cell] >= budget[cell] && --open == 0) break;
    }
  }
  std::string short_of;
  for (size_t d = 0; d < nd; ++d) {
    auto& r = c.plan.domains[d];
    double want = 0, got = 0;
    for (size_t b = 0; b < nb; ++b) {
      want += budget[d * nb + b];
      got += std::min(used[d * nb + b], budget[d * nb + b]);
    }
    if (got + 0.5 < want) {
      r.shortfall = static_cast<uint64_t>(std::llround(want - got));
      short_of += (short_of.empty() ? "" : "; ") + short_text(r);
    }
  }
  budgets_short(c, short_of);
}

// per-source / upsample with exact budgets: the same walk and keep rule as whole documents, each
// domain counted in tokens and closed when it holds exactly its budget, its last document cut to a
// prefix. So the plan is the --whole-docs plan with each domain's last document cut (unless a
// domain's tokens reach its budget exactly on a document's end).
void plan_budgets_exact(Ctx& c) {
  std::vector<uint64_t> left;
  size_t open = 0;
  for (const auto& d : c.plan.domains) {
    left.push_back(d.budget);
    open += d.budget > 0;
  }
  for (uint32_t pass = 0; pass < c.o.max_repeat && open > 0; ++pass) {
    Rng coin(c.o.seed, 1000 + pass);
    for (const uint64_t doc : shuffled(c.lengths.size(), c.o.seed, pass)) {
      const size_t d = c.docs[doc].domain;
      if (left[d] == 0 || !c.kept(doc, coin)) continue;
      left[d] -= c.out.take_prefix(doc, left[d]);
      c.plan.domains[d].passes = pass + 1;
      if (left[d] == 0 && --open == 0) break;
    }
  }
  std::string short_of;
  for (size_t d = 0; d < left.size(); ++d) {
    auto& r = c.plan.domains[d];
    r.shortfall = left[d];
    if (left[d] > 0) short_of += (short_of.empty() ? "" : "; ") + short_text(r);
  }
  budgets_short(c, short_of);
}

// Each domain's target share and budget in whole tokens (budgets.h), as plan.json records them.
void set_budgets(Ctx& c, const std::vector<double>& shares, bool natural) {
  const auto budgets = natural ? natural_budgets(c.st.manifest(), c.o.tokens, shares) : share_budgets(c.o.tokens, shares);
  for (size_t d = 0; d < shares.size(); ++d) {
    c.plan.domains[d].target_share = shares[d];
    c.plan.domains[d].budget = budgets[d];
  }
}

// per-source / upsample: budgets from the target shares, met exactly or with whole documents.
void plan_domains(Ctx& c, const std::vector<double>& shares, bool natural) {
  set_budgets(c, shares, natural);
  if (c.o.whole_docs) {
    plan_budgets(c, shares, true, nullptr, {});
  } else {
    plan_budgets_exact(c);
    c.plan.exact_budgets = true;
  }
}

// upsample:DOMAIN[=W]: as the public script, the domain's weight replaced, then all normalised.
std::vector<double> upsample_shares(const PlanSource& st, const MixOptions& o) {
  const std::string& s = o.strategy;
  std::string name = s.substr(9);
  double weight = kUpsampleWeight;
  if (const size_t eq = name.rfind('='); eq != std::string::npos) {
    weight = parse_share(name.substr(eq + 1), "--strategy " + s);
    name = name.substr(0, eq);
  }
  auto shares = base_shares(st, o);
  const auto& m = st.manifest();
  size_t idx = shares.size();
  for (size_t i = 0; i < m.domains.size(); ++i)
    if (m.domains[i].name == name) idx = i;
  if (idx == shares.size())
    throw Error("--strategy " + s + ": no domain \"" + name + "\" in " + st.dir() + " (it has: " + known_domains(m) + ")");
  shares[idx] = weight;
  const double sum = std::accumulate(shares.begin(), shares.end(), 0.0);
  for (auto& x : shares) x /= sum;
  return shares;
}

// target: budgets per domain × length bin, whole documents (a cut piece would change bins), no coin.
void plan_target(Ctx& c) {
  const MixOptions& o = c.o;
  const LengthBins bins = LengthBins::parse(o.target_bins);
  std::vector<double> bs;
  for (const auto& p : split(o.target_bin_shares, ',')) bs.push_back(parse_share(p, "--bin-shares"));
  if (o.target_bin_shares.empty() || bs.size() != bins.edges.size())
    throw Error("--bin-shares: expected " + std::to_string(bins.edges.size()) + " shares for --bins " + o.target_bins + " (" +
                std::to_string(bins.edges.size()) + " bins, the last open), found \"" + o.target_bin_shares + "\"");
  const double sum = std::accumulate(bs.begin(), bs.end(), 0.0);
  if (std::fabs(sum - 1.0) > kShareTolerance)
    throw Error("--bin-shares " + o.target_bin_shares + ": expected shares summing to 1, found " + std::to_string(sum));
  const auto shares = base_shares(c.st, o);
  set_budgets(c, shares, o.domain_shares == "natural");
  plan_budgets(c, shares, false, &bins, bs);
}

uint32_t cut_length(const std::string& s) {
  uint64_t len = 0;
  try {
    len = parse_size(s.substr(4), "--strategy " + s);
  } catch (const Error&) {
    throw Error("--strategy " + s + ": expected cut:LEN with LEN a length like 4K or 4096");
  }
  if (len == 0 || len > UINT32_MAX) throw Error("--strategy " + s + ": expected 0 < LEN < 2^32");
  return static_cast<uint32_t>(len);
}

// Reserves room for every entry the walk could take: a whole document (or a prefix) at most once
// a pass, cut:LEN at most its pieces. Reserved pages that are never written take no memory, and
// growing the vector by doubling instead would hold up to three times the entries while it
// copies (for a plan of every document that alone was 48 bytes a document). Where the bound is
// more address space than the system grants, the vector grows as usual.
void reserve_entries(Ctx& c, uint32_t cut) {
  uint64_t per_pass = c.lengths.size();
  if (cut > 0) {
    per_pass = 0;
    for (const int32_t len : c.lengths) per_pass += (static_cast<uint64_t>(len) + cut - 1) / cut;
  }
  const uint64_t most = std::numeric_limits<size_t>::max() / sizeof(PlanEntry) / c.o.max_repeat;
  try {
    c.plan.entries.reserve(static_cast<size_t>(std::min(per_pass, most) * c.o.max_repeat));
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
}

void run_strategy(Ctx& c) {
  const std::string& s = c.o.strategy;
  const bool natural = c.o.domain_shares == "natural";
  const bool is_cut = s.rfind("cut:", 0) == 0;
  const uint32_t cut = is_cut ? cut_length(s) : 0;
  reserve_entries(c, cut);
  if (s == "original") {
    plan_total(c, false, 0);
  } else if (is_cut) {
    if (c.o.whole_docs) throw Error("--whole-docs: " + s + " cuts every document into pieces; give one of the two");
    plan_total(c, false, cut);
  } else if (s == "global") {
    if (c.o.whole_docs) {
      plan_total(c, true, 0);
    } else {
      plan_total_exact(c);
      c.plan.exact_budgets = true;
    }
  } else if (s == "per-source") {
    plan_domains(c, base_shares(c.st, c.o), natural);
  } else if (s.rfind("upsample:", 0) == 0) {
    plan_domains(c, upsample_shares(c.st, c.o), false);
  } else if (s == "target") {
    plan_target(c);
  } else {
    throw Error("--strategy: expected original, cut:LEN, per-source, global, upsample:DOMAIN[=W] or target, found \"" + s + "\"");
  }
}

}  // namespace

Plan make_plan(const store::StoreReader& st, const MixOptions& o) {
  if (st.manifest().selection.kind == "sample")
    throw Error(st.dir() + ": is a sample store (ingest --sample-rate: most documents have no tokens); `longctx mix` makes a "
                "selection plan of it, not a plan to pack (docs/tokenize-kept.md)");
  return make_plan(PlanSource(st), o);
}

Plan make_plan(const PlanSource& st, const MixOptions& o) {
  Plan plan;
  plan.options = o;
  const auto& m = st.manifest();
  plan.store_dir = st.dir();
  plan.store_run = m.run_fingerprint;
  plan.store_manifest_xxh128 = xxh128_file(st.dir() + "/" + store::kManifestFile);
  for (const auto& d : m.domains) {
    plan.store_domains.push_back(d.name);
    DomainResult r;
    r.name = d.name;
    r.available = d.tokens;
    plan.domains.push_back(r);
  }
  if (o.tokens == 0) throw Error("--tokens: expected a positive number of tokens");
  if (o.keep_short < 0 || o.keep_short > 1) throw Error("--keep-short: expected a probability in [0, 1]");
  if (o.max_repeat == 0) throw Error("--max-repeat: expected at least 1 pass");
  Ctx c{st, o, st.lengths(), st.docs(), 0.0, plan};
  if (!o.length_estimate.empty()) {
    if (o.length_estimate.rfind("chars/", 0) != 0)
      throw Error("--length-estimate: expected chars/R (the paper's script: chars/3.68), found \"" + o.length_estimate + "\"");
    c.chars_per_token = parse_share(o.length_estimate.substr(6), "--length-estimate");
    if (c.chars_per_token <= 0) throw Error("--length-estimate: expected a ratio > 0");
  }
  run_strategy(c);

  // Figure 2 numbers: before (the store) and after (the plan; every entry by its own length).
  BinShares before;
  for (const int32_t len : st.lengths()) before.add(static_cast<uint64_t>(len), static_cast<uint64_t>(len));
  plan.before_bins = before.shares();
  for (const auto& d : m.domains) plan.before_domains[d.name] = m.tokens ? static_cast<double>(d.tokens) / m.tokens : 0;
  summarize_plan(plan);
  return plan;
}

BinShares::BinShares() : bins_(LengthBins::paper()), tokens_(bins_.edges.size(), 0.0) {}

void BinShares::add(uint64_t length, uint64_t tokens) {
  tokens_[bins_.bin_of(length)] += static_cast<double>(tokens);
  total_ += static_cast<double>(tokens);
}

std::vector<std::pair<std::string, double>> BinShares::shares() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t b = 0; b < tokens_.size(); ++b) out.emplace_back(bins_.labels[b], total_ > 0 ? tokens_[b] / total_ : 0.0);
  return out;
}

namespace {
void add_notes(Plan& plan) {
  const bool global = plan.options.strategy == "global";
  for (const auto& d : plan.domains) {
    if (d.available > 0 && d.tokens == 0) plan.notes.push_back("domain " + d.name + " is not in the plan");
    if (d.shortfall > 0)
      plan.notes.push_back("domain " + d.name + " fell " + std::to_string(d.shortfall) + " tokens short of its budget of " +
                           std::to_string(d.budget) + " (--allow-shortfall)");
    if (d.cut_documents > 0)
      plan.notes.push_back("domain " + d.name + ": its last document was cut to a prefix, " + std::to_string(d.cut_tokens) +
                           " tokens left out, so that " +
                           (global ? "the plan holds exactly --tokens" : "it meets its budget exactly") +
                           " (--whole-docs keeps documents whole)");
  }
}
}  // namespace

void summarize_plan(Plan& plan) {
  add_notes(plan);
  BinShares after;
  for (const auto& e : plan.entries) after.add(e.length, e.length);
  plan.after_bins = after.shares();
  plan.after_domains.clear();
  for (const auto& d : plan.domains) plan.after_domains[d.name] = plan.tokens ? static_cast<double>(d.tokens) / plan.tokens : 0;
}

std::string Plan::to_json() const {
  ojson j;
  j["format"] = "longctx-plan";
  j["format_version"] = 1;
  j["store"] = {{"path", store_dir}, {"run", store_run}, {"manifest_xxh128", store_manifest_xxh128}};
  const auto& o = options;
  j["strategy"] = o.strategy;
  j["tokens_requested"] = o.tokens;
  j["seed"] = o.seed;
  j["options"] = {{"long_threshold", o.long_threshold}, {"keep_short", o.keep_short}, {"domain_shares", o.domain_shares},
                  {"length_estimate", o.length_estimate.empty() ? "exact" : o.length_estimate},
                  {"max_repeat", o.max_repeat}, {"allow_shortfall", o.allow_shortfall}, {"whole_docs", o.whole_docs}};
  if (o.strategy == "target") {
    j["options"]["target_bins"] = o.target_bins;
    j["options"]["target_bin_shares"] = o.target_bin_shares;
  }
  j["tokens"] = tokens;
  j["entries"] = entries.size();
  uint64_t cut_docs = 0, cut_tokens = 0;
  for (const auto& d : domains) {
    cut_docs += d.cut_documents;
    cut_tokens += d.cut_tokens;
  }
  j["exact_budgets"] = exact_budgets;
  j["cut_documents"] = cut_docs;
  j["cut_tokens"] = cut_tokens;
  j["store_domains"] = store_domains;
  j["domains"] = ojson::object();
  for (const auto& d : domains)
    j["domains"][d.name] = {{"target_share", d.target_share}, {"budget", d.budget},     {"available", d.available},
                            {"tokens", d.tokens},             {"documents", d.documents}, {"share", tokens ? double(d.tokens) / tokens : 0.0},
                            {"long_token_share", d.tokens ? double(d.long_tokens) / d.tokens : 0.0},
                            {"shortfall", d.shortfall},       {"passes", d.passes},
                            {"cut_documents", d.cut_documents}, {"cut_tokens", d.cut_tokens}};
  j["figure2"] = {{"before", {{"domains", before_domains}, {"bins", ojson::object()}}},
                  {"after", {{"domains", after_domains}, {"bins", ojson::object()}}}};
  for (const auto& [l, x] : before_bins) j["figure2"]["before"]["bins"][l] = x;
  for (const auto& [l, x] : after_bins) j["figure2"]["after"]["bins"][l] = x;
  j["notes"] = notes;
  if (!estimate_json.empty()) j["estimate"] = ojson::parse(estimate_json);
  return j.dump(2) + "\n";
}

void write_plan(const Plan& plan, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create: " + ec.message());
  const std::string_view bytes(reinterpret_cast<const char*>(plan.entries.data()), plan.entries.size() * sizeof(PlanEntry));
  AtomicFile entries(dir + "/entries.bin");
  entries.write(bytes);
  entries.commit();
  ojson j = ojson::parse(plan.to_json());
  j["store"]["path"] = recorded_path(plan.store_dir, dir);  // relative to the plan's folder
  j["store"]["relative_to"] = "plan";
  if (j.contains("estimate"))  // a trimmed plan's record of where it came from, also relative to the plan's folder
    for (const char* k : {"selection_plan", "sample_store"})
      if (j["estimate"].contains(k)) j["estimate"][k] = recorded_path(j["estimate"][k].get<std::string>(), dir);
  j["files"] = {{"entries.bin", {{"bytes", bytes.size()}, {"xxh128", xxh128_hex(bytes)}}}};
  AtomicFile out(dir + "/plan.json");
  out.write(j.dump(2) + "\n");
  out.commit();
}

LoadedPlan read_plan(const std::string& dir) {
  LoadedPlan p;
  p.dir = dir;
  const std::string path = dir + "/plan.json";
  p.json = read_file(path);
  try {
    const ojson j = ojson::parse(p.json);
    if (j.value("format", "") != "longctx-plan") throw Error(path + ": expected a longctx plan (\"format\": \"longctx-plan\")");
    p.store_recorded = j.at("store").at("path").get<std::string>();
    p.store_dir = resolve_recorded(p.store_recorded, dir, !j.at("store").contains("relative_to"));
    p.store_manifest_xxh128 = j.at("store").at("manifest_xxh128").get<std::string>();
    p.seed = j.at("seed").get<uint64_t>();
    p.tokens = j.at("tokens").get<uint64_t>();
    p.store_domains = j.at("store_domains").get<std::vector<std::string>>();
    const auto& f = j.at("files").at("entries.bin");
    const MappedFile e(dir + "/entries.bin");
    if (e.size() != f.at("bytes").get<uint64_t>() || xxh128_hex(e.view()) != f.at("xxh128").get<std::string>())
      throw Error(dir + "/entries.bin: size or hash differs from plan.json (the plan was changed or damaged)");
    if (e.size() % sizeof(PlanEntry) != 0)  // else the copy below would write past the entries
      throw Error(dir + "/entries.bin: expected 16-byte entries, found " + std::to_string(e.size()) + " bytes (not a multiple of 16)");
    p.entries.resize(e.size() / sizeof(PlanEntry));
    if (!p.entries.empty()) std::memcpy(p.entries.data(), e.data(), e.size());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed plan: " + e.what());
  }
  return p;
}

}  // namespace longctx::mix
