#include "longctx/model/model.h"

#include <algorithm>

#include "longctx/model/backend.h"
#include "longctx/model/blas.h"
#include "longctx/model/checkpoint.h"
#include "longctx/model/decoder.h"
#include "longctx/util/error.h"

namespace longctx::model {

std::unique_ptr<Model> Model::load(const std::string& dir, const ModelOptions& options) {
  verify_model_files(dir);  // the content hashes of checkpoint.json when train wrote the folder
  const ModelConfig c = ModelConfig::load(dir + "/config.json");
  const WeightLayout lay(c);
  // Headers first: the buffer is allocated only once the weights files hold that many tensors.
  const auto checked = lay.check(dir);
  std::vector<float> params(lay.total(), 0.0f);
  lay.load(params.data(), checked);
  return std::make_unique<Model>(c, std::move(params), options);
}

Model::Model(const ModelConfig& c, std::vector<float> params, const ModelOptions& options)
    : c_(c), opt_(options), lay_(c), params_(std::move(params)) {
  if (params_.size() != lay_.total())
    throw Error("Model: " + std::to_string(params_.size()) + " parameters given, the layout has " + std::to_string(lay_.total()));
}

namespace {

// Rows a sliding layer's cache holds: the W - 1 keys before a chunk's first query, rounded down to
// a key tile (the attention reads whole tiles from a tile boundary), the chunk, and as much again
// as slack so that the shift down happens once per about W + key_tile positions, not per token.
uint64_t sliding_rows(uint64_t window, uint64_t key_tile, uint64_t chunk) { return 2 * (window + key_tile) + chunk; }

}  // namespace

struct Session::State {
  const Model& m;
  LayerRopes ropes;
  CpuKernels kernels;
  // Per layer [rows, KV*hd], keys already rotated: row r holds position kbase + r. A full layer
  // keeps every position (rows = max_len); a sliding layer only what its window can still see,
  // shifting the cache down when it fills (amortised: every W + key_tile positions or so).
  std::vector<std::vector<float>> k, v;
  std::vector<uint64_t> kbase;
  LayerActs acts;
  LayerScratch temps;
  std::vector<float> x, xn, logits;
  State(const Model& mod, uint64_t max_len)
      : m(mod),
        ropes(mod.config(), mod.options().rope_theta, mod.options().dynamic_pin),
        kernels(blas::num_threads()) {
    const auto& c = mod.config();
    const uint64_t kvw = c.num_key_value_heads * c.head_dim;
    for (uint64_t li = 0; li < c.num_hidden_layers; ++li) {  // sliding layers: sized by make_room on first use
      k.emplace_back(c.sliding(li) ? 0 : max_len * kvw);
      v.emplace_back(c.sliding(li) ? 0 : max_len * kvw);
    }
    kbase.assign(c.num_hidden_layers, 0);
  }
};

Session::Session(const Model& m, uint64_t max_length) : m_(m), max_len_(max_length), s_(std::make_unique<State>(m, max_length)) {}
Session::~Session() = default;

void Session::reset() {
  pos_ = 0;
  std::fill(s_->kbase.begin(), s_->kbase.end(), 0);
  // A fresh RoPE table, as a freshly loaded transformers model has: dynamic NTK and LongRoPE
  // otherwise keep the longest length seen so far.
  s_->ropes = LayerRopes(m_.config(), m_.options().rope_theta, m_.options().dynamic_pin);
}

void Session::set_reference(bool on) { s_->kernels.set_reference(on); }

void Session::forward(std::span<const uint32_t> tokens, std::vector<float>* last_logits) {
  if (pos_ + tokens.size() > max_len_)
    throw Error("context of " + std::to_string(pos_ + tokens.size()) + " tokens exceeds the session's " + std::to_string(max_len_));
  // The whole input's length decides dynamic NTK's base and LongRoPE's factors, as one forward
  // call in transformers.
  s_->ropes.ensure(pos_ + tokens.size());
  for (uint64_t a = 0; a < tokens.size(); a += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, tokens.size() - a);
    const bool last = a + n == tokens.size();
    run_chunk(tokens.subspan(a, n), false, nullptr, a, last ? last_logits : nullptr);
  }
}

void Session::forward_all(std::span<const uint32_t> tokens, const std::function<void(uint64_t, const float*)>& on_logits) {
  if (pos_ + tokens.size() > max_len_)
    throw Error("context of " + std::to_string(pos_ + tokens.size()) + " tokens exceeds the session's " + std::to_string(max_len_));
  s_->ropes.ensure(pos_ + tokens.size());
  for (uint64_t a = 0; a < tokens.size(); a += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, tokens.size() - a);
    run_chunk(tokens.subspan(a, n), true, &on_logits, a, nullptr);
  }
}

void Session::make_room(uint64_t layer, uint64_t n) {
  const ModelConfig& c = m_.config();
  const uint64_t kvw = c.num_key_value_heads * c.head_dim, W = c.sliding_window, p0 = pos_;
  State& s = *s_;
  uint64_t& base = s.kbase[layer];
  std::vector<float>& kk = s.k[layer];
  std::vector<float>& vv = s.v[layer];
  if ((p0 + n - base) * kvw <= kk.size()) return;
  // Keys before the chunk's first query's window are never seen again; keep from the key tile that
  // holds its first visible key (the attention starts reading there).
  const uint64_t keep = p0 + 1 > W ? (p0 + 1 - W) / key_tile * key_tile : 0;
  const uint64_t need = std::min(max_len_, sliding_rows(W, key_tile, n));
  if (kk.size() < need * kvw) {  // first use, or a larger chunk or key tile than before
    kk.resize(need * kvw);
    vv.resize(need * kvw);
  }
  if (keep > base) {
    std::copy(kk.begin() + static_cast<int64_t>((keep - base) * kvw), kk.begin() + static_cast<int64_t>((p0 - base) * kvw), kk.begin());
    std::copy(vv.begin() + static_cast<int64_t>((keep - base) * kvw), vv.begin() + static_cast<int64_t>((p0 - base) * kvw), vv.begin());
    base = keep;
  }
}

void Session::run_chunk(std::span<const uint32_t> tokens, bool want_logits, const std::function<void(uint64_t, const float*)>* on_logits,
                        uint64_t base_index, std::vector<float>* last_logits) {
  const ModelConfig& c = m_.config();
  const WeightLayout& lay = m_.layout();
  const float* P = m_.params();
  const uint64_t n = tokens.size(), d = c.hidden_size, kvw = c.num_key_value_heads * c.head_dim, V = c.vocab_size, p0 = pos_;
  State& s = *s_;
  const Kernels& K = s.kernels;
  s.x.resize(n * d);
  embed(c, lay, P, tokens.data(), n, s.x.data());
  for (uint64_t li = 0; li < c.num_hidden_layers; ++li) {
    if (c.sliding(li)) make_room(li, n);
    std::vector<float>& kv_k = s.k[li];
    std::vector<float>& kv_v = s.v[li];
    const uint64_t base = s.kbase[li];
    // The chunk's keys and values join the cache; its queries attend over all of it. Larger tiles
    // than training's: prefill rows are many and there is no backward to keep tiles for.
    auto attend = [&](LayerActs& a, AttnShape shape) {
      std::copy_n(a.k.data(), n * kvw, kv_k.data() + (p0 - base) * kvw);
      std::copy_n(a.v.data(), n * kvw, kv_v.data() + (p0 - base) * kvw);
      shape.bq = query_tile;
      shape.bk = key_tile;
      shape.kbase = base;
      K.attention_forward(a.q.data(), kv_k.data(), kv_v.data(), a.o.data(), nullptr, nullptr, 1, shape);
    };
    layer_forward(K, c, P, lay.layers()[li], s.ropes.for_layer(li), li, Rows{n, p0, n, false}, s.x.data(), s.acts, s.temps, attend);
  }
  pos_ += n;
  s.xn.resize(n * d);
  K.rmsnorm(s.x.data(), P + lay.final_norm(), s.xn.data(), nullptr, n, d, static_cast<float>(c.rms_norm_eps), c.norm_plus_one);
  if (want_logits) {
    s.logits.resize(n * V);
    output_logits(K, c, lay, P, s.xn.data(), n, s.logits.data());
    for (uint64_t r = 0; r < n; ++r) (*on_logits)(base_index + r, s.logits.data() + r * V);
  } else if (last_logits) {
    last_logits->resize(V);
    output_logits(K, c, lay, P, s.xn.data() + (n - 1) * d, 1, last_logits->data());
  }
}

}  // namespace longctx::model
