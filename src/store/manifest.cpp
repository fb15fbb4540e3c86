// manifest.json: written with a fixed key order so that the same store always gives the same
// bytes (a merged store must equal the one one process writes).
#include <nlohmann/json.hpp>

#include "longctx/store/store.h"
#include "longctx/util/error.h"

namespace longctx::store {

using ojson = nlohmann::ordered_json;

uint64_t Manifest::skipped_total() const {
  uint64_t n = 0;
  for (const auto& [reason, count] : skipped_by_reason) n += count;
  return n;
}

void Manifest::add_skip(const std::string& input, uint64_t line, const std::string& reason) {
  ++skipped_by_reason[reason];
  if (skipped_lines.size() < kMaxListedSkips) skipped_lines.push_back({input, line, reason});
}

std::string Manifest::to_json() const {
  ojson j;
  j["format"] = "longctx-store";
  j["format_version"] = kFormatVersion;
  j["tool"] = tool;
  j["run"] = run_fingerprint;
  j["tokenizer"] = {{"path", tokenizer_path}, {"xxh128", tokenizer_xxh128}, {"vocab_size", vocab_size}};
  j["token_dtype"] = token_type == TokenType::kUint16 ? "uint16" : "int32";
  j["options"] = {{"text_field", text_field},
                  {"domain", domain_source},
                  {"bos", bos},
                  {"eos_id", eos_id < 0 ? ojson(nullptr) : ojson(eos_id)},
                  {"parse_special", parse_special}};
  j["documents"] = documents;
  j["tokens"] = tokens;
  j["domains"] = ojson::array();
  for (const auto& d : domains) j["domains"].push_back({{"name", d.name}, {"documents", d.documents}, {"tokens", d.tokens}});
  j["inputs"] = ojson::array();
  for (const auto& in : inputs) {
    ojson e = {{"path", in.path}, {"kind", in.kind}, {"bytes", in.bytes}, {"xxh128", in.xxh128}, {"lines", in.lines},
               {"documents", in.documents}, {"tokens", in.tokens}, {"skipped", in.skipped}};
    if (is_task) e["index"] = in.index;
    j["inputs"].push_back(std::move(e));
  }
  ojson sk = {{"total", skipped_total()}, {"reasons", ojson::object()}, {"lines", ojson::array()}};
  for (const auto& [reason, count] : skipped_by_reason) sk["reasons"][reason] = count;
  for (const auto& s : skipped_lines) sk["lines"].push_back({{"input", s.input}, {"line", s.line}, {"reason", s.reason}});
  sk["lines_truncated"] = skipped_total() > skipped_lines.size();
  j["skipped"] = std::move(sk);
  j["files"] = ojson::object();
  for (const auto& [name, f] : files) j["files"][name] = {{"bytes", f.bytes}, {"xxh128", f.xxh128}};
  if (is_task)
    j["task"] = {{"id", task_id}, {"count", task_count}, {"inputs_total", task_inputs_total}};
  if (selection.kind == "sample")
    j["selection"] = {{"kind", "sample"}, {"rate", selection.rate}, {"seed", selection.seed}};
  else if (selection.kind == "subset")
    j["selection"] = {{"kind", "subset"}, {"plan_entries_xxh128", selection.plan_xxh128}, {"scan_run", selection.scan_run},
                      {"documents", selection.documents}};
  return j.dump(2) + "\n";
}

Manifest Manifest::from_json(const std::string& text, const std::string& origin) {
  Manifest m;
  try {
    const ojson j = ojson::parse(text);
    if (j.value("format", "") != "longctx-store")
      throw Error(origin + ": expected a longctx store manifest (\"format\": \"longctx-store\")");
    if (j.at("format_version").get<int>() != kFormatVersion)
      throw Error(origin + ": expected format_version " + std::to_string(kFormatVersion) + ", found " +
                  j.at("format_version").dump() + " (written by another longctx version)");
    m.tool = j.at("tool").get<std::string>();
    m.run_fingerprint = j.at("run").get<std::string>();
    const auto& t = j.at("tokenizer");
    m.tokenizer_path = t.at("path").get<std::string>();
    m.tokenizer_xxh128 = t.at("xxh128").get<std::string>();
    m.vocab_size = t.at("vocab_size").get<uint64_t>();
    const auto dtype = j.at("token_dtype").get<std::string>();
    if (dtype != "uint16" && dtype != "int32") throw Error(origin + ": token_dtype must be uint16 or int32, found " + dtype);
    m.token_type = dtype == "uint16" ? TokenType::kUint16 : TokenType::kInt32;
    const auto& o = j.at("options");
    m.text_field = o.at("text_field").get<std::string>();
    m.domain_source = o.at("domain").get<std::string>();
    m.bos = o.at("bos").get<bool>();
    m.eos_id = o.at("eos_id").is_null() ? -1 : o.at("eos_id").get<int64_t>();
    m.parse_special = o.at("parse_special").get<bool>();
    m.documents = j.at("documents").get<uint64_t>();
    m.tokens = j.at("tokens").get<uint64_t>();
    for (const auto& d : j.at("domains"))
      m.domains.push_back({d.at("name").get<std::string>(), d.at("documents").get<uint64_t>(), d.at("tokens").get<uint64_t>()});
    m.is_task = j.contains("task");
    for (const auto& e : j.at("inputs")) {
      InputStats in;
      in.path = e.at("path").get<std::string>();
      in.kind = e.at("kind").get<std::string>();
      in.bytes = e.at("bytes").get<uint64_t>();
      in.xxh128 = e.at("xxh128").get<std::string>();
      in.lines = e.at("lines").get<uint64_t>();
      in.documents = e.at("documents").get<uint64_t>();
      in.tokens = e.at("tokens").get<uint64_t>();
      in.skipped = e.at("skipped").get<uint64_t>();
      in.index = m.is_task ? e.at("index").get<uint64_t>() : m.inputs.size();
      m.inputs.push_back(std::move(in));
    }
    const auto& sk = j.at("skipped");
    for (const auto& [reason, count] : sk.at("reasons").items()) m.skipped_by_reason[reason] = count.get<uint64_t>();
    for (const auto& s : sk.at("lines"))
      m.skipped_lines.push_back({s.at("input").get<std::string>(), s.at("line").get<uint64_t>(), s.at("reason").get<std::string>()});
    for (const auto& [name, f] : j.at("files").items())
      m.files[name] = {f.at("bytes").get<uint64_t>(), f.at("xxh128").get<std::string>()};
    if (j.contains("selection")) {
      const auto& sel = j.at("selection");
      m.selection.kind = sel.at("kind").get<std::string>();
      if (m.selection.kind == "sample") {
        m.selection.rate = sel.at("rate").get<double>();
        m.selection.seed = sel.at("seed").get<uint64_t>();
        if (!(m.selection.rate > 0 && m.selection.rate <= 1))
          throw Error(origin + ": selection.rate must be in (0, 1], found " + sel.at("rate").dump());
      } else if (m.selection.kind == "subset") {
        m.selection.plan_xxh128 = sel.at("plan_entries_xxh128").get<std::string>();
        m.selection.scan_run = sel.at("scan_run").get<std::string>();
        m.selection.documents = sel.at("documents").get<uint64_t>();
      } else {
        throw Error(origin + ": selection.kind must be \"sample\" or \"subset\", found " + sel.at("kind").dump());
      }
    }
    if (m.is_task) {
      const auto& t2 = j.at("task");
      m.task_id = t2.at("id").get<uint64_t>();
      m.task_count = t2.at("count").get<uint64_t>();
      m.task_inputs_total = t2.at("inputs_total").get<uint64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + ": malformed manifest: " + e.what());
  }
  return m;
}

}  // namespace longctx::store
