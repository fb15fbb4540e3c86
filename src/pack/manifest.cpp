#include "manifest.h"

#include <nlohmann/json.hpp>

#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::pack {

PackedManifest read_packed_manifest(const std::string& dir) {
  PackedManifest m;
  m.dir = dir;
  const std::string path = dir + "/manifest.json";
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    if (j.value("format", "") != "longctx-packed") throw Error(path + ": expected a packed output (\"format\": \"longctx-packed\")");
    m.layout = j.at("layout").get<std::string>();
    m.version = j.value("format_version", 1);
    if (m.layout == "megatron-docs")
      throw Error(dir + ": a Megatron document dataset (layout megatron-docs: one document per planned entry), not packed sequences; "
                        "pack the plan with another --format to train or evaluate on it");
    m.L = j.at("seq_len").get<uint64_t>();
    m.S = j.at("sequences").get<uint64_t>();
    m.width = j.at("token_dtype").get<std::string>() == "uint16" ? 2 : 4;
    m.domains = j.at("domains").get<std::vector<std::string>>();
    m.store_recorded = j.value("store", "");
    m.store = resolve_recorded(m.store_recorded, dir, !j.contains("paths_relative_to"));
    if (j.contains("pad_id") && !j["pad_id"].is_null()) m.pad_id = j["pad_id"].get<int64_t>();
    m.align_docs = j.value("align_docs", false);
    for (const auto& sh : j.at("shards")) m.shards.emplace_back(sh.at("name").get<std::string>(), sh.at("sequences").get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed manifest: " + e.what());
  }
  uint64_t total = 0;
  for (const auto& sh : m.shards) total += sh.second;
  if (total != m.S) throw Error(path + ": the shards hold " + std::to_string(total) + " sequences, \"sequences\" says " + std::to_string(m.S));
  return m;
}

ShardFiles map_shard(const PackedManifest& m, size_t k) {
  ShardFiles f;
  const std::string base = m.dir + "/" + m.shards[k].first;
  const uint64_t n = m.shards[k].second;
  // format_version 2 renamed the span sidecar (no *.bin / *.idx glob matches it).
  f.spans = MappedFile(base + (m.version >= 2 ? ".spans" : ".spans.bin"));
  f.offsets = MappedFile(base + (m.version >= 2 ? ".spans.offsets" : ".spans.idx"));
  if (f.offsets.size() != 8 * (n + 1)) throw Error(f.offsets.path() + ": size does not match the manifest");
  if (m.text()) return f;
  if (m.layout == "megatron" || m.layout == "llmc") {
    f.tokens = MappedFile(base + ".bin");
    f.token_offset = m.layout == "llmc" ? 1024 : 0;
  } else if (m.layout == "flat") {
    f.tokens = MappedFile(base + ".tokens");
  } else {
    throw Error(m.dir + "/manifest.json: unknown layout \"" + m.layout + "\"");
  }
  // Version 2: llm.c and Megatron shards end with the label token of their last sequence.
  const uint64_t label_token = m.version >= 2 && (m.layout == "megatron" || m.layout == "llmc") ? 1 : 0;
  if (f.tokens.size() != f.token_offset + (n * m.L + label_token) * m.width) throw Error(f.tokens.path() + ": size does not match the manifest");
  return f;
}

}  // namespace longctx::pack
