#include "longctx/model/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "longctx/model/blas.h"
#include "longctx/model/kernels.h"

namespace longctx::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// C[m, n] = alpha * A[m, k] . B[n, k]^T + beta * C
inline void gemm_nt(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  blas::sgemm(false, true, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}
// C[m, n] = alpha * A[m, k] . B[k, n] + beta * C
inline void gemm_nn(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  blas::sgemm(false, false, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}
// C[m, n] = alpha * A[k, m]^T . B[k, n] + beta * C
inline void gemm_tn(uint64_t m, uint64_t n, uint64_t k, float alpha, const float* A, uint64_t lda, const float* B, uint64_t ldb,
                    float beta, float* C, uint64_t ldc) {
  blas::sgemm(true, false, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, A,
              static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

// The first key a query at position qp may see: its document's start, or the window's (transformers'
// sliding_window mask: the W keys (qp - W, qp]).
inline uint64_t first_key(uint64_t qp, uint64_t doc, uint64_t window) {
  const uint64_t w = window > 0 && qp + 1 > window ? qp + 1 - window : 0;
  return std::max(doc, w);
}

// Keys a query at position qp whose document starts at `doc` sees inside a key tile
// [ka, ka + nk): [lo, hi) relative to ka.
inline void visible(uint64_t qp, uint64_t doc, uint64_t window, uint64_t ka, uint64_t nk, uint64_t& lo, uint64_t& hi) {
  const uint64_t first = first_key(qp, doc, window);
  lo = first > ka ? std::min(first - ka, nk) : 0;
  hi = qp >= ka ? std::min(nk, qp - ka + 1) : 0;
  if (hi < lo) hi = lo;
}

// The first key tile a query tile starting at row qa needs. Its first row has the smallest first
// key of the tile (document starts are non-decreasing, and the window's start moves with the
// position), so every earlier tile is masked for all its rows: skipping them makes a sliding layer
// cost O(T * window). Aligned to bk so that without a window or documents the tiles (and so the
// bits) are the same as in a plain causal run.
inline uint64_t first_tile(const AttnShape& a, uint64_t qa, const uint32_t* doc_start) {
  return first_key(a.p0 + qa, doc_start ? doc_start[qa] : 0, a.window) / a.bk * a.bk;
}

// Gemma 2's soft-capping, only on the visible scores: the masked ones are overwritten anyway, and
// tanh is the costly part.
inline void cap_scores(float* row, uint64_t n, float cap) { softcap_row(row, n, cap); }

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
    const uint64_t k0 = std::max(first_tile(a, qa, doc_start), a.kbase);
    s.m.assign(nq, kNegInf);
    s.l.assign(nq, 0.0f);
    s.acc.assign(nq * hd, 0.0f);
    for (uint64_t ka = k0; ka <= last; ka += a.bk) {
      const uint64_t nk = std::min(a.bk, last + 1 - ka);
      gemm_nt(nq, nk, hd, a.scale, Q + qa * ldq, ldq, K + (ka - a.kbase) * ldk, ldk, 0.0f, s.s.data(), nk);
      for (uint64_t r = 0; r < nq; ++r) {
        float* row = s.s.data() + r * nk;
        uint64_t lo, hi;
        visible(a.p0 + qa + r, doc_start ? doc_start[qa + r] : 0, a.window, ka, nk, lo, hi);
        if (lo == hi) {
          std::fill(row, row + nk, 0.0f);
          continue;
        }
        if (a.softcap > 0) cap_scores(row + lo, hi - lo, a.softcap);
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
      gemm_nn(nq, hd, nk, 1.0f, s.s.data(), nk, Vv + (ka - a.kbase) * ldk, ldk, 1.0f, s.acc.data(), hd);
    }
    for (uint64_t r = 0; r < nq; ++r) {
      const float inv = 1.0f / s.l[r];
      for (uint64_t i = 0; i < hd; ++i) O[(qa + r) * ldq + i] = s.acc[r * hd + i] * inv;
      if (lse) lse[qa + r] = s.m[r] + std::log(s.l[r]);
    }
  }
}

void attention_reference(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                         const AttnShape& a, uint64_t h) {
  const uint64_t hd = a.hd, ldq = a.H * hd, ldk = a.KV * hd, g = h / (a.H / a.KV);
  const float* Q = q + h * hd;
  const float* K = k + g * hd;
  const float* Vv = v + g * hd;
  float* O = o + h * hd;
  // Shares only the mask rule (first_key) with the tiled path: no BLAS, no fast_exp, no tiles, so
  // that a mistake in those cannot be repeated by the oracle the tiled path is tested against.
  std::vector<float> row;
  for (uint64_t r = 0; r < a.T; ++r) {
    const uint64_t qp = a.p0 + r, first = first_key(qp, doc_start ? doc_start[r] : 0, a.window);
    row.assign(qp + 1 - first, 0.0f);
    float mx = kNegInf;
    for (uint64_t j = first; j <= qp; ++j) {
      float dot = 0;
      for (uint64_t i = 0; i < hd; ++i) dot += Q[r * ldq + i] * K[(j - a.kbase) * ldk + i];
      float sc = dot * a.scale;
      if (a.softcap > 0) sc = a.softcap * std::tanh(sc / a.softcap);
      row[j - first] = sc;
      mx = std::max(mx, sc);
    }
    float sum = 0;
    for (auto& e : row) sum += (e = std::exp(e - mx));
    for (uint64_t i = 0; i < hd; ++i) {
      float acc = 0;
      for (uint64_t j = first; j <= qp; ++j) acc += row[j - first] * Vv[(j - a.kbase) * ldk + i];
      O[r * ldq + i] = acc / sum;
    }
    if (lse) lse[r] = mx + std::log(sum);
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
      const uint64_t k0 = first_tile(a, qa, doc_start);
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
          visible(qa + r, doc_start ? doc_start[qa + r] : 0, a.window, ka, nk, lo, hi);
          const float dr = s.d[qa + r];
          if (a.softcap > 0) {
            // P comes from the capped scores (what the forward's lse is of); the chain rule through
            // cap * tanh(s / cap) multiplies dS by 1 - tanh^2. The tanh is kept from this pass
            // rather than recovered from the capped score after the exp has overwritten it.
            const float cap = a.softcap;
            for (uint64_t j = lo; j < hi; ++j) {
              const float t = fast_tanh(prow[j] / cap);
              prow[j] = cap * t;
              dprow[j] = (dprow[j] - dr) * (1.0f - t * t) * a.scale;
            }
            exp_shifted(prow + lo, hi - lo, L[qa + r]);
            for (uint64_t j = lo; j < hi; ++j) dprow[j] *= prow[j];
            std::fill(prow, prow + lo, 0.0f);
            std::fill(prow + hi, prow + nk, 0.0f);
            std::fill(dprow, dprow + lo, 0.0f);
            std::fill(dprow + hi, dprow + nk, 0.0f);
            continue;
          }
          exp_shifted(prow + lo, hi - lo, L[qa + r]);
          std::fill(prow, prow + lo, 0.0f);
          std::fill(prow + hi, prow + nk, 0.0f);
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
