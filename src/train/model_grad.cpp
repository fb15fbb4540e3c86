#include "longctx/train/llama_grad.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>

#include "longctx/model/kernels.h"
#include "longctx/model/config.h"
#include "longctx/model/attention.h"
#include "longctx/util/error.h"

namespace longctx::train {
namespace {

// y[n, o] = x[n, k] . W[o, k]^T (+ y when accumulate)
void linear(const float* x, const float* w, float* y, uint64_t n, uint64_t k, uint64_t o, float beta = 0.0f) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(o), static_cast<int>(k), 1.0f, x,
              static_cast<int>(k), w, static_cast<int>(k), beta, y, static_cast<int>(o));
}
// dx[n, k] (+)= dy[n, o] . W[o, k]
void linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, float beta) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(k), static_cast<int>(o), 1.0f, dy,
              static_cast<int>(o), w, static_cast<int>(k), beta, dx, static_cast<int>(k));
}
// dW[o, k] += dy[n, o]^T . x[n, k]
void linear_dw(const float* dy, const float* x, float* dw, uint64_t n, uint64_t k, uint64_t o) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(o), static_cast<int>(k), static_cast<int>(n), 1.0f, dy,
              static_cast<int>(o), x, static_cast<int>(k), 1.0f, dw, static_cast<int>(k));
}

// out = w * x * r, r = 1/sqrt(mean(x^2) + eps); keeps r for the backward.
void rmsnorm(const float* x, const float* w, float* out, float* rstd, uint64_t n, uint64_t d, double eps) {
  for (uint64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    float ss = 0;
    for (uint64_t j = 0; j < d; ++j) ss += xr[j] * xr[j];
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + static_cast<float>(eps));
    rstd[i] = r;
    for (uint64_t j = 0; j < d; ++j) out[i * d + j] = w[j] * (xr[j] * r);
  }
}

// dx += r * (w * dy) - x * r^3 / d * sum(w * dy * x);  dw += sum over rows of dy * x * r.
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n, uint64_t d) {
  for (uint64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    const float* dyr = dy + i * d;
    const float r = rstd[i];
    float dot = 0;
    for (uint64_t j = 0; j < d; ++j) dot += w[j] * dyr[j] * xr[j];
    const float c = dot * r * r * r / static_cast<float>(d);
    for (uint64_t j = 0; j < d; ++j) {
      dx[i * d + j] += r * w[j] * dyr[j] - xr[j] * c;
      dw[j] += dyr[j] * xr[j] * r;
    }
  }
}

// Rotate-half RoPE of `heads` heads in one row; inverse = the transposed rotation (backward).
void rope_row(float* v, uint64_t heads, uint64_t hd, const float* cos, const float* sin, bool inverse) {
  const uint64_t half = hd / 2;
  for (uint64_t h = 0; h < heads; ++h) {
    float* x = v + h * hd;
    for (uint64_t i = 0; i < half; ++i) {
      const float x1 = x[i], x2 = x[i + half], s = inverse ? -sin[i] : sin[i];
      x[i] = x1 * cos[i] - x2 * s;
      x[i + half] = x2 * cos[i] + x1 * s;
    }
  }
}

// Runs f(i) for i in [0, n) on up to `threads` threads (items i, i + threads, ...: a fixed
// assignment, and every item writes only its own memory); BLAS single-threaded inside.
void parallel_items(uint64_t n, int threads, const std::function<void(uint64_t, int)>& f) {
  const int nt = static_cast<int>(std::min<uint64_t>(n, static_cast<uint64_t>(std::max(1, threads))));
  if (nt <= 1) {
    for (uint64_t i = 0; i < n; ++i) f(i, 0);
    return;
  }
  const int blas = openblas_get_num_threads();
  openblas_set_num_threads(1);
  std::vector<std::thread> pool;
  for (int t = 0; t < nt; ++t)
    pool.emplace_back([&, t] {
      for (uint64_t i = static_cast<uint64_t>(t); i < n; i += static_cast<uint64_t>(nt)) f(i, t);
    });
  for (auto& th : pool) th.join();
  openblas_set_num_threads(blas);
}

struct LayerActs {
  std::vector<float> xin, r1, xn1, q, k, v, o, lse, xmid, r2, xn2, g, u;
};

}  // namespace

struct LlamaGrad::State {
  model::LlamaConfig c;
  const ParamLayout& lay;
  int threads;
  model::Rope rope;
  std::vector<LayerActs> acts;
  std::vector<float> xf, rf, xnf;                                    // final norm
  std::vector<float> dx, dxn, dh, dg, du, hbuf, dO, dq, dk, dv, logits;  // backward temporaries
  std::vector<model::AttnScratch> scratch;
  State(const model::LlamaConfig& cc, const ParamLayout& l, int t) : c(cc), lay(l), threads(t), rope(cc) {}
};

LlamaGrad::LlamaGrad(const model::LlamaConfig& c, const ParamLayout& layout, int threads)
    : s_(std::make_unique<State>(c, layout, threads)) {}
LlamaGrad::~LlamaGrad() = default;

uint64_t LlamaGrad::workspace_bytes() const {
  uint64_t n = 0;
  auto add = [&](const std::vector<float>& v) { n += v.capacity() * sizeof(float); };
  for (const auto& a : s_->acts)
    for (const auto* v : {&a.xin, &a.r1, &a.xn1, &a.q, &a.k, &a.v, &a.o, &a.lse, &a.xmid, &a.r2, &a.xn2, &a.g, &a.u}) add(*v);
  for (const auto* v : {&s_->xf, &s_->rf, &s_->xnf, &s_->dx, &s_->dxn, &s_->dh, &s_->dg, &s_->du, &s_->hbuf, &s_->dO, &s_->dq, &s_->dk,
                        &s_->dv, &s_->logits})
    add(*v);
  return n;
}

std::vector<double> LlamaGrad::forward_backward(const float* P, float* G, const uint32_t* tokens, uint64_t B, uint64_t T,
                                                const uint32_t* doc_start, float weight) {
  State& s = *s_;
  const auto& c = s.c;
  const auto& lay = s.lay;
  const uint64_t d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size, V = c.vocab_size, N = B * T, nl = c.num_hidden_layers;
  if (T < 2) throw Error("training needs sequences of at least 2 tokens");
  s.rope.ensure(T);  // dynamic NTK: the base this length implies, as one transformers forward of T tokens
  const model::AttnShape shape{T, H, KV, hd, 1.0f / std::sqrt(static_cast<float>(hd))};
  s.acts.resize(nl);
  if (s.scratch.size() < static_cast<size_t>(std::max(1, s.threads))) s.scratch.resize(std::max(1, s.threads));

  // Forward.
  std::vector<float> x(N * d);
  for (uint64_t r = 0; r < N; ++r) {
    if (tokens[r] >= V) throw Error("token id " + std::to_string(tokens[r]) + " is outside the vocabulary (" + std::to_string(V) + ")");
    std::copy_n(P + lay.embed() + static_cast<uint64_t>(tokens[r]) * d, d, x.data() + r * d);
  }
  for (uint64_t li = 0; li < nl; ++li) {
    const LayerSlots& w = lay.layers()[li];
    LayerActs& a = s.acts[li];
    a.xin = x;
    a.r1.resize(N);
    a.xn1.resize(N * d);
    rmsnorm(x.data(), P + w.attn_norm, a.xn1.data(), a.r1.data(), N, d, c.rms_norm_eps);
    a.q.resize(N * H * hd);
    a.k.resize(N * KV * hd);
    a.v.resize(N * KV * hd);
    linear(a.xn1.data(), P + w.wq, a.q.data(), N, d, H * hd);
    linear(a.xn1.data(), P + w.wk, a.k.data(), N, d, KV * hd);
    linear(a.xn1.data(), P + w.wv, a.v.data(), N, d, KV * hd);
    for (uint64_t r = 0; r < N; ++r) {
      const uint64_t p = r % T;
      rope_row(a.q.data() + r * H * hd, H, hd, s.rope.cos(p), s.rope.sin(p), false);
      rope_row(a.k.data() + r * KV * hd, KV, hd, s.rope.cos(p), s.rope.sin(p), false);
    }
    a.o.resize(N * H * hd);
    a.lse.resize(B * H * T);
    parallel_items(B * H, s.threads, [&](uint64_t item, int t) {
      const uint64_t b = item / H, h = item % H;
      model::attention_forward(a.q.data() + b * T * H * hd, a.k.data() + b * T * KV * hd, a.v.data() + b * T * KV * hd,
                        a.o.data() + b * T * H * hd, a.lse.data() + (b * H + h) * T, doc_start ? doc_start + b * T : nullptr, shape, h,
                        s.scratch[t]);
    });
    s.dx.resize(N * d);  // o_proj output
    linear(a.o.data(), P + w.wo, s.dx.data(), N, H * hd, d);
    for (uint64_t i = 0; i < N * d; ++i) x[i] += s.dx[i];
    a.xmid = x;
    a.r2.resize(N);
    a.xn2.resize(N * d);
    rmsnorm(x.data(), P + w.mlp_norm, a.xn2.data(), a.r2.data(), N, d, c.rms_norm_eps);
    a.g.resize(N * I);
    a.u.resize(N * I);
    linear(a.xn2.data(), P + w.w_gate, a.g.data(), N, d, I);
    linear(a.xn2.data(), P + w.w_up, a.u.data(), N, d, I);
    s.hbuf.resize(N * I);
    for (uint64_t i = 0; i < N * I; ++i) s.hbuf[i] = a.g[i] / (1.0f + std::exp(-a.g[i])) * a.u[i];
    linear(s.hbuf.data(), P + w.w_down, s.dx.data(), N, I, d);
    for (uint64_t i = 0; i < N * d; ++i) x[i] += s.dx[i];
  }
  s.xf = x;
  s.rf.resize(N);
  s.xnf.resize(N * d);
  rmsnorm(x.data(), P + lay.final_norm(), s.xnf.data(), s.rf.data(), N, d, c.rms_norm_eps);

  // Cross-entropy, a chunk of rows at a time: logits, loss, d(logits) = (softmax - onehot) *
  // weight / (T - 1), then d(xnf) and d(W_out) from the chunk.
  std::vector<double> losses(B, 0.0);
  s.dxn.assign(N * d, 0.0f);
  // 8M floats (32 MB) of logits per chunk: larger chunks measured no faster (4M model, T = 256).
  const uint64_t chunk = std::max<uint64_t>(1, std::min<uint64_t>(N, (uint64_t{8} << 20) / V));
  s.logits.resize(chunk * V);
  const float row_w = weight / static_cast<float>(T - 1);
  for (uint64_t r0 = 0; r0 < N; r0 += chunk) {
    const uint64_t nr = std::min(chunk, N - r0);
    linear(s.xnf.data() + r0 * d, P + lay.lm_head(), s.logits.data(), nr, d, V);
    for (uint64_t i = 0; i < nr; ++i) {
      const uint64_t r = r0 + i, pos = r % T;
      float* row = s.logits.data() + i * V;
      if (pos + 1 == T) {  // the last position predicts nothing inside the sequence
        std::fill(row, row + V, 0.0f);
        continue;
      }
      const uint32_t target = tokens[r + 1];
      const float tl = row[target];
      const float mx = model::row_max(row, V);
      const float sum = model::exp_and_sum(row, V, mx);
      losses[r / T] += std::log(static_cast<double>(sum)) + mx - static_cast<double>(tl);
      const float scale = row_w / sum;
      for (uint64_t j = 0; j < V; ++j) row[j] *= scale;
      row[target] -= row_w;
    }
    linear_dx(s.logits.data(), P + lay.lm_head(), s.dxn.data() + r0 * d, nr, d, V, 0.0f);
    linear_dw(s.logits.data(), s.xnf.data() + r0 * d, G + lay.lm_head(), nr, d, V);
  }
  for (auto& l : losses) l /= static_cast<double>(T - 1);

  // Backward through the final norm and the layers; s.dx is d(loss)/d(residual stream).
  s.dx.assign(N * d, 0.0f);
  rmsnorm_backward(s.xf.data(), P + lay.final_norm(), s.rf.data(), s.dxn.data(), s.dx.data(), G + lay.final_norm(), N, d);
  s.dh.resize(N * I);
  s.dg.resize(N * I);
  s.du.resize(N * I);
  s.dO.resize(N * H * hd);
  s.dq.resize(N * H * hd);
  s.dk.resize(N * KV * hd);
  s.dv.resize(N * KV * hd);
  for (uint64_t li = nl; li-- > 0;) {
    const LayerSlots& w = lay.layers()[li];
    LayerActs& a = s.acts[li];
    // MLP: out = W_down (silu(g) * u).
    for (uint64_t i = 0; i < N * I; ++i) s.hbuf[i] = a.g[i] / (1.0f + std::exp(-a.g[i])) * a.u[i];
    linear_dw(s.dx.data(), s.hbuf.data(), G + w.w_down, N, I, d);
    linear_dx(s.dx.data(), P + w.w_down, s.dh.data(), N, I, d, 0.0f);
    for (uint64_t i = 0; i < N * I; ++i) {
      const float gi = a.g[i], sg = 1.0f / (1.0f + std::exp(-gi)), silu = gi * sg;
      s.du[i] = s.dh[i] * silu;
      s.dg[i] = s.dh[i] * a.u[i] * sg * (1.0f + gi * (1.0f - sg));
    }
    linear_dw(s.dg.data(), a.xn2.data(), G + w.w_gate, N, d, I);
    linear_dw(s.du.data(), a.xn2.data(), G + w.w_up, N, d, I);
    linear_dx(s.dg.data(), P + w.w_gate, s.dxn.data(), N, d, I, 0.0f);
    linear_dx(s.du.data(), P + w.w_up, s.dxn.data(), N, d, I, 1.0f);
    rmsnorm_backward(a.xmid.data(), P + w.mlp_norm, a.r2.data(), s.dxn.data(), s.dx.data(), G + w.mlp_norm, N, d);
    // Attention: out = W_o attn(rope(W_q x), rope(W_k x), W_v x).
    linear_dw(s.dx.data(), a.o.data(), G + w.wo, N, H * hd, d);
    linear_dx(s.dx.data(), P + w.wo, s.dO.data(), N, H * hd, d, 0.0f);
    std::fill(s.dq.begin(), s.dq.end(), 0.0f);
    std::fill(s.dk.begin(), s.dk.end(), 0.0f);
    std::fill(s.dv.begin(), s.dv.end(), 0.0f);
    parallel_items(B * KV, s.threads, [&](uint64_t item, int t) {
      const uint64_t b = item / KV, g = item % KV;
      const uint64_t qo = b * T * H * hd, ko = b * T * KV * hd;
      model::attention_backward(a.q.data() + qo, a.k.data() + ko, a.v.data() + ko, a.o.data() + qo, s.dO.data() + qo, a.lse.data() + b * H * T,
                         s.dq.data() + qo, s.dk.data() + ko, s.dv.data() + ko, doc_start ? doc_start + b * T : nullptr, shape, g,
                         s.scratch[t]);
    });
    for (uint64_t r = 0; r < N; ++r) {
      const uint64_t p = r % T;
      rope_row(s.dq.data() + r * H * hd, H, hd, s.rope.cos(p), s.rope.sin(p), true);
      rope_row(s.dk.data() + r * KV * hd, KV, hd, s.rope.cos(p), s.rope.sin(p), true);
    }
    linear_dw(s.dq.data(), a.xn1.data(), G + w.wq, N, d, H * hd);
    linear_dw(s.dk.data(), a.xn1.data(), G + w.wk, N, d, KV * hd);
    linear_dw(s.dv.data(), a.xn1.data(), G + w.wv, N, d, KV * hd);
    linear_dx(s.dq.data(), P + w.wq, s.dxn.data(), N, d, H * hd, 0.0f);
    linear_dx(s.dk.data(), P + w.wk, s.dxn.data(), N, d, KV * hd, 1.0f);
    linear_dx(s.dv.data(), P + w.wv, s.dxn.data(), N, d, KV * hd, 1.0f);
    rmsnorm_backward(a.xin.data(), P + w.attn_norm, a.r1.data(), s.dxn.data(), s.dx.data(), G + w.attn_norm, N, d);
  }
  // Embeddings: rows in order (a fixed summation order for repeated tokens).
  float* ge = G + lay.embed();
  for (uint64_t r = 0; r < N; ++r) {
    float* dst = ge + static_cast<uint64_t>(tokens[r]) * d;
    const float* src = s.dx.data() + r * d;
    for (uint64_t j = 0; j < d; ++j) dst[j] += src[j];
  }
  return losses;
}

}  // namespace longctx::train
