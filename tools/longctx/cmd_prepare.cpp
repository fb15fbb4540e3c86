// longctx prepare CONFIG: ingest -> stats -> mix -> pack -> report in one run, configured by one
// JSON file (examples/). Rerunning the same config resumes: a complete stage is checked and
// skipped, an interrupted ingest continues from its checkpoint. A stage whose output exists but
// was made with other settings is refused rather than overwritten.
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "commands.h"
#include "io.h"
#include "longctx/ingest/ingest.h"
#include "longctx/mix/estimate.h"
#include "longctx/mix/length_stats.h"
#include "longctx/mix/plan.h"
#include "longctx/pack/pack.h"
#include "longctx/report/mixture_report.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/hash.h"
#include "longctx/util/size.h"
#include "progress.h"

namespace longctx::cli {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The config, parsed and checked whole before any stage runs: a bad value must not cost an ingest
// (hours on a real corpus). Every error is one line naming the config file and the key.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(origin_ + ": \"" + key + "\": " + what);
  }
  [[noreturn]] void expected(const std::string& key, const std::string& what, const json& v) const {
    fail(key, "expected " + what + ", found " + v.dump());
  }

  // Unknown keys are typos: refuse them with the list of known ones.
  void keys(const json& j, const std::string& where, const std::set<std::string>& known) const {
    if (!j.is_object()) expected(where, "an object", j);
    for (const auto& [k, v] : j.items())
      if (!known.count(k)) {
        std::string list;
        for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
        throw Error(origin_ + ": unknown key \"" + name(where, k) + "\" (known: " + list + ")");
      }
  }

  static bool has(const json& j, const std::string& key) { return j.contains(key) && !j.at(key).is_null(); }

  std::string str(const json& j, const std::string& where, const std::string& key, const std::string& fallback,
                  bool non_empty = false) const {
    if (!has(j, key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_string() || (non_empty && v.get<std::string>().empty()))
      expected(name(where, key), non_empty ? "a non-empty string" : "a string", v);
    return v.get<std::string>();
  }
  bool boolean(const json& j, const std::string& where, const std::string& key, bool fallback) const {
    if (!has(j, key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_boolean()) expected(name(where, key), "true or false", v);
    return v.get<bool>();
  }
  // A JSON integer (not 1.5, not "3") in [lo, hi].
  int64_t integer(const json& j, const std::string& where, const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
    if (!has(j, key)) return fallback;
    const auto& v = j.at(key);
    const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (!v.is_number_integer()) expected(name(where, key), range, v);
    if (v.is_number_unsigned() ? (v.get<uint64_t>() > static_cast<uint64_t>(hi) || (lo > 0 && v.get<uint64_t>() < static_cast<uint64_t>(lo)))
                               : (v.get<int64_t>() < lo || v.get<int64_t>() > hi))
      expected(name(where, key), range, v);
    return v.get<int64_t>();
  }
  uint64_t unsigned_integer(const json& j, const std::string& where, const std::string& key, uint64_t fallback) const {
    if (!has(j, key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_number_unsigned()) expected(name(where, key), "an integer >= 0", v);
    return v.get<uint64_t>();
  }
  double number(const json& j, const std::string& where, const std::string& key, double fallback, double lo, double hi) const {
    if (!has(j, key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
      expected(name(where, key), "a number in [" + json(lo).dump() + ", " + json(hi).dump() + "]", v);
    return v.get<double>();
  }
  // A size: an integer >= 0 or a string in parse_size's grammar ("4K", "5B"), in [lo, hi].
  uint64_t size(const json& j, const std::string& where, const std::string& key, const std::string& fallback, uint64_t lo,
                uint64_t hi) const {
    const std::string n = name(where, key);
    std::string text = fallback;
    if (has(j, key)) {
      const auto& v = j.at(key);
      if (v.is_number_unsigned()) text = std::to_string(v.get<uint64_t>());
      else if (v.is_string()) text = v.get<std::string>();
      else expected(n, "a size like \"5B\", \"128K\" or 131072", v);
    } else if (fallback.empty()) {
      fail(n, "missing (a size like \"5B\", \"128K\" or 131072)");
    }
    const uint64_t x = parse_size(text, origin_ + ": \"" + n + "\"");
    if (x < lo || x > hi) fail(n, "expected a size in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " + text);
    return x;
  }
  std::vector<std::string> strings(const json& j, const std::string& where, const std::string& key) const {
    std::vector<std::string> out;
    if (!has(j, key)) fail(name(where, key), "missing (a list of files and folders)");
    const auto& v = j.at(key);
    if (!v.is_array() || v.empty()) expected(name(where, key), "a non-empty list of strings", v);
    for (const auto& x : v) {
      if (!x.is_string() || x.get<std::string>().empty()) expected(name(where, key), "a list of non-empty strings", v);
      out.push_back(x.get<std::string>());
    }
    return out;
  }

 private:
  static std::string name(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }
  std::string origin_;
};

struct Config {
  std::string out;
  int threads = 0;
  ingest::IngestOptions io;
  mix::MixOptions mo;
  bool pack = false;
  pack::PackOptions po;
  // ingest.tokenize "kept": tokenize only what the plan keeps (docs/tokenize-kept.md).
  bool kept = false;
  double sample_rate = 0.01, margin = 0.1;
  uint64_t sample_seed = 0;
};

// The mix values that need no store: the strategy's form, shares, bins, estimate.
void check_mix(const Reader& rd, const mix::MixOptions& mo) {
  const std::string& s = mo.strategy;
  if (s.rfind("cut:", 0) == 0) {
    uint64_t len = 0;
    try {
      len = parse_size(s.substr(4), "cut");
    } catch (const Error&) {
      rd.fail("mix.strategy", "expected cut:LEN with LEN a length like 4K or 4096, found \"" + s + "\"");
    }
    if (len == 0 || len > UINT32_MAX) rd.fail("mix.strategy", "expected cut:LEN with 0 < LEN < 2^32, found \"" + s + "\"");
    if (mo.whole_docs) rd.fail("mix.whole_docs", s + " cuts every document into pieces; set whole_docs only for another strategy");
  } else if (s.rfind("upsample:", 0) == 0) {
    const std::string arg = s.substr(9);
    const size_t eq = arg.rfind('=');
    if (arg.empty() || eq == 0) rd.fail("mix.strategy", "expected upsample:DOMAIN[=WEIGHT], found \"" + s + "\"");
    if (eq != std::string::npos) {
      char* end = nullptr;
      const std::string w = arg.substr(eq + 1);
      const double x = std::strtod(w.c_str(), &end);
      if (w.empty() || *end || !(x >= 0)) rd.fail("mix.strategy", "expected upsample:DOMAIN=WEIGHT with WEIGHT >= 0, found \"" + s + "\"");
    }
  } else if (s != "original" && s != "per-source" && s != "global" && s != "target") {
    rd.fail("mix.strategy", "expected original, cut:LEN, per-source, global, upsample:DOMAIN[=W] or target, found \"" + s + "\"");
  }
  auto shares = [&](const std::string& key, const std::string& text) {
    std::vector<double> out;
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      const std::string part = text.substr(start, comma - start);
      const std::string num = key == "mix.domain_shares" ? part.substr(part.find('=') == std::string::npos ? part.size() : part.find('=') + 1) : part;
      char* end = nullptr;
      const double x = std::strtod(num.c_str(), &end);
      if (num.empty() || *end || !(x >= 0) || (key == "mix.domain_shares" && part.find('=') == std::string::npos))
        rd.fail(key, "expected " + std::string(key == "mix.domain_shares" ? "natural, slimpajama or NAME=x,..." : "shares like 0.4,0.6") +
                         ", found \"" + text + "\"");
      out.push_back(x);
      start = comma + 1;
    }
    double sum = 0;
    for (const double x : out) sum += x;
    if (std::fabs(sum - 1.0) > 1e-6) rd.fail(key, "expected shares summing to 1, found \"" + text + "\"");
    return out;
  };
  if (mo.domain_shares != "natural" && mo.domain_shares != "slimpajama") shares("mix.domain_shares", mo.domain_shares);
  if (!mo.length_estimate.empty()) {
    char* end = nullptr;
    const std::string r = mo.length_estimate.rfind("chars/", 0) == 0 ? mo.length_estimate.substr(6) : "";
    const double x = std::strtod(r.c_str(), &end);
    if (r.empty() || *end || !(x > 0)) rd.fail("mix.length_estimate", "expected chars/R with R > 0, found \"" + mo.length_estimate + "\"");
  }
  mix::LengthBins bins;
  try {
    bins = mix::LengthBins::parse(mo.target_bins);
  } catch (const Error& e) {
    rd.fail("mix.bins", e.what());
  }
  if (s == "target") {
    if (mo.target_bin_shares.empty()) rd.fail("mix.bin_shares", "missing (the target strategy needs a share per bin, e.g. \"0.4,0.6\")");
    if (shares("mix.bin_shares", mo.target_bin_shares).size() != bins.edges.size())
      rd.fail("mix.bin_shares", "expected " + std::to_string(bins.edges.size()) + " shares for bins " + mo.target_bins + ", found \"" +
                                    mo.target_bin_shares + "\"");
  } else if (!mo.target_bin_shares.empty()) {
    shares("mix.bin_shares", mo.target_bin_shares);
  }
}

Config parse_config(const std::string& config_path) {
  json c;
  try {
    c = json::parse(read_file(config_path));
  } catch (const json::exception& e) {
    throw Error(config_path + ": invalid JSON: " + e.what());
  }
  const Reader rd(config_path);
  rd.keys(c, "config", {"out", "threads", "ingest", "mix", "pack"});
  if (!c.contains("out") || !c.contains("ingest") || !c.contains("mix"))
    throw Error(config_path + ": expected at least \"out\", \"ingest\" and \"mix\"");
  const json& ci = c.at("ingest");
  const json& cm = c.at("mix");
  rd.keys(ci, "ingest", {"tokenizer", "inputs", "text_field", "domain_field", "domain", "domain_from_folder", "bos", "eos",
                         "eos_token", "parse_special", "strict", "checkpoint_seconds", "tokenize", "sample_rate", "sample_seed"});
  rd.keys(cm, "mix", {"strategy", "tokens", "seed", "long_threshold", "keep_short", "domain_shares", "length_estimate",
                      "max_repeat", "allow_shortfall", "whole_docs", "bins", "bin_shares", "margin"});
  Config k;
  k.out = rd.str(c, "", "out", "", true);
  k.threads = static_cast<int>(rd.integer(c, "", "threads", 0, 0, 4096));  // 0: one per core

  ingest::IngestOptions& io = k.io;
  io.tokenizer_path = rd.str(ci, "ingest", "tokenizer", "", true);
  if (io.tokenizer_path.empty()) rd.fail("ingest.tokenizer", "missing (the tokenizer.json file)");
  io.inputs = rd.strings(ci, "ingest", "inputs");
  io.out = k.out + "/store";
  io.text_field = rd.str(ci, "ingest", "text_field", "text", true);
  const std::string domain = rd.str(ci, "ingest", "domain", "", true);
  const bool from_folder = rd.boolean(ci, "ingest", "domain_from_folder", false);
  const std::string domain_field = rd.str(ci, "ingest", "domain_field", "meta.redpajama_set_name", true);
  if (Reader::has(ci, "domain")) {
    io.domain = {corpus::DomainSource::kConstant, domain};
  } else if (from_folder) {
    io.domain = {corpus::DomainSource::kFolder, ""};
  } else {
    io.domain = {corpus::DomainSource::kField, domain_field};
  }
  io.bos = rd.boolean(ci, "ingest", "bos", true);
  io.eos = rd.boolean(ci, "ingest", "eos", false);
  io.eos_token = rd.str(ci, "ingest", "eos_token", "");
  io.parse_special = rd.boolean(ci, "ingest", "parse_special", false);
  io.strict = rd.boolean(ci, "ingest", "strict", false);
  io.checkpoint_seconds = rd.number(ci, "ingest", "checkpoint_seconds", 30.0, 0, 1e9);
  const std::string tokenize = rd.str(ci, "ingest", "tokenize", "all", true);
  if (tokenize != "all" && tokenize != "kept") rd.fail("ingest.tokenize", "expected \"all\" or \"kept\", found \"" + tokenize + "\"");
  k.kept = tokenize == "kept";
  for (const auto& [obj, where, key] : {std::tuple<const json*, const char*, const char*>{&ci, "ingest", "sample_rate"},
                                        {&ci, "ingest", "sample_seed"}, {&cm, "mix", "margin"}})
    if (!k.kept && Reader::has(*obj, key)) rd.fail(std::string(where) + "." + key, "only with \"tokenize\": \"kept\" (in \"ingest\")");
  k.sample_rate = rd.number(ci, "ingest", "sample_rate", 0.01, 1e-9, 1);
  k.sample_seed = rd.unsigned_integer(ci, "ingest", "sample_seed", 0);
  k.margin = rd.number(cm, "mix", "margin", 0.1, 0, 10);

  mix::MixOptions& mo = k.mo;
  mo.strategy = rd.str(cm, "mix", "strategy", "per-source", true);
  mo.tokens = rd.size(cm, "mix", "tokens", "", 1, UINT64_MAX);
  mo.seed = rd.unsigned_integer(cm, "mix", "seed", 0);
  mo.long_threshold = rd.size(cm, "mix", "long_threshold", "4K", 0, UINT64_MAX);
  mo.keep_short = rd.number(cm, "mix", "keep_short", 0.1, 0, 1);
  mo.domain_shares = rd.str(cm, "mix", "domain_shares", "natural", true);
  mo.length_estimate = rd.str(cm, "mix", "length_estimate", "");
  mo.max_repeat = static_cast<uint32_t>(rd.integer(cm, "mix", "max_repeat", 1, 1, UINT32_MAX));
  mo.allow_shortfall = rd.boolean(cm, "mix", "allow_shortfall", false);
  mo.whole_docs = rd.boolean(cm, "mix", "whole_docs", false);
  mo.target_bins = rd.str(cm, "mix", "bins", "0,4K", true);
  mo.target_bin_shares = rd.str(cm, "mix", "bin_shares", "");
  check_mix(rd, mo);
  if (k.kept && mo.strategy == "target") rd.fail("mix.strategy", "target needs exact lengths: not with \"tokenize\": \"kept\"");
  if (k.kept && !mo.length_estimate.empty()) rd.fail("mix.length_estimate", "not with \"tokenize\": \"kept\" (lengths are estimated already)");

  if (c.contains("pack")) {
    const json& cp = c.at("pack");
    rd.keys(cp, "pack", {"seq_len", "format", "seed", "pad", "align_docs", "shard_sequences", "batch_sequences", "eos"});
    k.pack = true;
    pack::PackOptions& po = k.po;
    po.format = rd.str(cp, "pack", "format", "jsonl", true);
    static const std::set<std::string> kFormats = {"jsonl", "jsonl.zst", "megatron", "megatron-docs", "llmc", "flat"};
    if (!kFormats.count(po.format))
      rd.fail("pack.format", "expected jsonl, jsonl.zst, megatron, megatron-docs, llmc or flat, found \"" + po.format + "\"");
    // megatron-docs: one document per planned entry, Megatron packs them itself (no seq_len).
    po.seq_len = po.format == "megatron-docs" && !Reader::has(cp, "seq_len") ? 0 : rd.size(cp, "pack", "seq_len", "", 1, 1ULL << 31);
    if (Reader::has(cp, "seed")) {
      po.seed = rd.unsigned_integer(cp, "pack", "seed", 0);
      po.seed_given = true;
    }
    po.pad_id = rd.integer(cp, "pack", "pad", -1, 0, INT32_MAX);
    po.align_docs = rd.boolean(cp, "pack", "align_docs", false);
    if (po.align_docs && po.pad_id < 0) rd.fail("pack.align_docs", "sequences are padded: give the pad token id as \"pad\"");
    po.shard_sequences = rd.unsigned_integer(cp, "pack", "shard_sequences", 0);
    po.batch_sequences = rd.unsigned_integer(cp, "pack", "batch_sequences", 0);
    po.eos_id = rd.integer(cp, "pack", "eos", -1, 0, INT32_MAX);
    try {  // the combinations pack itself refuses, named by their flags (the keys without "--")
      pack::check_options(po);
    } catch (const Error& e) {
      rd.fail("pack", e.what());
    }
    po.threads = thread_count(k.threads);
  }
  io.threads = thread_count(k.threads);
  return k;
}

int run(const std::string& config_path, bool quiet) {
  Config k = parse_config(config_path);  // every value checked before any stage runs
  const std::string& out = k.out;
  auto say = [&](const std::string& s) {
    if (!quiet) std::fprintf(stderr, "prepare: %s\n", s.c_str());
  };

  // A plan is cheap to recompute; an existing one must be the same plan.
  auto keep_or_write = [&](const mix::Plan& plan, const std::string& plan_dir, const std::string& plan_text) {
    if (fs::exists(plan_dir + "/plan.json")) {
      const auto old = mix::read_plan(plan_dir);
      json a = json::parse(old.json);
      a.erase("files");
      json b = json::parse(plan_text);
      // The store is identified by its manifest's hash; its recorded path depends on where plans are written from.
      for (json* x : {&a, &b}) {
        if (x->contains("store")) {
          (*x)["store"].erase("path");
          (*x)["store"].erase("relative_to");
        }
        if (x->contains("estimate"))  // a trimmed plan's record of its selection: paths too
          for (const char* k : {"selection_plan", "sample_store"}) (*x)["estimate"].erase(k);
      }
      // Plans from before exact budgets lack the field: name the cause, as no setting reproduces them.
      if (a != b && !a.contains("exact_budgets"))
        throw Error(plan_dir + ": holds a plan from an older longctx (whole documents, before exact budgets); remove it (and " + out +
                    "/packed) to replan");
      if (a != b) throw Error(plan_dir + ": holds a plan made with other settings; remove it (and " + out + "/packed) to replan");
      say("plan " + plan_dir + " is up to date (" + std::to_string(plan.entries.size()) + " entries)");
    } else {
      mix::write_plan(plan, plan_dir);
      say("planned " + std::to_string(plan.tokens) + " tokens (" + plan.options.strategy + ") -> " + plan_dir);
    }
  };

  // 1. ingest (resumable by itself). With "tokenize": "kept", first the fast pass (a sample
  // store) and the selection plan, then an ingest of just the selection's documents.
  ingest::IngestOptions& io = k.io;
  Progress progress("ingest", false);
  io.progress = [&](uint64_t b, uint64_t) { progress.bytes(b); };
  const std::string sel_dir = out + "/selection";
  if (k.kept) {
    ingest::IngestOptions so = io;
    so.out = out + "/sample";
    so.selection = {"sample", k.sample_rate, k.sample_seed};
    const auto ss = ingest::ingest(so);
    say(ss.already_complete ? "sample store " + so.out + " is complete"
                            : "fast pass: " + std::to_string(ss.manifest.documents) + " documents, sample of " +
                                  std::to_string(ss.manifest.tokens) + " tokens -> " + so.out);
    const store::StoreReader sample(so.out);
    const mix::Plan sel = mix::make_selection(sample, k.mo, k.margin);
    keep_or_write(sel, sel_dir, sel.to_json());
    auto lines = mix::read_selection(sel_dir);
    io.selection = lines.selection;
    io.select_lines = std::move(lines.lines);
  }
  const auto is = ingest::ingest(io);
  say(is.already_complete ? "store " + io.out + " is complete (" + std::to_string(is.manifest.documents) + " documents)"
                          : "ingested " + std::to_string(is.manifest.documents) + " documents, " + std::to_string(is.manifest.tokens) +
                                " tokens -> " + io.out);

  // 2. stats.
  const store::StoreReader st(io.out);
  const auto stats = mix::compute_length_stats(st, mix::LengthBins::paper());
  {
    AtomicFile f(out + "/stats.json");
    f.write(stats.to_json());
    f.commit();
  }

  // 3. mix (with "kept": the trim of the selection to exact budgets).
  const mix::MixOptions& mo = k.mo;
  const mix::Plan plan = k.kept ? mix::trim_plan(st, sel_dir) : mix::make_plan(st, mo);
  const std::string plan_text = plan.to_json();  // serialised once: compared, reported, rendered
  const json plan_json = json::parse(plan_text);
  const std::string plan_dir = out + "/plan";
  keep_or_write(plan, plan_dir, plan_text);

  // 4. pack.
  std::string packed_json;
  if (k.pack) {
    pack::PackOptions& po = k.po;
    po.plan_dir = plan_dir;
    po.out = out + "/packed";
    const std::string manifest = po.out + "/manifest.json";
    if (fs::exists(manifest)) {
      const json m = json::parse(read_file(manifest));
      const std::string plan_hash = xxh128_hex(read_file(plan_dir + "/plan.json"));
      const bool same = m.at("plan").at("xxh128") == plan_hash && m.at("layout") == po.format && m.at("seq_len") == po.seq_len &&
                        m.at("align_docs") == po.align_docs && (m.at("pad_id").is_null() ? -1 : m.at("pad_id").get<int64_t>()) == po.pad_id &&
                        (!po.seed_given || m.at("seed") == po.seed) && m.value("batch_sequences", uint64_t{0}) == po.batch_sequences &&
                        (!m.contains("eos_id") || m.at("eos_id").is_null() ? -1 : m.at("eos_id").get<int64_t>()) == po.eos_id;
      if (!same) throw Error(po.out + ": holds a packed output made with other settings; remove it to repack");
      pack::verify(po.out);
      say("packed output " + po.out + " is complete and verified");
    } else {
      const auto ps = pack::pack(po);
      say("packed " + std::to_string(ps.sequences) +
          (po.format == "megatron-docs" ? " documents" : " sequences of " + std::to_string(po.seq_len) + " tokens") + " (" + po.format + ") -> " +
          po.out);
    }
    packed_json = read_file(manifest);
  }

  // 5. report: the page and the same numbers as JSON.
  json r;
  r["store"] = json::parse(stats.to_json());
  r["figure2"] = plan_json.at("figure2");
  r["plan"] = plan_json.at("domains");
  if (!packed_json.empty()) r["packed"] = json::parse(packed_json);
  {
    AtomicFile f(out + "/report.json");
    f.write(r.dump(2) + "\n");
    f.commit();
    AtomicFile h(out + "/report.html");
    h.write(report::mixture_report_html(stats, st.manifest(), plan_text, packed_json, config_path));
    h.commit();
  }
  say("report: " + out + "/report.html (numbers: " + out + "/report.json)");
  return 0;
}

}  // namespace

Run add_prepare(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("prepare", "ingest -> stats -> mix -> pack -> report from one config file (resumable)");
  sub->add_option("config", *path, "JSON config (see examples/sample.json)")->required();
  sub->add_flag("--quiet,-q", *quiet, "no progress lines on stderr");
  return [path, quiet] { return run(*path, *quiet); };
}

}  // namespace longctx::cli
