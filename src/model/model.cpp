#include "longctx/model/model.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "longctx/model/attention.h"
#include "longctx/model/safetensors.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::model {
namespace {

namespace fs = std::filesystem;

// out[n, o] = in[n, k] . w[o, k]^T  (w as Hugging Face stores Linear weights: [out, in]).
void matmul(const float* in, const float* w, float* out, uint64_t n, uint64_t k, uint64_t o, bool reference) {
  if (!reference) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(o), static_cast<int>(k), 1.0f, in,
                static_cast<int>(k), w, static_cast<int>(k), 0.0f, out, static_cast<int>(o));
    return;
  }
  for (uint64_t r = 0; r < n; ++r)
    for (uint64_t c = 0; c < o; ++c) {
      float acc = 0;
      for (uint64_t i = 0; i < k; ++i) acc += in[r * k + i] * w[c * k + i];
      out[r * o + c] = acc;
    }
}

void rmsnorm(const float* x, const float* w, float* out, uint64_t n, uint64_t d, double eps) {
  for (uint64_t r = 0; r < n; ++r) {
    float ss = 0;
    for (uint64_t i = 0; i < d; ++i) ss += x[r * d + i] * x[r * d + i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(d) + static_cast<float>(eps));
    for (uint64_t i = 0; i < d; ++i) out[r * d + i] = w[i] * (x[r * d + i] * inv);
  }
}

// Rotate-half RoPE on `heads` heads of one row at position p.
void apply_rope(float* v, uint64_t heads, uint64_t hd, const float* cos, const float* sin) {
  const uint64_t half = hd / 2;
  for (uint64_t h = 0; h < heads; ++h) {
    float* x = v + h * hd;
    for (uint64_t i = 0; i < half; ++i) {
      const float x1 = x[i], x2 = x[i + half];
      x[i] = x1 * cos[i] - x2 * sin[i];
      x[i + half] = x2 * cos[i] + x1 * sin[i];
    }
  }
}

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The checkpoint's tensors, headers read first: every name and shape is checked against the config
// before any weight is read (a tensor with the right number of elements but another shape, a
// transposed matrix say, is refused by name).
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& dir) : dir_(dir) {
    for (const auto& f : checkpoint_files(dir)) {
      files_.push_back(std::make_unique<SafetensorsFile>(f));
      for (const auto& [name, info] : files_.back()->tensors()) {
        if (!where_.emplace(name, files_.back().get()).second)
          throw Error(f + ": tensor " + name + " is also in " + where_.at(name)->path());
      }
    }
  }
  bool has(const std::string& name) const { return where_.count(name) != 0; }
  void expect(const std::string& name, const std::vector<uint64_t>& shape) {
    const auto it = where_.find(name);
    if (it == where_.end()) throw Error(dir_ + ": the checkpoint has no tensor " + name);
    const auto& got = it->second->tensors().at(name).shape;
    if (got != shape)
      throw Error(it->second->path() + ": tensor " + name + " has shape " + shape_str(got) + ", the config implies " + shape_str(shape));
    expected_.insert(name);
  }
  // After every expect(): refuses anything else (rotary_emb.inv_freq buffers aside).
  void no_others() const {
    for (const auto& [name, f] : where_)
      if (!expected_.count(name) && name.find("rotary_emb.inv_freq") == std::string::npos)
        throw Error(dir_ + ": unexpected tensor " + name + " (not a LLaMA/Mistral weight: biases and extra modules are not supported)");
  }
  std::vector<float> take(const std::string& name) const { return where_.at(name)->read_f32(name); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
  std::set<std::string> expected_;
};

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& dir, const ModelOptions& options) {
  auto m = std::make_unique<Model>();
  m->c_ = LlamaConfig::load(dir + "/config.json");
  m->opt_ = options;
  const LlamaConfig& c = m->c_;
  Checkpoint ck(dir);
  const uint64_t d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads, I = c.intermediate_size;
  const uint64_t V = c.vocab_size;
  const bool has_head = ck.has("lm_head.weight");
  if (!has_head && !c.tie_word_embeddings) throw Error(dir + ": no lm_head.weight and tie_word_embeddings is false");
  auto layer = [](uint64_t i) { return "model.layers." + std::to_string(i) + "."; };
  ck.expect("model.embed_tokens.weight", {V, d});
  ck.expect("model.norm.weight", {d});
  if (has_head) ck.expect("lm_head.weight", {V, d});
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = layer(i);
    ck.expect(p + "input_layernorm.weight", {d});
    ck.expect(p + "self_attn.q_proj.weight", {H * hd, d});
    ck.expect(p + "self_attn.k_proj.weight", {KV * hd, d});
    ck.expect(p + "self_attn.v_proj.weight", {KV * hd, d});
    ck.expect(p + "self_attn.o_proj.weight", {d, H * hd});
    ck.expect(p + "post_attention_layernorm.weight", {d});
    ck.expect(p + "mlp.gate_proj.weight", {I, d});
    ck.expect(p + "mlp.up_proj.weight", {I, d});
    ck.expect(p + "mlp.down_proj.weight", {d, I});
  }
  ck.no_others();
  m->embed = ck.take("model.embed_tokens.weight");
  m->final_norm = ck.take("model.norm.weight");
  if (has_head) m->lm_head = ck.take("lm_head.weight");
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = layer(i);
    LayerWeights l;
    l.attn_norm = ck.take(p + "input_layernorm.weight");
    l.wq = ck.take(p + "self_attn.q_proj.weight");
    l.wk = ck.take(p + "self_attn.k_proj.weight");
    l.wv = ck.take(p + "self_attn.v_proj.weight");
    l.wo = ck.take(p + "self_attn.o_proj.weight");
    l.mlp_norm = ck.take(p + "post_attention_layernorm.weight");
    l.w_gate = ck.take(p + "mlp.gate_proj.weight");
    l.w_up = ck.take(p + "mlp.up_proj.weight");
    l.w_down = ck.take(p + "mlp.down_proj.weight");
    m->layers.push_back(std::move(l));
  }
  return m;
}

uint64_t Model::parameters() const {
  uint64_t n = embed.size() + final_norm.size() + lm_head.size();
  for (const auto& l : layers)
    n += l.attn_norm.size() + l.wq.size() + l.wk.size() + l.wv.size() + l.wo.size() + l.mlp_norm.size() + l.w_gate.size() + l.w_up.size() +
         l.w_down.size();
  return n;
}

struct Session::State {
  Rope rope;
  std::vector<std::vector<float>> k, v;  // per layer [max_len, KV*hd], keys already rotated
  std::vector<float> x, xn, q, kk, vv, att, o, g, u, logits;
  std::vector<AttnScratch> scratch{1};  // attention tiles, one set per thread
  State(const Model& mod, uint64_t max_len) : rope(mod.config(), mod.options().rope_theta, mod.options().dynamic_pin) {
    const auto& c = mod.config();
    k.assign(c.num_hidden_layers, std::vector<float>(max_len * c.num_key_value_heads * c.head_dim));
    v.assign(c.num_hidden_layers, std::vector<float>(max_len * c.num_key_value_heads * c.head_dim));
  }
};

Session::Session(const Model& m, uint64_t max_length) : m_(m), max_len_(max_length), s_(std::make_unique<State>(m, max_length)) {}
Session::~Session() = default;
void Session::reset() { pos_ = 0; }

void Session::forward(std::span<const uint32_t> tokens, std::vector<float>* last_logits) {
  if (pos_ + tokens.size() > max_len_)
    throw Error("context of " + std::to_string(pos_ + tokens.size()) + " tokens exceeds the session's " + std::to_string(max_len_));
  // The whole input's length decides dynamic NTK's base, as one forward call in transformers.
  s_->rope.ensure(pos_ + tokens.size());
  for (uint64_t a = 0; a < tokens.size(); a += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, tokens.size() - a);
    const bool last = a + n == tokens.size();
    run_chunk(tokens.subspan(a, n), false, nullptr, a, last ? last_logits : nullptr);
  }
}

void Session::forward_all(std::span<const uint32_t> tokens, const std::function<void(uint64_t, const float*)>& on_logits) {
  if (pos_ + tokens.size() > max_len_)
    throw Error("context of " + std::to_string(pos_ + tokens.size()) + " tokens exceeds the session's " + std::to_string(max_len_));
  s_->rope.ensure(pos_ + tokens.size());
  for (uint64_t a = 0; a < tokens.size(); a += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, tokens.size() - a);
    run_chunk(tokens.subspan(a, n), true, &on_logits, a, nullptr);
  }
}

void Session::run_chunk(std::span<const uint32_t> tokens, bool want_logits, const std::function<void(uint64_t, const float*)>* on_logits,
                        uint64_t base_index, std::vector<float>* last_logits) {
  const LlamaConfig& c = m_.config();
  const uint64_t n = tokens.size(), d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size, V = c.vocab_size, group = H / KV, p0 = pos_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  State& s = *s_;
  s.x.resize(n * d);
  s.xn.resize(n * d);
  s.q.resize(n * H * hd);
  s.kk.resize(n * KV * hd);
  s.vv.resize(n * KV * hd);
  s.o.resize(n * H * hd);
  s.att.resize(n * d);
  s.g.resize(n * I);
  s.u.resize(n * I);
  for (uint64_t r = 0; r < n; ++r) {
    if (tokens[r] >= V) throw Error("token id " + std::to_string(tokens[r]) + " is outside the vocabulary (" + std::to_string(V) + ")");
    std::copy_n(m_.embed.data() + tokens[r] * d, d, s.x.data() + r * d);
  }
  for (uint64_t li = 0; li < c.num_hidden_layers; ++li) {
    const LayerWeights& w = m_.layers[li];
    rmsnorm(s.x.data(), w.attn_norm.data(), s.xn.data(), n, d, c.rms_norm_eps);
    matmul(s.xn.data(), w.wq.data(), s.q.data(), n, d, H * hd, reference_);
    matmul(s.xn.data(), w.wk.data(), s.kk.data(), n, d, KV * hd, reference_);
    matmul(s.xn.data(), w.wv.data(), s.vv.data(), n, d, KV * hd, reference_);
    for (uint64_t r = 0; r < n; ++r) {
      apply_rope(s.q.data() + r * H * hd, H, hd, s.rope.cos(p0 + r), s.rope.sin(p0 + r));
      apply_rope(s.kk.data() + r * KV * hd, KV, hd, s.rope.cos(p0 + r), s.rope.sin(p0 + r));
    }
    float* kc = s.k[li].data();
    float* vc = s.v[li].data();
    std::copy_n(s.kk.data(), n * KV * hd, kc + p0 * KV * hd);
    std::copy_n(s.vv.data(), n * KV * hd, vc + p0 * KV * hd);
    const uint64_t ldq = H * hd, ldk = KV * hd;
    // Heads are independent: they run on our own threads with single-threaded BLAS calls. The
    // attention tiles are small GEMMs, and handing each to OpenBLAS's thread pool cost more in
    // synchronisation (sched_yield) than the GEMMs themselves.
    auto attend = [&](uint64_t h, AttnScratch& sc) {
      const float* Q = s.q.data() + h * hd;
      const float* K = kc + (h / group) * hd;
      const float* Vv = vc + (h / group) * hd;
      float* O = s.o.data() + h * hd;
      if (reference_) {
        // Plain attention: full scores, max-subtracted softmax, weighted sum.
        std::vector<float> sc_row;
        for (uint64_t r = 0; r < n; ++r) {
          const uint64_t qp = p0 + r;
          sc_row.assign(qp + 1, 0.0f);
          float mx = -std::numeric_limits<float>::infinity();
          for (uint64_t j = 0; j <= qp; ++j) {
            float dot = 0;
            for (uint64_t i = 0; i < hd; ++i) dot += Q[r * ldq + i] * K[j * ldk + i];
            sc_row[j] = dot * scale;
            mx = std::max(mx, sc_row[j]);
          }
          float sum = 0;
          for (auto& e : sc_row) sum += (e = std::exp(e - mx));
          for (uint64_t i = 0; i < hd; ++i) {
            float acc = 0;
            for (uint64_t j = 0; j <= qp; ++j) acc += sc_row[j] * Vv[j * ldk + i];
            O[r * ldq + i] = acc / sum;
          }
        }
        return;
      }
      // Tiled attention with an online softmax (attention.h), over the cache: memory per head is
      // one tile of scores, whatever the context length. Larger tiles than training's: prefill
      // rows are many and there is no backward to keep tiles for.
      attention_forward(s.q.data(), kc, vc, s.o.data(), nullptr, nullptr, {n, H, KV, hd, scale, p0, 128, 512}, h, sc);
    };
    const int blas_threads = openblas_get_num_threads();
    const uint64_t work = n * (p0 + n);
    const int nt = static_cast<int>(std::min<uint64_t>(H, work >= 4096 ? static_cast<uint64_t>(std::max(1, blas_threads)) : 1));
    if (s.scratch.size() < static_cast<size_t>(nt)) s.scratch.resize(nt);
    if (nt <= 1) {
      for (uint64_t h = 0; h < H; ++h) attend(h, s.scratch[0]);
    } else {
      openblas_set_num_threads(1);
      std::vector<std::thread> pool;
      for (int t = 0; t < nt; ++t)
        pool.emplace_back([&, t] {
          for (uint64_t h = static_cast<uint64_t>(t); h < H; h += static_cast<uint64_t>(nt)) attend(h, s.scratch[t]);
        });
      for (auto& th : pool) th.join();
      openblas_set_num_threads(blas_threads);
    }
    matmul(s.o.data(), w.wo.data(), s.att.data(), n, H * hd, d, reference_);
    for (uint64_t i = 0; i < n * d; ++i) s.x[i] += s.att[i];
    rmsnorm(s.x.data(), w.mlp_norm.data(), s.xn.data(), n, d, c.rms_norm_eps);
    matmul(s.xn.data(), w.w_gate.data(), s.g.data(), n, d, I, reference_);
    matmul(s.xn.data(), w.w_up.data(), s.u.data(), n, d, I, reference_);
    for (uint64_t i = 0; i < n * I; ++i) s.g[i] = s.g[i] / (1.0f + std::exp(-s.g[i])) * s.u[i];  // SwiGLU
    matmul(s.g.data(), w.w_down.data(), s.att.data(), n, I, d, reference_);
    for (uint64_t i = 0; i < n * d; ++i) s.x[i] += s.att[i];
  }
  pos_ += n;
  rmsnorm(s.x.data(), m_.final_norm.data(), s.xn.data(), n, d, c.rms_norm_eps);
  if (want_logits) {
    s.logits.resize(n * V);
    matmul(s.xn.data(), m_.output_weights(), s.logits.data(), n, d, V, reference_);
    for (uint64_t r = 0; r < n; ++r) (*on_logits)(base_index + r, s.logits.data() + r * V);
  } else if (last_logits) {
    last_logits->resize(V);
    matmul(s.xn.data() + (n - 1) * d, m_.output_weights(), last_logits->data(), 1, d, V, reference_);
  }
}

}  // namespace longctx::model
