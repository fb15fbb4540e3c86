// The backend: the layer kernels of the one model definition, as forward/backward pairs behind an interface a
// second backend (CUDA) implements. Buffers are row-major f32; the CPU backend's pointers are host
// memory, another backend's are its own. Shapes in each comment: n rows, d/k/o widths.
//
// CpuKernels runs GEMMs through OpenBLAS and the attention tiles on its own threads; with
// `reference` set it swaps in plain loops (linear, attention): the twin the tests compare with.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "longctx/model/attention.h"
#include "longctx/model/config.h"

namespace longctx::model {

class Kernels {
 public:
  virtual ~Kernels() = default;
  // y[n, o] = x[n, k] . W[o, k]^T (+ b[o] when b != nullptr)
  virtual void linear(const float* x, const float* w, const float* b, float* y, uint64_t n, uint64_t k, uint64_t o) const = 0;
  // dx[n, k] = (or += when accumulate) dy[n, o] . W[o, k]
  virtual void linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, bool accumulate) const = 0;
  // dW[o, k] += dy[n, o]^T . x[n, k];  db[o] += sum over rows of dy (when db != nullptr)
  virtual void linear_dw(const float* dy, const float* x, float* dw, float* db, uint64_t n, uint64_t k, uint64_t o) const = 0;
  // y[n, d] = g * x * r with r = 1/sqrt(mean(x^2) + eps) kept in rstd[n] (nullptr: not kept);
  // g = w, or 1 + w (Gemma) when plus_one. In place (y == x) is allowed.
  virtual void rmsnorm(const float* x, const float* w, float* y, float* rstd, uint64_t n, uint64_t d, float eps, bool plus_one) const = 0;
  // dx[n, d] += d/dx, dw[d] += d/dw (x: the forward's input, rstd its saved r).
  virtual void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n,
                                uint64_t d, bool plus_one) const = 0;
  // Rotate-half RoPE in place on v[n, heads * hd] (first rotary_dim dims of each head); row r is at
  // position p0 + r % period. inverse: the transposed rotation (the backward).
  virtual void rope(float* v, uint64_t n, uint64_t heads, uint64_t hd, const Rope& rope, uint64_t p0, uint64_t period,
                    bool inverse) const = 0;
  // h[n] = act(g) * u  (SwiGLU / GeGLU)
  virtual void glu(const float* g, const float* u, float* h, uint64_t n, Activation act) const = 0;
  // dg[n] = dh * u * act'(g), du[n] = dh * act(g)
  virtual void glu_backward(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n, Activation act) const = 0;
  // x[n] += y[n]
  virtual void add(float* x, const float* y, uint64_t n) const = 0;
  // x[n] = cap * tanh(x / cap)
  virtual void softcap(float* x, uint64_t n, float cap) const = 0;
  // Attention of B sequences: q, o [B, T, H*hd]; k, v [B, p0 + T, KV*hd]; lse [B, H, T] (nullptr:
  // not wanted); doc_start [B, T] (nullptr: none). Heads run in parallel.
  virtual void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                                 uint64_t B, const AttnShape& a) const = 0;
  // Adds the gradients into dq, dk, dv (same layouts; a.p0 must be 0).
  virtual void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                  float* dq, float* dk, float* dv, const uint32_t* doc_start, uint64_t B, const AttnShape& a) const = 0;
};

class CpuKernels final : public Kernels {
 public:
  // threads: attention work items run on this many threads (BLAS single-threaded inside them);
  // the GEMMs use OpenBLAS's own threads.
  explicit CpuKernels(int threads, bool reference = false);
  ~CpuKernels() override;
  void set_reference(bool on) { reference_ = on; }
  bool reference() const { return reference_; }

  void linear(const float* x, const float* w, const float* b, float* y, uint64_t n, uint64_t k, uint64_t o) const override;
  void linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, bool accumulate) const override;
  void linear_dw(const float* dy, const float* x, float* dw, float* db, uint64_t n, uint64_t k, uint64_t o) const override;
  void rmsnorm(const float* x, const float* w, float* y, float* rstd, uint64_t n, uint64_t d, float eps, bool plus_one) const override;
  void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n, uint64_t d,
                        bool plus_one) const override;
  void rope(float* v, uint64_t n, uint64_t heads, uint64_t hd, const Rope& rope, uint64_t p0, uint64_t period, bool inverse) const override;
  void glu(const float* g, const float* u, float* h, uint64_t n, Activation act) const override;
  void glu_backward(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n, Activation act) const override;
  void add(float* x, const float* y, uint64_t n) const override;
  void softcap(float* x, uint64_t n, float cap) const override;
  void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start, uint64_t B,
                         const AttnShape& a) const override;
  void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse, float* dq,
                          float* dk, float* dv, const uint32_t* doc_start, uint64_t B, const AttnShape& a) const override;

 private:
  int threads_;
  bool reference_;
  mutable std::vector<AttnScratch> scratch_;  // one set of attention tiles per thread
};

}  // namespace longctx::model
