#include "longctx/pack/reader.h"

#include <simdjson.h>

#include <cstring>

#include "longctx/corpus/byte_source.h"
#include "longctx/pack/jsonl_file.h"
#include "longctx/store/megatron.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/mmap.h"
#include "manifest.h"
#include "sidecar.h"

namespace longctx::pack {

struct PackedReader::Impl {
  PackedManifest m;
  size_t shard = 0;
  uint64_t in_shard = 0;
  ShardFiles files;
  std::unique_ptr<corpus::ByteSource> jsonl;
  std::string pending;  // jsonl bytes read but not consumed
  simdjson::dom::parser parser;
  std::unique_ptr<BareJsonlReader> bare;  // DIR is a bare JSONL file (jsonl_file.h)

  void open_shard() {
    files = map_shard(m, shard);
    in_shard = 0;
    if (m.text()) {
      jsonl = corpus::open_source(m.dir + "/" + m.shards[shard].first + (m.layout == "jsonl.zst" ? ".jsonl.zst" : ".jsonl"));
      pending.clear();
    }
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
  auto& r = *impl_;
  if (is_bare_jsonl(dir)) {
    r.bare = std::make_unique<BareJsonlReader>(dir);
    r.m.dir = dir;
    r.m.L = r.bare->seq_len();
    r.m.S = r.bare->sequences();
    r.m.domains = r.bare->domains();
    return;
  }
  r.m = read_packed_manifest(dir);
  if (!r.m.shards.empty()) r.open_shard();
}

PackedReader::~PackedReader() = default;
uint64_t PackedReader::sequences() const { return impl_->m.S; }
uint64_t PackedReader::seq_len() const { return impl_->m.L; }
const std::vector<std::string>& PackedReader::domains() const { return impl_->m.domains; }
const std::string& PackedReader::store_dir() const { return impl_->m.store; }
const std::string& PackedReader::store_recorded() const { return impl_->m.store_recorded; }

bool PackedReader::next(std::vector<uint32_t>& tokens, std::vector<Span>& spans, int64_t* label) {
  auto& r = *impl_;
  const auto& m = r.m;
  if (label) *label = -1;
  if (r.bare) return r.bare->next(tokens, spans);
  while (r.shard < m.shards.size() && r.in_shard == m.shards[r.shard].second) {
    if (++r.shard < m.shards.size()) r.open_shard();
  }
  if (r.shard >= m.shards.size()) return false;
  const uint64_t s = r.in_shard++;
  read_spans(r.files.spans, r.files.offsets, s, m.L, spans);
  tokens.resize(m.L);
  if (m.text()) {
    const std::string line = r.next_line();
    simdjson::dom::element row;
    if (r.parser.parse(line).get(row)) throw Error(r.jsonl->name() + ": a row is not valid JSON");
    simdjson::dom::array ids;
    if (row["input_ids"].get(ids) || ids.size() != m.L) throw Error(r.jsonl->name() + ": a row's input_ids is not " + std::to_string(m.L) + " ids");
    size_t i = 0;
    for (const auto v : ids) {
      uint64_t x;
      if (v.get(x)) throw Error(r.jsonl->name() + ": a token id is not a non-negative integer");
      tokens[i++] = static_cast<uint32_t>(x);
    }
    int64_t next_token;
    if (label && !row["labels"].get(next_token)) *label = next_token;
  } else {
    const auto type = m.width == 2 ? store::TokenType::kUint16 : store::TokenType::kInt32;
    const char* base = r.files.tokens.data() + r.files.token_offset;
    store::decode_tokens(base + s * m.L * m.width, m.L, type, tokens.data());
    // The token after the sequence when this shard holds it (the next sequence, or the label
    // token that ends version-2 llm.c and Megatron shards).
    const uint64_t after = r.files.token_offset + (s + 1) * m.L * m.width;
    if (label && after + m.width <= r.files.tokens.size()) {
      uint32_t t;
      store::decode_tokens(r.files.tokens.data() + after, 1, type, &t);
      *label = t;
    }
  }
  return true;
}

}  // namespace longctx::pack
