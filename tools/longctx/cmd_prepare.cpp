// longctx prepare CONFIG: ingest -> stats -> mix -> pack -> report in one run, configured by one
// JSON file (examples/). Rerunning the same config resumes: a complete stage is checked and
// skipped, an interrupted ingest continues from its checkpoint. A stage whose output exists but
// was made with other settings is refused rather than overwritten.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "io.h"
#include "longctx/ingest/ingest.h"
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

// Unknown keys are typos: refuse them with the list of known ones.
void check_keys(const json& j, const std::string& where, const std::set<std::string>& known, const std::string& origin) {
  if (!j.is_object()) throw Error(origin + ": \"" + where + "\" must be an object");
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) {
      std::string list;
      for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
      throw Error(origin + ": unknown key \"" + where + "." + k + "\" (known: " + list + ")");
    }
}

template <class T>
T get(const json& j, const std::string& key, T fallback, const std::string& origin, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw Error(origin + ": \"" + where + "." + key + "\" has the wrong type (" + j.at(key).dump() + ")");
  }
}

std::string size_field(const json& j, const std::string& key, const std::string& fallback, const std::string& origin,
                       const std::string& where) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_string()) return v.get<std::string>();
  throw Error(origin + ": \"" + where + "." + key + "\": expected a size like \"5B\" or 131072, found " + v.dump());
}

int run(const std::string& config_path, bool quiet) {
  json c;
  try {
    c = json::parse(read_file(config_path));
  } catch (const json::exception& e) {
    throw Error(config_path + ": invalid JSON: " + e.what());
  }
  const std::string& origin = config_path;
  check_keys(c, "config", {"out", "threads", "ingest", "mix", "pack", "report"}, origin);
  if (!c.contains("out") || !c.contains("ingest") || !c.contains("mix"))
    throw Error(origin + ": expected at least \"out\", \"ingest\" and \"mix\"");
  // Every key is checked before any stage runs: a typo must not cost an ingest.
  const json& ci = c.at("ingest");
  const json& cm = c.at("mix");
  check_keys(ci, "ingest", {"tokenizer", "inputs", "text_field", "domain_field", "domain", "domain_from_folder", "bos", "eos",
                            "eos_token", "parse_special", "strict", "checkpoint_seconds"}, origin);
  check_keys(cm, "mix", {"strategy", "tokens", "seed", "long_threshold", "keep_short", "domain_shares", "length_estimate",
                         "max_repeat", "allow_shortfall", "bins", "bin_shares"}, origin);
  if (c.contains("pack")) {
    const json& cp = c.at("pack");
    check_keys(cp, "pack", {"seq_len", "format", "seed", "pad", "align_docs", "shard_sequences"}, origin);
  }
  const std::string out = c.at("out").get<std::string>();
  const int threads = thread_count(get<int>(c, "threads", 0, origin, "config"));
  auto say = [&](const std::string& s) {
    if (!quiet) std::fprintf(stderr, "prepare: %s\n", s.c_str());
  };

  // 1. ingest (resumable by itself).
  ingest::IngestOptions io;
  io.tokenizer_path = get<std::string>(ci, "tokenizer", "", origin, "ingest");
  io.inputs = get<std::vector<std::string>>(ci, "inputs", {}, origin, "ingest");
  if (io.tokenizer_path.empty() || io.inputs.empty()) throw Error(origin + ": \"ingest\" needs \"tokenizer\" and \"inputs\"");
  io.out = out + "/store";
  io.text_field = get<std::string>(ci, "text_field", "text", origin, "ingest");
  if (ci.contains("domain")) {
    io.domain = {corpus::DomainSource::kConstant, get<std::string>(ci, "domain", "", origin, "ingest")};
  } else if (get<bool>(ci, "domain_from_folder", false, origin, "ingest")) {
    io.domain = {corpus::DomainSource::kFolder, ""};
  } else {
    io.domain = {corpus::DomainSource::kField, get<std::string>(ci, "domain_field", "meta.redpajama_set_name", origin, "ingest")};
  }
  io.bos = get<bool>(ci, "bos", true, origin, "ingest");
  io.eos = get<bool>(ci, "eos", false, origin, "ingest");
  io.eos_token = get<std::string>(ci, "eos_token", "", origin, "ingest");
  io.parse_special = get<bool>(ci, "parse_special", false, origin, "ingest");
  io.strict = get<bool>(ci, "strict", false, origin, "ingest");
  io.checkpoint_seconds = get<double>(ci, "checkpoint_seconds", 30.0, origin, "ingest");
  io.threads = threads;
  Progress progress("ingest", false);
  io.progress = [&](uint64_t b, uint64_t) { progress.bytes(b); };
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

  // 3. mix: the plan is cheap to recompute; an existing one must be the same plan.
  mix::MixOptions mo;
  mo.strategy = get<std::string>(cm, "strategy", "per-source", origin, "mix");
  mo.tokens = parse_size(size_field(cm, "tokens", "", origin, "mix"), origin + ": mix.tokens");
  mo.seed = get<uint64_t>(cm, "seed", 0, origin, "mix");
  mo.long_threshold = parse_size(size_field(cm, "long_threshold", "4K", origin, "mix"), origin + ": mix.long_threshold");
  mo.keep_short = get<double>(cm, "keep_short", 0.1, origin, "mix");
  mo.domain_shares = get<std::string>(cm, "domain_shares", "natural", origin, "mix");
  mo.length_estimate = get<std::string>(cm, "length_estimate", "", origin, "mix");
  mo.max_repeat = get<uint32_t>(cm, "max_repeat", 1, origin, "mix");
  mo.allow_shortfall = get<bool>(cm, "allow_shortfall", false, origin, "mix");
  mo.target_bins = get<std::string>(cm, "bins", "0,4K", origin, "mix");
  mo.target_bin_shares = get<std::string>(cm, "bin_shares", "", origin, "mix");
  const mix::Plan plan = mix::make_plan(st, mo);
  const std::string plan_text = plan.to_json();  // serialised once: compared, reported, rendered
  const json plan_json = json::parse(plan_text);
  const std::string plan_dir = out + "/plan";
  if (fs::exists(plan_dir + "/plan.json")) {
    const auto old = mix::read_plan(plan_dir);
    json a = json::parse(old.json);
    a.erase("files");
    if (a != plan_json) throw Error(plan_dir + ": holds a plan made with other settings; remove it (and " + out + "/packed) to replan");
    say("plan " + plan_dir + " is up to date (" + std::to_string(plan.entries.size()) + " entries)");
  } else {
    mix::write_plan(plan, plan_dir);
    say("planned " + std::to_string(plan.tokens) + " tokens (" + mo.strategy + ") -> " + plan_dir);
  }

  // 4. pack.
  std::string packed_json;
  if (c.contains("pack")) {
    const json& cp = c.at("pack");
    pack::PackOptions po;
    po.plan_dir = plan_dir;
    po.out = out + "/packed";
    po.format = get<std::string>(cp, "format", "jsonl", origin, "pack");
    po.seq_len = parse_size(size_field(cp, "seq_len", "", origin, "pack"), origin + ": pack.seq_len");
    if (cp.contains("seed")) {
      po.seed = get<uint64_t>(cp, "seed", 0, origin, "pack");
      po.seed_given = true;
    }
    po.pad_id = get<int64_t>(cp, "pad", -1, origin, "pack");
    po.align_docs = get<bool>(cp, "align_docs", false, origin, "pack");
    po.shard_sequences = get<uint64_t>(cp, "shard_sequences", 0, origin, "pack");
    po.threads = threads;
    const std::string manifest = po.out + "/manifest.json";
    if (fs::exists(manifest)) {
      const json m = json::parse(read_file(manifest));
      const std::string plan_hash = xxh128_hex(read_file(plan_dir + "/plan.json"));
      const bool same = m.at("plan").at("xxh128") == plan_hash && m.at("layout") == po.format && m.at("seq_len") == po.seq_len &&
                        m.at("align_docs") == po.align_docs && (m.at("pad_id").is_null() ? -1 : m.at("pad_id").get<int64_t>()) == po.pad_id &&
                        (!po.seed_given || m.at("seed") == po.seed);
      if (!same) throw Error(po.out + ": holds a packed output made with other settings; remove it to repack");
      pack::verify(po.out);
      say("packed output " + po.out + " is complete and verified");
    } else {
      const auto ps = pack::pack(po);
      say("packed " + std::to_string(ps.sequences) + " sequences of " + std::to_string(po.seq_len) + " tokens (" + po.format + ") -> " +
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
