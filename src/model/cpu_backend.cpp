// The CPU backend of the layer kernels (backend.h): GEMMs through OpenBLAS, elementwise loops,
// attention tiles on our own threads. Every reduction runs in a fixed order, so the same inputs
// give the same bits on any thread count.
#include "longctx/model/backend.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>

#include "longctx/model/blas.h"
#include "longctx/model/kernels.h"

namespace longctx::model {
namespace {

// Runs f(i, thread) for i in [0, n) on up to `threads` threads (items i, i + threads, ...: a fixed
// assignment, and every item writes only its own memory); BLAS single-threaded inside, because
// the attention tiles are small GEMMs and handing each to OpenBLAS's pool cost more in
// synchronisation (sched_yield) than the GEMMs themselves.
void parallel_items(uint64_t n, int threads, const std::function<void(uint64_t, int)>& f) {
  const int nt = static_cast<int>(std::min<uint64_t>(n, static_cast<uint64_t>(std::max(1, threads))));
  if (nt <= 1) {
    for (uint64_t i = 0; i < n; ++i) f(i, 0);
    return;
  }
  const int blas = blas::num_threads();
  blas::set_num_threads(1);
  std::vector<std::thread> pool;
  for (int t = 0; t < nt; ++t)
    pool.emplace_back([&, t] {
      for (uint64_t i = static_cast<uint64_t>(t); i < n; i += static_cast<uint64_t>(nt)) f(i, t);
    });
  for (auto& th : pool) th.join();
  blas::set_num_threads(blas);
}

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// tanh through fast_tanh (kernels.h, 2.4e-7 relative): std::tanh is a library call per element and
// kept GeGLU from vectorizing (it was most of Gemma's extra prefill time).
inline float gelu_tanh(float x) { return 0.5f * x * (1.0f + fast_tanh(kGeluC * (x + 0.044715f * x * x * x))); }

// h = gelu_tanh(g) * u, compiled per instruction set (the loop vectorizes once tanh is inline).
LONGCTX_CLONES void geglu_rows(const float* g, const float* u, float* h, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) h[i] = gelu_tanh(g[i]) * u[i];
}

}  // namespace

CpuKernels::CpuKernels(int threads, bool reference) : threads_(std::max(1, threads)), reference_(reference), scratch_(threads_) {}
CpuKernels::~CpuKernels() = default;

void CpuKernels::linear(const float* x, const float* w, const float* b, float* y, uint64_t n, uint64_t k, uint64_t o) const {
  if (reference_) {
    for (uint64_t r = 0; r < n; ++r)
      for (uint64_t c = 0; c < o; ++c) {
        float acc = 0;
        for (uint64_t i = 0; i < k; ++i) acc += x[r * k + i] * w[c * k + i];
        y[r * o + c] = acc + (b ? b[c] : 0.0f);
      }
    return;
  }
  if (b) {  // the bias enters as the GEMM's C with beta = 1
    for (uint64_t r = 0; r < n; ++r) std::copy_n(b, o, y + r * o);
  }
  blas::sgemm(false, true, static_cast<int>(n), static_cast<int>(o), static_cast<int>(k), 1.0f, x, static_cast<int>(k), w,
              static_cast<int>(k), b ? 1.0f : 0.0f, y, static_cast<int>(o));
}

void CpuKernels::linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, bool accumulate) const {
  blas::sgemm(false, false, static_cast<int>(n), static_cast<int>(k), static_cast<int>(o), 1.0f, dy, static_cast<int>(o), w,
              static_cast<int>(k), accumulate ? 1.0f : 0.0f, dx, static_cast<int>(k));
}

void CpuKernels::linear_dw(const float* dy, const float* x, float* dw, float* db, uint64_t n, uint64_t k, uint64_t o) const {
  blas::sgemm(true, false, static_cast<int>(o), static_cast<int>(k), static_cast<int>(n), 1.0f, dy, static_cast<int>(o), x,
              static_cast<int>(k), 1.0f, dw, static_cast<int>(k));
  if (db)
    for (uint64_t r = 0; r < n; ++r)
      for (uint64_t c = 0; c < o; ++c) db[c] += dy[r * o + c];
}

void CpuKernels::rmsnorm(const float* x, const float* w, float* y, float* rstd, uint64_t n, uint64_t d, float eps, bool plus_one) const {
  const float add = plus_one ? 1.0f : 0.0f;
  for (uint64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    float ss = 0;
    for (uint64_t j = 0; j < d; ++j) ss += xr[j] * xr[j];
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
    if (rstd) rstd[i] = r;
    for (uint64_t j = 0; j < d; ++j) y[i * d + j] = (add + w[j]) * (xr[j] * r);
  }
}

// dx += r * (g * dy) - x * r^3 / d * sum(g * dy * x);  dw += sum over rows of dy * x * r.
void CpuKernels::rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n,
                                  uint64_t d, bool plus_one) const {
  const float add = plus_one ? 1.0f : 0.0f;
  for (uint64_t i = 0; i < n; ++i) {
    const float* xr = x + i * d;
    const float* dyr = dy + i * d;
    const float r = rstd[i];
    float dot = 0;
    for (uint64_t j = 0; j < d; ++j) dot += (add + w[j]) * dyr[j] * xr[j];
    const float c = dot * r * r * r / static_cast<float>(d);
    for (uint64_t j = 0; j < d; ++j) {
      dx[i * d + j] += r * (add + w[j]) * dyr[j] - xr[j] * c;
      dw[j] += dyr[j] * xr[j] * r;
    }
  }
}

void CpuKernels::rope(float* v, uint64_t n, uint64_t heads, uint64_t hd, const Rope& rope, uint64_t p0, uint64_t period,
                      bool inverse) const {
  const uint64_t half = rope.rotary_dim() / 2;
  for (uint64_t r = 0; r < n; ++r) {
    const uint64_t p = p0 + (period ? r % period : r);
    const float* cs = rope.cos(p);
    const float* sn = rope.sin(p);
    for (uint64_t h = 0; h < heads; ++h) {
      float* x = v + r * heads * hd + h * hd;
      for (uint64_t i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[i + half], s = inverse ? -sn[i] : sn[i];
        x[i] = x1 * cs[i] - x2 * s;
        x[i + half] = x2 * cs[i] + x1 * s;
      }
    }
  }
}

void CpuKernels::glu(const float* g, const float* u, float* h, uint64_t n, Activation act) const {
  if (act == Activation::SiLU) {
    for (uint64_t i = 0; i < n; ++i) h[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  } else if (reference_) {  // the twin: std::tanh
    for (uint64_t i = 0; i < n; ++i) h[i] = 0.5f * g[i] * (1.0f + std::tanh(kGeluC * (g[i] + 0.044715f * g[i] * g[i] * g[i]))) * u[i];
  } else {
    geglu_rows(g, u, h, n);
  }
}

void CpuKernels::glu_backward(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n, Activation act) const {
  if (act == Activation::SiLU) {
    for (uint64_t i = 0; i < n; ++i) {
      const float gi = g[i], sg = sigmoid(gi);
      du[i] = dh[i] * gi * sg;
      dg[i] = dh[i] * u[i] * sg * (1.0f + gi * (1.0f - sg));
    }
  } else {
    // gelu(x) = x/2 (1 + t), t = tanh(c (x + 0.044715 x^3)):
    // gelu'(x) = (1 + t)/2 + x/2 (1 - t^2) c (1 + 3 * 0.044715 x^2)
    for (uint64_t i = 0; i < n; ++i) {
      const float x = g[i], t = fast_tanh(kGeluC * (x + 0.044715f * x * x * x));
      du[i] = dh[i] * 0.5f * x * (1.0f + t);
      dg[i] = dh[i] * u[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * x * x));
    }
  }
}

void CpuKernels::add(float* x, const float* y, uint64_t n) const {
  for (uint64_t i = 0; i < n; ++i) x[i] += y[i];
}

void CpuKernels::softcap(float* x, uint64_t n, float cap) const {
  if (reference_) {
    for (uint64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
    return;
  }
  softcap_row(x, n, cap);
}

void CpuKernels::attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                                   uint64_t B, const AttnShape& a) const {
  const uint64_t qs = a.T * a.H * a.hd, ks = (a.p0 + a.T - a.kbase) * a.KV * a.hd;
  // Decoding one token is too little work to split over threads.
  const int nt = B * a.T * (a.p0 + a.T) >= 4096 ? threads_ : 1;
  if (scratch_.size() < static_cast<size_t>(nt)) scratch_.resize(nt);
  parallel_items(B * a.H, nt, [&](uint64_t item, int t) {
    const uint64_t b = item / a.H, h = item % a.H;
    float* l = lse ? lse + (b * a.H + h) * a.T : nullptr;
    const uint32_t* ds = doc_start ? doc_start + b * a.T : nullptr;
    if (reference_) {
      model::attention_reference(q + b * qs, k + b * ks, v + b * ks, o + b * qs, l, ds, a, h);
    } else {
      model::attention_forward(q + b * qs, k + b * ks, v + b * ks, o + b * qs, l, ds, a, h, scratch_[t]);
    }
  });
}

void CpuKernels::attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                    float* dq, float* dk, float* dv, const uint32_t* doc_start, uint64_t B, const AttnShape& a) const {
  const uint64_t qs = a.T * a.H * a.hd, ks = a.T * a.KV * a.hd;
  if (scratch_.size() < static_cast<size_t>(threads_)) scratch_.resize(threads_);
  // One work item = (sequence, KV head) with all its query heads: dK/dV are accumulated by one
  // thread in a fixed order.
  parallel_items(B * a.KV, threads_, [&](uint64_t item, int t) {
    const uint64_t b = item / a.KV, g = item % a.KV;
    model::attention_backward(q + b * qs, k + b * ks, v + b * ks, o + b * qs, dout + b * qs, lse + b * a.H * a.T, dq + b * qs, dk + b * ks,
                             dv + b * ks, doc_start ? doc_start + b * a.T : nullptr, a, g, scratch_[t]);
  });
}

}  // namespace longctx::model
