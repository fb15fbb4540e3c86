#include "longctx/model/attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "longctx/model/kernels.h"

namespace longctx::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// C[m, n] = alpha * A[m, k] . B[n, k]^T + beta * C
inline void gemm_nt(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}
// C[m, n] = alpha * A[m, k] . B[k, n] + beta * C
inline void gemm_nn(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}
// C[m, n] = alpha * A[k, m]^T . B[k, n] + beta * C
inline void gemm_tn(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

// Keys a query at position qp whose document starts at `first` sees inside a key tile
// [ka, ka + nk): [lo, hi) relative to ka.
inline void visible(uint64_t qp, uint64_t first, uint64_t ka, uint64_t nk, uint64_t& lo, uint64_t& hi) {
  lo = first > ka ? std::min(first - ka, nk) : 0;
  hi = qp >= ka ? std::min(nk, qp - ka + 1) : 0;
  if (hi < lo) hi = lo;
}

}  // namespace

void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                       const AttnShape& a, uint64_t h, AttnScratch& s) {
  const uint64_t hd = a.hd, ldq = a.H * hd, ldk = a.KV * hd, g = h / (a.H / a.KV);
  const float* Q = q + h * hd;
  const float* K = k + g * hd;
  const float* Vv = v + g * hd;
  float* O = o + h * hd;
  s.s.resize(a.bq * a.bk);
  for (uint64_t qa = 0; qa < a.T; qa += a.bq) {
    const uint64_t nq = std::min(a.bq, a.T - qa), last = a.p0 + qa + nq - 1;
    const uint64_t k0 = doc_start ? doc_start[qa] / a.bk * a.bk : 0;  // doc_start is non-decreasing
    s.m.assign(nq, kNegInf);
    s.l.assign(nq, 0.0f);
    s.acc.assign(nq * hd, 0.0f);
    for (uint64_t ka = k0; ka <= last; ka += a.bk) {
      const uint64_t nk = std::min(a.bk, last + 1 - ka);
      gemm_nt(nq, nk, hd, a.scale, Q + qa * ldq, ldq, K + ka * ldk, ldk, 0.0f, s.s.data(), nk);
      for (uint64_t r = 0; r < nq; ++r) {
        float* row = s.s.data() + r * nk;
        uint64_t lo, hi;
        visible(a.p0 + qa + r, doc_start ? doc_start[qa + r] : 0, ka, nk, lo, hi);
        if (lo == hi) {
          std::fill(row, row + nk, 0.0f);
          continue;
        }
        const float mx = std::max(s.m[r], row_max(row + lo, hi - lo));
        const float corr = std::exp(s.m[r] - mx);  // exp(-inf) = 0 on the first visible tile
        const float sum = exp_and_sum(row + lo, hi - lo, mx);
        std::fill(row, row + lo, 0.0f);
        std::fill(row + hi, row + nk, 0.0f);
        s.l[r] = s.l[r] * corr + sum;
        s.m[r] = mx;
        if (corr != 1.0f)
          for (uint64_t i = 0; i < hd; ++i) s.acc[r * hd + i] *= corr;
      }
      gemm_nn(nq, hd, nk, 1.0f, s.s.data(), nk, Vv + ka * ldk, ldk, 1.0f, s.acc.data(), hd);
    }
    for (uint64_t r = 0; r < nq; ++r) {
      const float inv = 1.0f / s.l[r];
      for (uint64_t i = 0; i < hd; ++i) O[(qa + r) * ldq + i] = s.acc[r * hd + i] * inv;
      if (lse) lse[qa + r] = s.m[r] + std::log(s.l[r]);
    }
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                        float* dq, float* dk, float* dv, const uint32_t* doc_start, const AttnShape& a, uint64_t g, AttnScratch& s) {
  const uint64_t hd = a.hd, ldq = a.H * hd, ldk = a.KV * hd, group = a.H / a.KV;
  const float* K = k + g * hd;
  const float* Vv = v + g * hd;
  float* dK = dk + g * hd;
  float* dV = dv + g * hd;
  s.s.resize(a.bq * a.bk);
  s.dp.resize(a.bq * a.bk);
  s.d.resize(a.T);
  for (uint64_t h = g * group; h < (g + 1) * group; ++h) {
    const float* Q = q + h * hd;
    const float* O = o + h * hd;
    const float* dO = dout + h * hd;
    const float* L = lse + h * a.T;
    float* dQ = dq + h * hd;
    // D_r = dO_r . O_r: the softmax Jacobian's row term.
    for (uint64_t r = 0; r < a.T; ++r) {
      float acc = 0;
      for (uint64_t i = 0; i < hd; ++i) acc += dO[r * ldq + i] * O[r * ldq + i];
      s.d[r] = acc;
    }
    for (uint64_t qa = 0; qa < a.T; qa += a.bq) {
      const uint64_t nq = std::min(a.bq, a.T - qa), last = qa + nq - 1;
      const uint64_t k0 = doc_start ? doc_start[qa] / a.bk * a.bk : 0;
      for (uint64_t ka = k0; ka <= last; ka += a.bk) {
        const uint64_t nk = std::min(a.bk, last + 1 - ka);
        float* P = s.s.data();
        float* dP = s.dp.data();
        gemm_nt(nq, nk, hd, a.scale, Q + qa * ldq, ldq, K + ka * ldk, ldk, 0.0f, P, nk);
        gemm_nt(nq, nk, hd, 1.0f, dO + qa * ldq, ldq, Vv + ka * ldk, ldk, 0.0f, dP, nk);
        for (uint64_t r = 0; r < nq; ++r) {
          float* prow = P + r * nk;
          float* dprow = dP + r * nk;
          uint64_t lo, hi;
          visible(qa + r, doc_start ? doc_start[qa + r] : 0, ka, nk, lo, hi);
          exp_shifted(prow + lo, hi - lo, L[qa + r]);
          std::fill(prow, prow + lo, 0.0f);
          std::fill(prow + hi, prow + nk, 0.0f);
          const float dr = s.d[qa + r];
          // dS = P * (dP - D) * scale (masked entries have P = 0).
          for (uint64_t j = 0; j < nk; ++j) dprow[j] = prow[j] * (dprow[j] - dr) * a.scale;
        }
        gemm_tn(nk, hd, nq, 1.0f, P, nk, dO + qa * ldq, ldq, 1.0f, dV + ka * ldk, ldk);   // dV += P^T dO
        gemm_nn(nq, hd, nk, 1.0f, dP, nk, K + ka * ldk, ldk, 1.0f, dQ + qa * ldq, ldq);   // dQ += dS K
        gemm_tn(nk, hd, nq, 1.0f, dP, nk, Q + qa * ldq, ldq, 1.0f, dK + ka * ldk, ldk);   // dK += dS^T Q
      }
    }
  }
}

}  // namespace longctx::model
