#include "longctx/model/kernels.h"

#include <limits>

namespace longctx::model {

// The softmax row loops: 16 independent lanes (a fixed order of additions, so the compiler may
// vectorize without fast-math), compiled for AVX-512, AVX2 and baseline x86-64 and picked at run
// time (the exp polynomial was a third of prefill as scalar SSE code).
LONGCTX_CLONES float row_max(const float* row, uint64_t n) {
  float lane[16];
  for (auto& l : lane) l = -std::numeric_limits<float>::infinity();
  uint64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lane[k] = row[j + k] > lane[k] ? row[j + k] : lane[k];
  float m = -std::numeric_limits<float>::infinity();
  for (int k = 0; k < 16; ++k) m = lane[k] > m ? lane[k] : m;
  for (; j < n; ++j) m = row[j] > m ? row[j] : m;
  return m;
}

LONGCTX_CLONES float exp_and_sum(float* row, uint64_t n, float mx) {
  float lane[16] = {};
  uint64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) {
      const float e = fast_exp(row[j + k] - mx);
      row[j + k] = e;
      lane[k] += e;
    }
  float sum = 0;
  for (int k = 0; k < 16; ++k) sum += lane[k];
  for (; j < n; ++j) sum += (row[j] = fast_exp(row[j] - mx));
  return sum;
}

LONGCTX_CLONES void exp_shifted(float* row, uint64_t n, float sub) {
  for (uint64_t j = 0; j < n; ++j) row[j] = fast_exp(row[j] - sub);
}

LONGCTX_CLONES void softcap_row(float* row, uint64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (uint64_t j = 0; j < n; ++j) row[j] = cap * fast_tanh(row[j] * inv);
}

}  // namespace longctx::model
