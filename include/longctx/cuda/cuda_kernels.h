// The CUDA backend's first step (issue 16): model::Kernels on the GPU in fp32, pointers being
// device memory. GEMMs through cuBLAS (fp32, no TF32: results within fp32 rounding of the CPU
// backend's), hand-written kernels for RMSNorm (forward/backward), RoPE, SwiGLU/GeGLU
// (forward/backward), residual add and soft-cap, and attention in its plain form (a block per
// query row, no tiles: the semantics and the future tiled kernels' reference). bf16, the fused
// cross-entropy, the engine and the trainer on the GPU are later steps (src/cuda/README.md).
//
// This header is plain C++ (no CUDA types), so C++ code and tests include it without nvcc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "longctx/model/backend.h"

namespace longctx::cuda {

// Number of CUDA devices the runtime sees (0 without a GPU or driver: never throws).
int device_count();

// Device memory: allocate, free, copy (throw longctx::Error naming the CUDA error).
void* device_alloc(size_t bytes);
void device_free(void* p);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void synchronize();

// The embedding and the loss, as the trainer computes them (src/model/decoder.cpp embed /
// embed_backward, src/train/model_grad.cpp's cross-entropy), on device pointers:
// x[r, :] = E[tokens[r], :] * scale. Token ids must be below the vocabulary (the caller checks,
// as the CPU's embed does).
void embed(const float* E, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, float* x);
// dE[tokens[r], :] += dx[r, :] * scale, rows in order for every column (deterministic, no atomics).
void embed_backward(float* dE, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, const float* dx);
// One chunk of the fused cross-entropy, in place: for each of the nr rows of logits[nr, V] (already
// soft-capped when cap > 0) with a target (targets[r] < V; rows whose target is ~0u predict nothing:
// zeroed, loss 0), loss[r] = log sum exp(row) - row[target], and the row becomes
// d(logits) = (softmax - onehot) * row_w, times 1 - (y / cap)^2 through the cap. The caller's
// GEMMs then give d(hidden) and d(W_out); chunks keep a long sequence's logits from existing whole.
void cross_entropy_rows(float* logits, const uint32_t* targets, uint64_t nr, uint64_t V, float row_w, float cap, float* loss);

// Not for concurrent calls from several threads: the RoPE rows and the attention backward's
// scratch live in the object (as the CPU backend's attention scratch does).
class CudaKernels final : public model::Kernels {
 public:
  CudaKernels();
  ~CudaKernels() override;

  void linear(const float* x, const float* w, const float* b, float* y, uint64_t n, uint64_t k, uint64_t o) const override;
  void linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, bool accumulate) const override;
  void linear_dw(const float* dy, const float* x, float* dw, float* db, uint64_t n, uint64_t k, uint64_t o) const override;
  void rmsnorm(const float* x, const float* w, float* y, float* rstd, uint64_t n, uint64_t d, float eps, bool plus_one) const override;
  void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n, uint64_t d,
                        bool plus_one) const override;
  // The rope's host table rows for the positions used are copied to the device first.
  void rope(float* v, uint64_t n, uint64_t heads, uint64_t hd, const model::Rope& rope, uint64_t p0, uint64_t period,
            bool inverse) const override;
  void glu(const float* g, const float* u, float* h, uint64_t n, model::Activation act) const override;
  void glu_backward(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n, model::Activation act) const override;
  void add(float* x, const float* y, uint64_t n) const override;
  void softcap(float* x, uint64_t n, float cap) const override;
  void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start, uint64_t B,
                         const model::AttnShape& a) const override;
  void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse, float* dq,
                          float* dk, float* dv, const uint32_t* doc_start, uint64_t B, const model::AttnShape& a) const override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace longctx::cuda
