// Tokenize only what the plan keeps: calibration, the selection plan and the exact trim
// (estimate.h; the design and what it changes: docs/tokenize-kept.md).
#include "longctx/mix/estimate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <tuple>

#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/size.h"
#include "plan_writer.h"

namespace longctx::mix {
namespace {

using ojson = nlohmann::ordered_json;

bool per_domain_budgets(const std::string& s) { return s == "per-source" || s.rfind("upsample:", 0) == 0; }

std::string store_kind(const store::Selection& s) {
  return s.kind.empty() ? "a store of every document" : s.kind == "sample" ? "a sample store (ingest --sample-rate)" : "a subset store (ingest --select)";
}

void require_sample(const store::StoreReader& st) {
  if (st.manifest().selection.kind != "sample")
    throw Error(st.dir() + ": expected a sample store (longctx ingest --sample-rate R), found " + store_kind(st.manifest().selection));
}

// A selection plan's plan.json, checked to be one.
ojson selection_json(const LoadedPlan& p) {
  ojson j;
  try {
    j = ojson::parse(p.json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(p.dir + "/plan.json: malformed JSON: " + e.what());
  }
  if (!j.contains("estimate") || !j["estimate"].is_object() || j["estimate"].value("kind", "") != "selection")
    throw Error(p.dir + ": expected a selection plan (what `longctx mix` makes of a sample store), found a plan to pack");
  return j;
}

std::string thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

Calibration calibrate(const store::StoreReader& st) {
  require_sample(st);
  const auto& m = st.manifest();
  Calibration c;
  c.specials = (m.bos ? 1 : 0) + (m.eos_id >= 0 ? 1 : 0);
  for (const auto& d : m.domains) c.domains.push_back({d.name});
  const auto lengths = st.data().lengths();
  const auto docs = st.docs();
  uint64_t all_chars = 0, all_tokens = 0, all_sampled = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    auto& d = c.domains[docs[i].domain];
    ++d.documents;
    d.chars += docs[i].chars;
    if (lengths[i] <= 0) continue;  // not in the sample
    ++d.sampled;
    d.sample_chars += docs[i].chars;
    d.sample_tokens += static_cast<uint64_t>(std::max<int64_t>(0, int64_t{lengths[i]} - c.specials));
  }
  for (const auto& d : c.domains) {
    all_chars += d.sample_chars;
    all_tokens += d.sample_tokens;
    all_sampled += d.sampled;
  }
  if (all_sampled == 0 || all_chars == 0)
    throw Error(st.dir() + ": none of its " + std::to_string(docs.size()) + " documents was tokenized (sample rate " +
                std::to_string(m.selection.rate) + "); ingest it again with a higher --sample-rate");
  const double pooled = static_cast<double>(all_tokens) / static_cast<double>(all_chars);
  for (auto& d : c.domains) {
    d.pooled = d.sample_chars == 0 || (d.sampled < Calibration::kMinSampled && d.sample_chars < Calibration::kMinSampleChars);
    d.tokens_per_char = d.pooled ? pooled : static_cast<double>(d.sample_tokens) / static_cast<double>(d.sample_chars);
  }
  c.lengths.resize(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    auto& d = c.domains[docs[i].domain];
    if (lengths[i] > 0) {
      c.lengths[i] = lengths[i];
    } else {
      const double x = std::round(static_cast<double>(docs[i].chars) * d.tokens_per_char) + c.specials;
      c.lengths[i] = static_cast<int32_t>(std::clamp(x, 1.0, static_cast<double>(INT32_MAX)));
    }
    d.estimated_tokens += static_cast<uint64_t>(c.lengths[i]);
  }
  return c;
}

Plan make_selection(const store::StoreReader& st, const MixOptions& o, double margin) {
  const Calibration cal = calibrate(st);
  if (o.strategy == "target")
    throw Error("--strategy target: not on a sample store (its length bins need exact lengths); ingest every document instead");
  if (!o.length_estimate.empty())
    throw Error("--length-estimate: not on a sample store, whose lengths are estimated already (docs/tokenize-kept.md)");
  if (!(margin >= 0 && margin <= 10)) throw Error("--margin: expected a fraction from 0 to 10, found " + std::to_string(margin));
  if (o.tokens == 0) throw Error("--tokens: expected a positive number of tokens");

  // The same documents with estimated lengths, and domain totals to match.
  store::Manifest em = st.manifest();
  em.tokens = 0;
  for (size_t d = 0; d < em.domains.size(); ++d) {
    em.domains[d].tokens = cal.domains[d].estimated_tokens;
    em.tokens += em.domains[d].tokens;
  }
  const PlanSource src(em, st.dir(), cal.lengths, st.docs());

  // The budgets the trim will meet: the strategy's own, from the estimated domain totals.
  MixOptions fo = o;
  fo.whole_docs = false;
  fo.allow_shortfall = true;
  const Plan fin = make_plan(src, fo);
  if (!o.allow_shortfall) {
    std::string short_of;
    for (const auto& d : fin.domains)
      if (d.shortfall > 0)
        short_of += (short_of.empty() ? "" : "; ") + d.name + " has an estimated " + thousands(d.available) + " tokens for a budget of " +
                    thousands(d.budget);
    if (short_of.empty() && !per_domain_budgets(o.strategy) && fin.tokens < o.tokens)
      short_of = "the corpus has an estimated " + thousands(fin.tokens) + " eligible tokens for --tokens " + thousands(o.tokens);
    if (!short_of.empty())
      throw Error(o.strategy + ": " + short_of + " (after " + std::to_string(o.max_repeat) +
                  " pass(es)); allow repeats with --max-repeat, plan fewer tokens, or pass --allow-shortfall");
  }

  // The selection: whole documents for tokens × (1 + margin), the corpus permitting.
  MixOptions so = o;
  so.tokens = static_cast<uint64_t>(std::ceil(static_cast<double>(o.tokens) * (1.0 + margin)));
  so.whole_docs = per_domain_budgets(o.strategy) || o.strategy == "global";
  so.allow_shortfall = true;
  Plan sel = make_plan(src, so);

  ojson e;
  e["kind"] = "selection";
  e["margin"] = margin;
  e["tokens"] = o.tokens;
  e["whole_docs"] = o.whole_docs;
  e["allow_shortfall"] = o.allow_shortfall;
  e["sample"] = {{"rate", st.manifest().selection.rate}, {"seed", st.manifest().selection.seed}, {"specials", cal.specials},
                 {"min_sampled", Calibration::kMinSampled}, {"min_sample_chars", Calibration::kMinSampleChars}};
  e["domains"] = ojson::object();
  uint64_t sampled = 0;
  for (size_t d = 0; d < cal.domains.size(); ++d) {
    const auto& c = cal.domains[d];
    sampled += c.sampled;
    e["domains"][c.name] = {{"documents", c.documents},         {"chars", c.chars},
                            {"sampled", c.sampled},             {"sample_chars", c.sample_chars},
                            {"sample_tokens", c.sample_tokens}, {"tokens_per_char", c.tokens_per_char},
                            {"pooled", c.pooled},               {"estimated_tokens", c.estimated_tokens},
                            {"target_share", fin.domains[d].target_share}, {"budget", fin.domains[d].budget}};
  }
  ojson bins = ojson::object();
  for (const auto& [label, x] : fin.before_bins) bins[label] = x;
  e["figure2_before"] = {{"domains", fin.before_domains}, {"bins", bins}};
  sel.estimate_json = e.dump();
  sel.notes = {"a selection plan on estimated lengths (tokens per character from " + thousands(sampled) + " sampled documents, margin " +
               std::to_string(margin) + "): tokenize its documents with `longctx ingest INPUTS --select PLAN --out KEPT`, then make "
               "the plan to pack with `longctx mix KEPT --trim PLAN`"};
  return sel;
}

SelectedLines read_selection(const std::string& dir) {
  const LoadedPlan p = read_plan(dir);
  const ojson j = selection_json(p);
  const store::StoreReader st(p.store_dir);
  if (xxh128_file(st.dir() + "/" + store::kManifestFile) != p.store_manifest_xxh128)
    throw Error(dir + ": its sample store " + st.dir() + " changed since the plan was made (manifest hash differs); make the plan again");
  require_sample(st);
  SelectedLines s;
  const auto& inputs = st.manifest().inputs;
  for (const auto& in : inputs) s.input_paths.push_back(in.path);
  s.lines.resize(inputs.size());
  const auto docs = st.docs();
  for (const auto& e : p.entries) {
    if (e.doc >= docs.size())
      throw Error(dir + "/entries.bin: document " + std::to_string(e.doc) + " is outside " + st.dir() + " (" + std::to_string(docs.size()) +
                  " documents)");
    if (docs[e.doc].input >= inputs.size())
      throw Error(st.dir() + "/docs.bin: document " + std::to_string(e.doc) + " names input " + std::to_string(docs[e.doc].input) + " of " +
                  std::to_string(inputs.size()));
    s.lines[docs[e.doc].input].push_back(docs[e.doc].line);
  }
  for (auto& l : s.lines) {
    std::sort(l.begin(), l.end());
    l.erase(std::unique(l.begin(), l.end()), l.end());
    s.selection.documents += l.size();
  }
  s.selection.kind = "subset";
  s.selection.plan_xxh128 = j.at("files").at("entries.bin").at("xxh128").get<std::string>();
  s.selection.scan_run = st.manifest().run_fingerprint;
  return s;
}

Plan trim_plan(const store::StoreReader& kept, const std::string& sel_dir) {
  const LoadedPlan p = read_plan(sel_dir);
  const ojson j = selection_json(p);
  const auto& km = kept.manifest();
  if (km.selection.kind != "subset" || km.selection.plan_xxh128 != j.at("files").at("entries.bin").at("xxh128").get<std::string>())
    throw Error(kept.dir() + ": expected the store `longctx ingest --select " + sel_dir + "` writes, found " +
                (km.selection.kind == "subset" ? std::string("the subset of another selection plan") : store_kind(km.selection)));
  const store::StoreReader scan(p.store_dir);
  if (scan.manifest().run_fingerprint != km.selection.scan_run)
    throw Error(kept.dir() + ": was selected from another sample store than " + scan.dir() + " (run fingerprints differ)");
  const auto& si = scan.manifest().inputs;
  const auto& ki = km.inputs;
  if (si.size() != ki.size())
    throw Error(kept.dir() + ": read " + std::to_string(ki.size()) + " inputs, the sample store " + scan.dir() + " " + std::to_string(si.size()));
  for (size_t i = 0; i < si.size(); ++i)
    if (si[i].path != ki[i].path || si[i].xxh128 != ki[i].xxh128)
      throw Error(ki[i].path + ": differs from the input the sample store " + scan.dir() + " read (" +
                  (si[i].path != ki[i].path ? "path " + si[i].path : std::string("content hash")) +
                  "): the corpus changed between the two passes; make the sample store again");

  const ojson& e = j.at("estimate");
  const ojson& jo = j.at("options");
  MixOptions o;
  o.strategy = j.at("strategy").get<std::string>();
  o.seed = j.at("seed").get<uint64_t>();
  o.long_threshold = jo.at("long_threshold").get<uint64_t>();
  o.keep_short = jo.at("keep_short").get<double>();
  o.domain_shares = jo.at("domain_shares").get<std::string>();
  o.max_repeat = jo.at("max_repeat").get<uint32_t>();
  o.tokens = e.at("tokens").get<uint64_t>();
  o.whole_docs = e.at("whole_docs").get<bool>();
  o.allow_shortfall = e.at("allow_shortfall").get<bool>();

  Plan plan;
  plan.options = o;
  plan.store_dir = kept.dir();
  plan.store_run = km.run_fingerprint;
  plan.store_manifest_xxh128 = xxh128_file(kept.dir() + "/" + store::kManifestFile);
  const ojson& ed = e.at("domains");
  for (const auto& d : km.domains) {
    plan.store_domains.push_back(d.name);
    DomainResult r;
    r.name = d.name;
    if (ed.contains(d.name)) {
      r.target_share = ed[d.name].at("target_share").get<double>();
      r.budget = ed[d.name].at("budget").get<uint64_t>();
      r.available = ed[d.name].at("estimated_tokens").get<uint64_t>();
    }
    plan.domains.push_back(r);
  }
  // A domain the selection took no documents from is not in the subset store; it still gets a row
  // (after the store's, so no entry refers to it), so its budget counts as short below and the
  // plan's notes name it, as the exact path's plan would.
  for (const auto& [key, d] : ed.items()) {
    const std::string& name = key;  // a lambda may not capture a structured binding (clang < 16)
    if (std::any_of(km.domains.begin(), km.domains.end(), [&](const auto& k) { return k.name == name; })) continue;
    DomainResult r;
    r.name = name;
    r.target_share = d.at("target_share").get<double>();
    r.budget = d.at("budget").get<uint64_t>();
    r.available = d.at("estimated_tokens").get<uint64_t>();
    plan.domains.push_back(r);
  }
  if (j.contains("domains"))
    for (auto& r : plan.domains)
      if (j["domains"].contains(r.name)) r.passes = j["domains"][r.name].value("passes", 0u);

  // Selection documents -> subset documents: both in input order, found by (input, line).
  const auto kd = kept.docs();
  const auto sd = scan.docs();
  auto find = [&](uint64_t doc) -> uint64_t {
    if (doc >= sd.size()) throw Error(sel_dir + "/entries.bin: document " + std::to_string(doc) + " is outside " + scan.dir());
    const auto& r = sd[doc];
    const auto it = std::lower_bound(kd.begin(), kd.end(), r, [](const store::DocRecord& a, const store::DocRecord& b) {
      return std::tie(a.input, a.line) < std::tie(b.input, b.line);
    });
    if (it == kd.end() || it->input != r.input || it->line != r.line)
      throw Error(kept.dir() + ": lacks " + (r.input < si.size() ? si[r.input].path : std::string("input ?")) + ":" + std::to_string(r.line) +
                  ", a document of the selection plan " + sel_dir);
    return static_cast<uint64_t>(it - kd.begin());
  };
  const auto lengths = kept.data().lengths();
  PlanWriter w{plan, lengths, kd, o.long_threshold};
  const std::string& s = o.strategy;
  std::string short_of;
  if (per_domain_budgets(s)) {
    std::vector<uint64_t> left;
    for (const auto& d : plan.domains) left.push_back(d.budget);
    for (const auto& en : p.entries) {
      if (en.start != 0) continue;  // a selection holds whole documents
      const uint64_t k = find(en.doc);
      const size_t d = kd[k].domain;
      if (left[d] == 0) continue;
      if (o.whole_docs) {
        w.take_whole(k);
        left[d] -= std::min<uint64_t>(left[d], static_cast<uint64_t>(lengths[k]));
      } else {
        left[d] -= w.take_prefix(k, left[d]);
      }
    }
    for (size_t d = 0; d < left.size(); ++d) {
      plan.domains[d].shortfall = left[d];
      if (left[d] > 0)
        short_of += (short_of.empty() ? "" : "; ") + plan.domains[d].name + " got " + thousands(plan.domains[d].tokens) + " of a budget of " +
                    thousands(plan.domains[d].budget) + " tokens";
    }
  } else {  // one total: global (exact unless whole_docs), original (whole documents), cut:LEN (pieces)
    const uint32_t cut = s.rfind("cut:", 0) == 0 ? static_cast<uint32_t>(parse_size(s.substr(4), "--strategy " + s)) : 0;
    const bool exact = s == "global" && !o.whole_docs;
    uint64_t left = o.tokens;
    for (const auto& en : p.entries) {
      if (left == 0) break;
      if (en.start != 0) continue;  // cut:LEN's later pieces: the document is taken at its first
      const uint64_t k = find(en.doc);
      if (exact) {
        left -= w.take_prefix(k, left);
        continue;
      }
      if (cut)
        w.take_pieces(k, cut);
      else
        w.take_whole(k);
      left -= std::min<uint64_t>(left, static_cast<uint64_t>(lengths[k]));
    }
    if (left > 0) short_of = "the selected documents hold " + thousands(o.tokens - left) + " tokens for --tokens " + thousands(o.tokens);
  }
  plan.exact_budgets = !o.whole_docs && (per_domain_budgets(s) || s == "global");
  if (!short_of.empty() && !o.allow_shortfall)
    throw Error(s + ": " + short_of + ": the estimate undershot by more than the margin (" + std::to_string(e.at("margin").get<double>()) +
                "); make the selection plan again with a larger --margin");

  // Figure 2's "before" is the corpus as estimated; "after" the plan's exact entries.
  const ojson& fb = e.at("figure2_before");
  for (const auto& [name, x] : fb.at("domains").items()) plan.before_domains[name] = x.get<double>();
  for (const auto& [label, x] : fb.at("bins").items()) plan.before_bins.emplace_back(label, x.get<double>());
  summarize_plan(plan);
  uint64_t corpus_docs = 0;
  for (const auto& [name, d] : ed.items()) corpus_docs += d.at("documents").get<uint64_t>();
  ojson t;
  t["kind"] = "trim";
  t["selection_plan"] = std::filesystem::absolute(sel_dir).lexically_normal().string();
  t["selection_entries_xxh128"] = km.selection.plan_xxh128;
  t["sample_store"] = std::filesystem::absolute(scan.dir()).lexically_normal().string();
  t["margin"] = e.at("margin");
  t["corpus_documents"] = corpus_docs;
  t["tokenized_documents"] = km.documents;
  t["tokenized_tokens"] = km.tokens;
  t["domains"] = ed;
  plan.estimate_json = t.dump();
  plan.notes.insert(plan.notes.begin(), "tokenized only the selection's " + thousands(km.documents) + " of " + thousands(corpus_docs) +
                                            " documents; Figure 2's before-shares and each domain's available tokens are estimates "
                                            "(docs/tokenize-kept.md)");
  return plan;
}

}  // namespace longctx::mix
