#include "longctx/pack/packed_index.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "longctx/pack/jsonl_file.h"
#include "longctx/store/megatron.h"
#include "longctx/util/error.h"
#include "manifest.h"
#include "sidecar.h"

namespace longctx::pack {

struct PackedIndex::Impl {
  PackedManifest m;
  std::string layout;
  std::vector<uint64_t> first;                // first[k]: the global index of shard k's first sequence
  std::vector<std::optional<ShardFiles>> maps;  // binary layouts: mapped when first touched

  // Text layouts, decoded whole on first access.
  bool text = false, decoded = false;
  std::vector<uint32_t> tokens;
  std::vector<int64_t> labels;
  std::vector<Span> spans;
  std::vector<uint64_t> span_first;  // spans of sequence i: [span_first[i], span_first[i + 1])

  void check(uint64_t i) const {
    if (i >= m.S) throw Error(m.dir + ": sequence " + std::to_string(i) + " out of range (" + std::to_string(m.S) + " sequences)");
  }
  // The shard holding sequence i and i's index inside it.
  std::pair<size_t, uint64_t> locate(uint64_t i) const {
    const size_t k = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), i) - first.begin()) - 1;
    return {k, i - first[k]};
  }
  const ShardFiles& shard(size_t k) {
    if (!maps[k]) maps[k] = map_shard(m, k);
    return *maps[k];
  }
  uint32_t token_at(const ShardFiles& f, uint64_t pos) const {
    uint32_t t;
    store::decode_tokens(f.tokens.data() + f.token_offset + pos * m.width, 1,
                         m.width == 2 ? store::TokenType::kUint16 : store::TokenType::kInt32, &t);
    return t;
  }
  // One pass of PackedReader over the whole output (it validates rows as it goes).
  void decode() {
    PackedReader r(m.dir);
    std::vector<uint32_t> tok;
    std::vector<Span> sp;
    int64_t label;
    tokens.reserve(m.S * m.L);
    span_first.push_back(0);
    while (r.next(tok, sp, &label)) {
      tokens.insert(tokens.end(), tok.begin(), tok.end());
      spans.insert(spans.end(), sp.begin(), sp.end());
      span_first.push_back(spans.size());
      labels.push_back(label);
    }
    if (labels.size() != m.S) throw Error(m.dir + ": " + std::to_string(labels.size()) + " rows, the manifest says " + std::to_string(m.S));
    decoded = true;
  }
};

PackedIndex::PackedIndex(const std::string& path) : impl_(std::make_unique<Impl>()) {
  auto& x = *impl_;
  if (is_bare_jsonl(path)) {
    PackedReader r(path);  // validates the file whole
    x.m.dir = path;
    x.m.L = r.seq_len();
    x.m.S = r.sequences();
    x.m.domains = r.domains();
    x.m.width = 4;
    x.layout = "bare-jsonl";
    x.text = true;
    return;
  }
  x.m = read_packed_manifest(path);
  x.layout = x.m.layout;
  x.text = x.m.text();
  if (x.text) x.m.width = 4;
  uint64_t n = 0;
  for (const auto& sh : x.m.shards) {
    x.first.push_back(n);
    n += sh.second;
  }
  x.maps.resize(x.m.shards.size());
}

PackedIndex::~PackedIndex() = default;
uint64_t PackedIndex::sequences() const { return impl_->m.S; }
uint64_t PackedIndex::seq_len() const { return impl_->m.L; }
const std::string& PackedIndex::layout() const { return impl_->layout; }
const std::vector<std::string>& PackedIndex::domains() const { return impl_->m.domains; }
unsigned PackedIndex::token_width() const { return static_cast<unsigned>(impl_->m.width); }
int64_t PackedIndex::pad_id() const { return impl_->m.pad_id; }

const char* PackedIndex::tokens(uint64_t i) {
  auto& x = *impl_;
  x.check(i);
  std::lock_guard<std::mutex> lock(mu_);
  if (x.text) {
    if (!x.decoded) x.decode();
    return reinterpret_cast<const char*>(x.tokens.data() + i * x.m.L);
  }
  const auto [k, s] = x.locate(i);
  const ShardFiles& f = x.shard(k);
  return f.tokens.data() + f.token_offset + s * x.m.L * x.m.width;
}

int64_t PackedIndex::label(uint64_t i) {
  auto& x = *impl_;
  x.check(i);
  // Best-fit sequences end where their documents do, and a padded output's last sequence holds the
  // last planned tokens: neither has a true next token (the stored value is the pad id).
  if (x.m.align_docs || (x.m.pad_id >= 0 && i + 1 == x.m.S)) return -1;
  std::lock_guard<std::mutex> lock(mu_);
  if (x.text) {
    if (!x.decoded) x.decode();
    return x.labels[i];
  }
  const auto [k, s] = x.locate(i);
  const ShardFiles& f = x.shard(k);
  // The token right after the sequence when the shard holds it (the next sequence's first, or the
  // label token ending llm.c and Megatron version-2 shards), else the next shard's first token.
  const uint64_t after = f.token_offset + (s + 1) * x.m.L * x.m.width;
  if (after + x.m.width <= f.tokens.size()) return x.token_at(f, (s + 1) * x.m.L);
  if (k + 1 < x.m.shards.size()) return x.token_at(x.shard(k + 1), 0);
  return -1;
}

void PackedIndex::spans(uint64_t i, std::vector<Span>& out) {
  auto& x = *impl_;
  x.check(i);
  std::lock_guard<std::mutex> lock(mu_);
  if (x.text) {
    if (!x.decoded) x.decode();
    out.assign(x.spans.begin() + static_cast<int64_t>(x.span_first[i]), x.spans.begin() + static_cast<int64_t>(x.span_first[i + 1]));
    return;
  }
  const auto [k, s] = x.locate(i);
  read_spans(x.shard(k).spans, x.shard(k).offsets, s, x.m.L, out);
}

}  // namespace longctx::pack
