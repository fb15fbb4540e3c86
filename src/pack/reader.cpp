#include "longctx/pack/reader.h"

#include <simdjson.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "longctx/corpus/byte_source.h"
#include "longctx/pack/jsonl_file.h"
#include "longctx/store/megatron.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/mmap.h"

namespace longctx::pack {

struct PackedReader::Impl {
  std::string dir, layout, store, store_recorded;
  uint64_t L = 0, S = 0, width = 2, version = 1;
  std::vector<std::string> domains;
  std::vector<std::pair<std::string, uint64_t>> shards;  // name, sequences
  size_t shard = 0;
  uint64_t in_shard = 0;
  MappedFile tokens, spans_bin, spans_idx;
  uint64_t token_offset = 0;  // llm.c header
  std::unique_ptr<corpus::ByteSource> jsonl;
  std::string pending;  // jsonl bytes read but not consumed
  simdjson::dom::parser parser;
  std::unique_ptr<BareJsonlReader> bare;  // DIR is a bare JSONL file (jsonl_file.h)

  void open_shard() {
    const std::string base = dir + "/" + shards[shard].first;
    // format_version 2 renamed the span sidecar (no *.bin / *.idx glob matches it).
    spans_bin = MappedFile(base + (version >= 2 ? ".spans" : ".spans.bin"));
    spans_idx = MappedFile(base + (version >= 2 ? ".spans.offsets" : ".spans.idx"));
    if (spans_idx.size() != 8 * (shards[shard].second + 1)) throw Error(spans_idx.path() + ": size does not match the manifest");
    in_shard = 0;
    if (layout == "megatron" || layout == "llmc") {
      tokens = MappedFile(base + ".bin");
      token_offset = layout == "llmc" ? 1024 : 0;
    } else if (layout == "flat") {
      tokens = MappedFile(base + ".tokens");
      token_offset = 0;
    } else {
      jsonl = corpus::open_source(base + (layout == "jsonl.zst" ? ".jsonl.zst" : ".jsonl"));
      pending.clear();
    }
    // Version 2: llm.c and Megatron shards end with the label token of their last sequence.
    const uint64_t label_token = version >= 2 && (layout == "megatron" || layout == "llmc") ? 1 : 0;
    if (layout != "jsonl" && layout != "jsonl.zst" && tokens.size() != token_offset + (shards[shard].second * L + label_token) * width)
      throw Error(tokens.path() + ": size does not match the manifest");
  }

  std::string next_line() {
    while (true) {
      const size_t nl = pending.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      char buf[1 << 16];
      const size_t n = jsonl->read(buf, sizeof buf);
      if (n == 0) throw Error(jsonl->name() + ": fewer rows than the manifest says");
      pending.append(buf, n);
    }
  }
};

PackedReader::PackedReader(const std::string& dir) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.dir = dir;
  if (is_bare_jsonl(dir)) {
    m.bare = std::make_unique<BareJsonlReader>(dir);
    m.L = m.bare->seq_len();
    m.S = m.bare->sequences();
    m.domains = m.bare->domains();
    return;
  }
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
    for (const auto& sh : j.at("shards")) m.shards.emplace_back(sh.at("name").get<std::string>(), sh.at("sequences").get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed manifest: " + e.what());
  }
  if (!m.shards.empty()) m.open_shard();
}

PackedReader::~PackedReader() = default;
uint64_t PackedReader::sequences() const { return impl_->S; }
uint64_t PackedReader::seq_len() const { return impl_->L; }
const std::vector<std::string>& PackedReader::domains() const { return impl_->domains; }
const std::string& PackedReader::store_dir() const { return impl_->store; }
const std::string& PackedReader::store_recorded() const { return impl_->store_recorded; }

bool PackedReader::next(std::vector<uint32_t>& tokens, std::vector<Span>& spans) {
  auto& m = *impl_;
  if (m.bare) return m.bare->next(tokens, spans);
  while (m.shard < m.shards.size() && m.in_shard == m.shards[m.shard].second) {
    if (++m.shard < m.shards.size()) m.open_shard();
  }
  if (m.shard >= m.shards.size()) return false;
  const uint64_t s = m.in_shard++;
  int64_t a, b;
  std::memcpy(&a, m.spans_idx.data() + 8 * s, 8);
  std::memcpy(&b, m.spans_idx.data() + 8 * (s + 1), 8);
  if (a < 0 || b < a || static_cast<uint64_t>(b) * 24 > m.spans_bin.size()) throw Error(m.spans_idx.path() + ": offsets out of range");
  spans.clear();
  for (int64_t i = a; i < b; ++i) {
    const char* p = m.spans_bin.data() + 24 * i;
    Span sp;
    std::memcpy(&sp.doc, p, 8);
    std::memcpy(&sp.doc_offset, p + 8, 4);
    std::memcpy(&sp.start, p + 12, 4);
    std::memcpy(&sp.end, p + 16, 4);
    std::memcpy(&sp.domain, p + 20, 2);
    spans.push_back(sp);
  }
  tokens.resize(m.L);
  if (m.layout == "jsonl" || m.layout == "jsonl.zst") {
    const std::string line = m.next_line();
    simdjson::dom::element row;
    if (m.parser.parse(line).get(row)) throw Error(m.jsonl->name() + ": a row is not valid JSON");
    simdjson::dom::array ids;
    if (row["input_ids"].get(ids) || ids.size() != m.L) throw Error(m.jsonl->name() + ": a row's input_ids is not " + std::to_string(m.L) + " ids");
    size_t i = 0;
    for (const auto v : ids) {
      uint64_t x;
      if (v.get(x)) throw Error(m.jsonl->name() + ": a token id is not a non-negative integer");
      tokens[i++] = static_cast<uint32_t>(x);
    }
  } else {
    store::decode_tokens(m.tokens.data() + m.token_offset + s * m.L * m.width, m.L,
                         m.width == 2 ? store::TokenType::kUint16 : store::TokenType::kInt32, tokens.data());
  }
  return true;
}

}  // namespace longctx::pack
