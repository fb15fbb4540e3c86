// CudaKernels: model::Kernels in fp32 on the GPU (include/longctx/cuda/cuda_kernels.h). Each kernel
// computes what its CPU twin in src/model/cpu_backend.cpp computes, in the same formulas; only the
// order of the sums in the reductions differs (tests/cuda/cuda_kernels_test.cpp bounds it).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "longctx/cuda/cuda_kernels.h"
#include "longctx/util/error.h"

namespace longctx::cuda {

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t e, const char* what) {
  if (e != CUBLAS_STATUS_SUCCESS) throw Error(std::string("cuBLAS: ") + what + ": status " + std::to_string(static_cast<int>(e)));
}

int as_int(uint64_t v, const char* what) {
  if (v >= (1ULL << 31)) throw Error(std::string("CudaKernels: ") + what + " " + std::to_string(v) + " is not below 2^31 (cuBLAS's int)");
  return static_cast<int>(v);
}

constexpr int kThreads = 256;
// Blocks for n elements; a grid's x dimension holds at most 2^31 - 1 blocks.
unsigned blocks_for(uint64_t n) {
  const uint64_t b = (n + kThreads - 1) / kThreads;
  if (b >= (1ULL << 31)) throw Error("CudaKernels: " + std::to_string(n) + " elements exceed one grid");
  return static_cast<unsigned>(b);
}
unsigned rows_grid(uint64_t n) {
  if (n >= (1ULL << 31)) throw Error("CudaKernels: " + std::to_string(n) + " rows exceed one grid");
  return static_cast<unsigned>(n);
}
constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi), as the CPU backend

// op over a block of N threads (shared memory tree, a fixed order; every thread gets the result).
template <int N, class Op>
__device__ float block_reduce(float v, float* shared, Op op) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = N / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] = op(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  const float r = shared[0];
  __syncthreads();
  return r;
}
template <int N = kThreads>
__device__ float block_sum(float v, float* shared) {
  return block_reduce<N>(v, shared, [](float a, float b) { return a + b; });
}
__device__ float block_max(float v, float* shared) {
  return block_reduce<kThreads>(v, shared, [](float a, float b) { return fmaxf(a, b); });
}

// One block per row.
__global__ void rmsnorm_kernel(const float* x, const float* w, float* y, float* rstd, uint64_t d, float eps, float add) {
  __shared__ float shared[kThreads];
  const float* xr = x + blockIdx.x * d;
  float ss = 0;
  for (uint64_t j = threadIdx.x; j < d; j += kThreads) ss += xr[j] * xr[j];
  ss = block_sum(ss, shared);
  const float r = 1.0f / sqrtf(ss / static_cast<float>(d) + eps);
  if (rstd && threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (uint64_t j = threadIdx.x; j < d; j += kThreads) y[blockIdx.x * d + j] = (add + w[j]) * (xr[j] * r);
}

// dx += r (g dy) - x r^3 / d sum(g dy x), one block per row.
__global__ void rmsnorm_dx_kernel(const float* x, const float* w, const float* rstd, const float* dy, float* dx, uint64_t d, float add) {
  __shared__ float shared[kThreads];
  const uint64_t row = blockIdx.x;
  const float* xr = x + row * d;
  const float* dyr = dy + row * d;
  const float r = rstd[row];
  float dot = 0;
  for (uint64_t j = threadIdx.x; j < d; j += kThreads) dot += (add + w[j]) * dyr[j] * xr[j];
  dot = block_sum(dot, shared);
  const float c = dot * r * r * r / static_cast<float>(d);
  for (uint64_t j = threadIdx.x; j < d; j += kThreads) dx[row * d + j] += r * (add + w[j]) * dyr[j] - xr[j] * c;
}

// dw[j] += sum over rows of dy x r: one thread per column, rows in order (deterministic).
__global__ void rmsnorm_dw_kernel(const float* x, const float* rstd, const float* dy, float* dw, uint64_t n, uint64_t d) {
  const uint64_t j = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (j >= d) return;
  float acc = 0;
  for (uint64_t r = 0; r < n; ++r) acc += dy[r * d + j] * x[r * d + j] * rstd[r];
  dw[j] += acc;
}

// One thread per (row, head, i < half); cs/sn hold the rows of positions p0 .. p0 + m - 1.
__global__ void rope_kernel(float* v, uint64_t n, uint64_t heads, uint64_t hd, uint64_t half, const float* cs, const float* sn,
                            uint64_t period, float sign) {
  const uint64_t t = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (t >= n * heads * half) return;
  const uint64_t i = t % half, h = t / half % heads, r = t / half / heads;
  const uint64_t p = period ? r % period : r;
  float* xv = v + r * heads * hd + h * hd;
  const float c = cs[p * half + i], s = sign * sn[p * half + i];
  const float x1 = xv[i], x2 = xv[i + half];
  xv[i] = x1 * c - x2 * s;
  xv[i + half] = x2 * c + x1 * s;
}

__device__ float gelu_tanh(float x) { return 0.5f * x * (1.0f + tanhf(kGeluC * (x + 0.044715f * x * x * x))); }

__global__ void glu_kernel(const float* g, const float* u, float* h, uint64_t n, bool silu) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (i >= n) return;
  h[i] = silu ? g[i] / (1.0f + expf(-g[i])) * u[i] : gelu_tanh(g[i]) * u[i];
}

__global__ void glu_backward_kernel(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n, bool silu) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (i >= n) return;
  const float x = g[i];
  if (silu) {
    const float sg = 1.0f / (1.0f + expf(-x));
    du[i] = dh[i] * x * sg;
    dg[i] = dh[i] * u[i] * sg * (1.0f + x * (1.0f - sg));
  } else {
    const float t = tanhf(kGeluC * (x + 0.044715f * x * x * x));
    du[i] = dh[i] * 0.5f * x * (1.0f + t);
    dg[i] = dh[i] * u[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * x * x));
  }
}

__global__ void add_kernel(float* x, const float* y, uint64_t n) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void softcap_kernel(float* x, uint64_t n, float cap) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (i < n) x[i] = cap * tanhf(x[i] / cap);
}

// y[r, c] = b[c]: the bias as the GEMM's C (beta = 1), as the CPU backend does.
__global__ void fill_rows_kernel(float* y, const float* b, uint64_t n, uint64_t o) {
  const uint64_t i = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (i < n * o) y[i] = b[i % o];
}

// db[c] += sum over rows of dy[r, c]: one thread per column, rows in order.
__global__ void column_sum_kernel(const float* dy, float* db, uint64_t n, uint64_t o) {
  const uint64_t c = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (c >= o) return;
  float acc = 0;
  for (uint64_t r = 0; r < n; ++r) acc += dy[r * o + c];
  db[c] += acc;
}

void launched(const char* what) { check(cudaGetLastError(), what); }

__global__ void embed_kernel(const float* E, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, float* x) {
  const uint64_t t = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (t >= n * d) return;
  const uint64_t r = t / d, j = t % d;
  x[t] = E[static_cast<uint64_t>(tokens[r]) * d + j] * scale;
}

// One thread per column, rows in order: repeated tokens add up in the CPU's order.
__global__ void embed_backward_kernel(float* dE, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, const float* dx) {
  const uint64_t j = blockIdx.x * static_cast<uint64_t>(kThreads) + threadIdx.x;
  if (j >= d) return;
  for (uint64_t r = 0; r < n; ++r) dE[static_cast<uint64_t>(tokens[r]) * d + j] += dx[r * d + j] * scale;
}

// One block per row (the block-wide reductions are reached by every thread).
__global__ void cross_entropy_kernel(float* logits, const uint32_t* targets, uint64_t V, float row_w, float cap, float* loss) {
  __shared__ float shared[kThreads];
  float* row = logits + blockIdx.x * V;
  const uint32_t target = targets[blockIdx.x];
  if (target == ~0u) {
    for (uint64_t j = threadIdx.x; j < V; j += kThreads) row[j] = 0.0f;
    if (threadIdx.x == 0) loss[blockIdx.x] = 0.0f;
    return;  // the whole block returns: no reduction follows
  }
  float mx = -INFINITY;
  for (uint64_t j = threadIdx.x; j < V; j += kThreads) mx = fmaxf(mx, row[j]);
  mx = block_max(mx, shared);
  float sum = 0;
  for (uint64_t j = threadIdx.x; j < V; j += kThreads) sum += expf(row[j] - mx);
  sum = block_sum(sum, shared);
  const float tl = row[target];
  __syncthreads();  // every thread has read row[target] before any overwrites it
  if (threadIdx.x == 0) loss[blockIdx.x] = logf(sum) + mx - tl;
  const float scale = row_w / sum;
  for (uint64_t j = threadIdx.x; j < V; j += kThreads) {
    const float y = row[j];
    float g = expf(y - mx) * scale - (j == target ? row_w : 0.0f);
    if (cap > 0) {
      const float t = y / cap;
      g *= 1.0f - t * t;
    }
    row[j] = g;
  }
}

// --- Attention, plainly: one block per (sequence, head, query row), the head dimension over the
// block's threads, keys one after another with the row's online softmax. No tiles and no tensor
// cores: this is the semantics (masks, window, soft-cap, GQA, KV-cache offset) in GPU form, the
// reference the tiled FlashAttention-style kernels will be checked against, and what the backend
// runs until they exist. Deterministic: every sum has a fixed order.

constexpr int kAttnThreads = 128;
constexpr int kMaxDimsPerThread = 8;  // head dimension up to 1024

// The first key a query at position qp sees (attention.cpp's first_key).
__device__ uint64_t first_key(uint64_t qp, uint64_t doc, uint64_t window) {
  const uint64_t w = window > 0 && qp + 1 > window ? qp + 1 - window : 0;
  return doc > w ? doc : w;
}

struct AttnArgs {
  uint64_t T, H, KV, hd, p0, window, kbase, qs, ks;  // qs, ks: floats per sequence of q/o and of k/v
  float scale, softcap;
};

// a . b over the head dimension (rows of hd floats), split over the block.
__device__ float head_dot(const float* a, const float* b, uint64_t hd, float* shared) {
  float part = 0;
  for (uint64_t i = threadIdx.x; i < hd; i += kAttnThreads) part += a[i] * b[i];
  return block_sum<kAttnThreads>(part, shared);
}

__device__ float capped(float sc, float cap) { return cap > 0 ? cap * tanhf(sc / cap) : sc; }

__global__ void attention_forward_kernel(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                                         AttnArgs a) {
  __shared__ float shared[kAttnThreads];
  const uint64_t r = blockIdx.x, h = blockIdx.y, b = blockIdx.z, g = h / (a.H / a.KV);
  const uint64_t ldq = a.H * a.hd, ldk = a.KV * a.hd;
  const float* Q = q + b * a.qs + r * ldq + h * a.hd;
  const float* K = k + b * a.ks + g * a.hd;
  const float* V = v + b * a.ks + g * a.hd;
  const uint64_t qp = a.p0 + r;
  // kbase: keys before it are not in k/v (the caller guarantees no query sees them; the CPU's
  // tiled path clamps the same way).
  const uint64_t first = max(first_key(qp, doc_start ? doc_start[b * a.T + r] : 0, a.window), a.kbase);
  float acc[kMaxDimsPerThread] = {};
  float m = -INFINITY, l = 0;
  for (uint64_t j = first; j <= qp; ++j) {
    const float* Kj = K + (j - a.kbase) * ldk;
    const float sc = capped(head_dot(Q, Kj, a.hd, shared) * a.scale, a.softcap);
    const float m2 = fmaxf(m, sc), corr = expf(m - m2), p = expf(sc - m2);
    l = l * corr + p;
    const float* Vj = V + (j - a.kbase) * ldk;
    for (int c = 0; c < kMaxDimsPerThread; ++c) {
      const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
      if (i < a.hd) acc[c] = acc[c] * corr + p * Vj[i];
    }
    m = m2;
  }
  float* O = o + b * a.qs + r * ldq + h * a.hd;
  for (int c = 0; c < kMaxDimsPerThread; ++c) {
    const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
    if (i < a.hd) O[i] = acc[c] / l;
  }
  if (lse && threadIdx.x == 0) lse[(b * a.H + h) * a.T + r] = m + logf(l);
}

// dS of query row r and key j given P's inputs: P = exp(capped(s) - L), dS = P (dP - D) capped'(s) scale.
__device__ void score_grads(float s_raw, float dp, float L, float D, const AttnArgs& a, float* P, float* dS) {
  float sc = s_raw * a.scale, dcap = 1.0f;
  if (a.softcap > 0) {
    const float t = tanhf(sc / a.softcap);
    sc = a.softcap * t;
    dcap = 1.0f - t * t;
  }
  *P = expf(sc - L);
  *dS = *P * (dp - D) * dcap * a.scale;
}

// dq (added into) and D = dO . O per (sequence, head, row); D goes to dbuf[B, H, T] for the dK/dV pass.
__global__ void attention_dq_kernel(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                    float* dq, float* dbuf, const uint32_t* doc_start, AttnArgs a) {
  __shared__ float shared[kAttnThreads];
  const uint64_t r = blockIdx.x, h = blockIdx.y, b = blockIdx.z, g = h / (a.H / a.KV);
  const uint64_t ldq = a.H * a.hd, ldk = a.KV * a.hd, row = b * a.qs + r * ldq + h * a.hd;
  const float D = head_dot(dout + row, o + row, a.hd, shared);
  const float L = lse[(b * a.H + h) * a.T + r];
  if (threadIdx.x == 0) dbuf[(b * a.H + h) * a.T + r] = D;
  const float* K = k + b * a.ks + g * a.hd;
  const float* V = v + b * a.ks + g * a.hd;
  const uint64_t first = first_key(r, doc_start ? doc_start[b * a.T + r] : 0, a.window);
  float acc[kMaxDimsPerThread] = {};
  for (uint64_t j = first; j <= r; ++j) {
    const float s_raw = head_dot(q + row, K + j * ldk, a.hd, shared);
    const float dp = head_dot(dout + row, V + j * ldk, a.hd, shared);
    float P, dS;
    score_grads(s_raw, dp, L, D, a, &P, &dS);
    for (int c = 0; c < kMaxDimsPerThread; ++c) {
      const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
      if (i < a.hd) acc[c] += dS * K[j * ldk + i];
    }
  }
  for (int c = 0; c < kMaxDimsPerThread; ++c) {
    const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
    if (i < a.hd) dq[row + i] += acc[c];
  }
}

// dK and dV (added into) per (sequence, key/value head, key row j): every query head of the group
// and every row that sees j, in order.
__global__ void attention_dkv_kernel(const float* q, const float* k, const float* v, const float* dout, const float* lse,
                                     const float* dbuf, float* dk, float* dv, const uint32_t* doc_start, AttnArgs a) {
  __shared__ float shared[kAttnThreads];
  const uint64_t j = blockIdx.x, g = blockIdx.y, b = blockIdx.z, group = a.H / a.KV;
  const uint64_t ldq = a.H * a.hd, ldk = a.KV * a.hd, krow = b * a.ks + j * ldk + g * a.hd;
  float ak[kMaxDimsPerThread] = {}, av[kMaxDimsPerThread] = {};
  for (uint64_t h = g * group; h < (g + 1) * group; ++h) {
    for (uint64_t r = j; r < a.T; ++r) {
      if (first_key(r, doc_start ? doc_start[b * a.T + r] : 0, a.window) > j) continue;
      const uint64_t row = b * a.qs + r * ldq + h * a.hd;
      const float s_raw = head_dot(q + row, k + krow, a.hd, shared);
      const float dp = head_dot(dout + row, v + krow, a.hd, shared);
      float P, dS;
      score_grads(s_raw, dp, lse[(b * a.H + h) * a.T + r], dbuf[(b * a.H + h) * a.T + r], a, &P, &dS);
      for (int c = 0; c < kMaxDimsPerThread; ++c) {
        const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
        if (i < a.hd) {
          ak[c] += dS * q[row + i];
          av[c] += P * dout[row + i];
        }
      }
    }
  }
  for (int c = 0; c < kMaxDimsPerThread; ++c) {
    const uint64_t i = threadIdx.x + c * static_cast<uint64_t>(kAttnThreads);
    if (i < a.hd) {
      dk[krow + i] += ak[c];
      dv[krow + i] += av[c];
    }
  }
}

AttnArgs attn_args(uint64_t T, const model::AttnShape& a, uint64_t key_rows) {
  if (a.hd > static_cast<uint64_t>(kAttnThreads) * kMaxDimsPerThread)
    throw Error("CudaKernels: head dimension " + std::to_string(a.hd) + " above " + std::to_string(kAttnThreads * kMaxDimsPerThread));
  if (a.KV == 0 || a.H % a.KV) throw Error("CudaKernels: query heads must be a multiple of key/value heads");
  if (T >= (1ULL << 31) || a.H > 65535) throw Error("CudaKernels: attention grid too large");
  return AttnArgs{T, a.H, a.KV, a.hd, a.p0, a.window, a.kbase, T * a.H * a.hd, key_rows * a.KV * a.hd, a.scale, a.softcap};
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" state
    return 0;
  }
  return n;
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc");
  return p;
}
void device_free(void* p) { cudaFree(p); }
void copy_to_device(void* dst, const void* src, size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device"); }
void copy_to_host(void* dst, const void* src, size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host"); }
void synchronize() { check(cudaDeviceSynchronize(), "synchronize"); }

void embed(const float* E, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, float* x) {
  if (n == 0 || d == 0) return;
  embed_kernel<<<blocks_for(n * d), kThreads>>>(E, tokens, n, d, scale, x);
  launched("embed");
}

void embed_backward(float* dE, const uint32_t* tokens, uint64_t n, uint64_t d, float scale, const float* dx) {
  if (n == 0 || d == 0) return;
  embed_backward_kernel<<<blocks_for(d), kThreads>>>(dE, tokens, n, d, scale, dx);
  launched("embed_backward");
}

void cross_entropy_rows(float* logits, const uint32_t* targets, uint64_t nr, uint64_t V, float row_w, float cap, float* loss) {
  if (nr == 0 || V == 0) return;
  cross_entropy_kernel<<<rows_grid(nr), kThreads>>>(logits, targets, V, row_w, cap, loss);
  launched("cross_entropy");
}

struct CudaKernels::State {
  cublasHandle_t blas = nullptr;
  // RoPE rows uploaded for the current call (grown as needed).
  float* rope_cos = nullptr;
  float* rope_sin = nullptr;
  size_t rope_floats = 0;
  float* dbuf = nullptr;  // attention backward: D = dO . O per row
  size_t dbuf_floats = 0;
};

CudaKernels::CudaKernels() : s_(std::make_unique<State>()) {
  check(cublasCreate(&s_->blas), "cublasCreate");
  // fp32 GEMMs without TF32 tensor cores: the results stay within fp32 rounding of the CPU's.
  check(cublasSetMathMode(s_->blas, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
}

CudaKernels::~CudaKernels() {
  if (s_->blas) cublasDestroy(s_->blas);
  cudaFree(s_->rope_cos);
  cudaFree(s_->rope_sin);
  cudaFree(s_->dbuf);
}

// Row-major y[n, o] = x[n, k] W[o, k]^T is column-major y' (o x n) = W'^T (o x k) x' (k x n),
// W' and x' being the same memory read column-major with leading dimension k.
void CudaKernels::linear(const float* x, const float* w, const float* b, float* y, uint64_t n, uint64_t k, uint64_t o) const {
  if (n == 0 || o == 0) return;
  if (k == 0) {  // an empty sum: y = b or 0, as the CPU's GEMM with k = 0 leaves it
    if (b) {
      fill_rows_kernel<<<blocks_for(n * o), kThreads>>>(y, b, n, o);
      launched("fill_rows");
    } else {
      check(cudaMemset(y, 0, n * o * sizeof(float)), "cudaMemset");
    }
    return;
  }
  if (b) {
    fill_rows_kernel<<<blocks_for(n * o), kThreads>>>(y, b, n, o);
    launched("fill_rows");
  }
  const float one = 1.0f, beta = b ? 1.0f : 0.0f;
  check(cublasSgemm(s_->blas, CUBLAS_OP_T, CUBLAS_OP_N, as_int(o, "o"), as_int(n, "n"), as_int(k, "k"), &one, w, as_int(k, "k"), x,
                    as_int(k, "k"), &beta, y, as_int(o, "o")),
        "linear");
}

// dx[n, k] = dy[n, o] W[o, k]: column-major dx' (k x n) = W' (k x o) dy' (o x n).
void CudaKernels::linear_dx(const float* dy, const float* w, float* dx, uint64_t n, uint64_t k, uint64_t o, bool accumulate) const {
  if (n == 0 || k == 0) return;
  if (o == 0) {
    if (!accumulate) check(cudaMemset(dx, 0, n * k * sizeof(float)), "cudaMemset");
    return;
  }
  const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  check(cublasSgemm(s_->blas, CUBLAS_OP_N, CUBLAS_OP_N, as_int(k, "k"), as_int(n, "n"), as_int(o, "o"), &one, w, as_int(k, "k"), dy,
                    as_int(o, "o"), &beta, dx, as_int(k, "k")),
        "linear_dx");
}

// dW[o, k] += dy[n, o]^T x[n, k]: column-major dW' (k x o) += x' (k x n) dy'^T (n x o).
void CudaKernels::linear_dw(const float* dy, const float* x, float* dw, float* db, uint64_t n, uint64_t k, uint64_t o) const {
  if (n == 0 || o == 0) return;  // nothing to add
  const float one = 1.0f;
  if (k > 0) {
    check(cublasSgemm(s_->blas, CUBLAS_OP_N, CUBLAS_OP_T, as_int(k, "k"), as_int(o, "o"), as_int(n, "n"), &one, x, as_int(k, "k"), dy,
                      as_int(o, "o"), &one, dw, as_int(k, "k")),
          "linear_dw");
  }
  if (db) {
    column_sum_kernel<<<blocks_for(o), kThreads>>>(dy, db, n, o);
    launched("column_sum");
  }
}

void CudaKernels::rmsnorm(const float* x, const float* w, float* y, float* rstd, uint64_t n, uint64_t d, float eps, bool plus_one) const {
  if (n == 0 || d == 0) return;
  rmsnorm_kernel<<<rows_grid(n), kThreads>>>(x, w, y, rstd, d, eps, plus_one ? 1.0f : 0.0f);
  launched("rmsnorm");
}

void CudaKernels::rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, uint64_t n,
                                   uint64_t d, bool plus_one) const {
  if (n == 0 || d == 0) return;
  rmsnorm_dx_kernel<<<rows_grid(n), kThreads>>>(x, w, rstd, dy, dx, d, plus_one ? 1.0f : 0.0f);
  launched("rmsnorm_dx");
  rmsnorm_dw_kernel<<<blocks_for(d), kThreads>>>(x, rstd, dy, dw, n, d);
  launched("rmsnorm_dw");
}

void CudaKernels::rope(float* v, uint64_t n, uint64_t heads, uint64_t hd, const model::Rope& rope, uint64_t p0, uint64_t period,
                       bool inverse) const {
  const uint64_t half = rope.rotary_dim() / 2;
  if (n == 0 || heads == 0 || half == 0) return;
  const uint64_t m = period ? std::min(n, period) : n;  // positions p0 .. p0 + m - 1
  const size_t floats = m * half;
  if (floats > s_->rope_floats) {
    cudaFree(s_->rope_cos);
    cudaFree(s_->rope_sin);
    s_->rope_cos = static_cast<float*>(device_alloc(floats * sizeof(float)));
    s_->rope_sin = static_cast<float*>(device_alloc(floats * sizeof(float)));
    s_->rope_floats = floats;
  }
  copy_to_device(s_->rope_cos, rope.cos(p0), floats * sizeof(float));  // rows are contiguous by position
  copy_to_device(s_->rope_sin, rope.sin(p0), floats * sizeof(float));
  rope_kernel<<<blocks_for(n * heads * half), kThreads>>>(v, n, heads, hd, half, s_->rope_cos, s_->rope_sin, period,
                                                         inverse ? -1.0f : 1.0f);
  launched("rope");
}

void CudaKernels::glu(const float* g, const float* u, float* h, uint64_t n, model::Activation act) const {
  if (n == 0) return;
  glu_kernel<<<blocks_for(n), kThreads>>>(g, u, h, n, act == model::Activation::SiLU);
  launched("glu");
}

void CudaKernels::glu_backward(const float* g, const float* u, const float* dh, float* dg, float* du, uint64_t n,
                               model::Activation act) const {
  if (n == 0) return;
  glu_backward_kernel<<<blocks_for(n), kThreads>>>(g, u, dh, dg, du, n, act == model::Activation::SiLU);
  launched("glu_backward");
}

void CudaKernels::add(float* x, const float* y, uint64_t n) const {
  if (n == 0) return;
  add_kernel<<<blocks_for(n), kThreads>>>(x, y, n);
  launched("add");
}

void CudaKernels::softcap(float* x, uint64_t n, float cap) const {
  if (n == 0) return;
  softcap_kernel<<<blocks_for(n), kThreads>>>(x, n, cap);
  launched("softcap");
}

void CudaKernels::attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                                    uint64_t B, const model::AttnShape& a) const {
  if (B == 0 || a.T == 0 || a.H == 0) return;
  if (B > 65535) throw Error("CudaKernels: attention of more than 65535 sequences at once");
  const AttnArgs args = attn_args(a.T, a, a.p0 + a.T - a.kbase);
  attention_forward_kernel<<<dim3(static_cast<unsigned>(a.T), static_cast<unsigned>(a.H), static_cast<unsigned>(B)), kAttnThreads>>>(
      q, k, v, o, lse, doc_start, args);
  launched("attention_forward");
}

void CudaKernels::attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                                     float* dq, float* dk, float* dv, const uint32_t* doc_start, uint64_t B,
                                     const model::AttnShape& a) const {
  if (B == 0 || a.T == 0 || a.H == 0) return;
  if (a.p0 != 0 || a.kbase != 0) throw Error("CudaKernels: attention_backward needs p0 = 0 and kbase = 0 (training)");
  if (B > 65535) throw Error("CudaKernels: attention of more than 65535 sequences at once");
  const AttnArgs args = attn_args(a.T, a, a.T);
  const size_t dfloats = B * a.H * a.T;
  if (dfloats > s_->dbuf_floats) {
    cudaFree(s_->dbuf);
    s_->dbuf = static_cast<float*>(device_alloc(dfloats * sizeof(float)));
    s_->dbuf_floats = dfloats;
  }
  attention_dq_kernel<<<dim3(static_cast<unsigned>(a.T), static_cast<unsigned>(a.H), static_cast<unsigned>(B)), kAttnThreads>>>(
      q, k, v, o, dout, lse, dq, s_->dbuf, doc_start, args);
  launched("attention_dq");
  attention_dkv_kernel<<<dim3(static_cast<unsigned>(a.T), static_cast<unsigned>(a.KV), static_cast<unsigned>(B)), kAttnThreads>>>(
      q, k, v, dout, lse, s_->dbuf, dk, dv, doc_start, args);
  launched("attention_dkv");
}

}  // namespace longctx::cuda
