// Small numeric kernels shared by the engine and the trainer: a vectorizable exp and the softmax
// row loops (compiled for AVX-512, AVX2 and baseline x86-64, picked at run time).
#pragma once

// The hot loops are compiled for AVX-512, AVX2 and a baseline and picked at load (target_clones).
// Under ThreadSanitizer the ifunc resolver that picks would run before the sanitizer's runtime
// starts and crash the program at load, so that build keeps the baseline only.
#if defined(__SANITIZE_THREAD__)
#define LONGCTX_CLONES
#else
#define LONGCTX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#include <cstdint>
#include <cstring>
#include <algorithm>

namespace longctx::model {

// exp(x) for x <= 0 (softmax after the max is subtracted): 2^n by exponent bits times a degree-6
// polynomial for e^r, |r| <= ln2/2; relative error below 2e-7, no library call, so loops over a
// row vectorize (std::exp was most of the attention time at long contexts).
inline float fast_exp(float x) {
  x = std::max(x, -87.0f);
  // Round to nearest by adding and subtracting 1.5 * 2^23 (no library call: the loop vectorizes).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// tanh(x) without a library call (so loops over a row vectorize): an odd Taylor polynomial for
// |x| < 0.3 (truncation below 2e-8), else (1 - e) / (1 + e) with e = fast_exp(-2|x|), whose
// relative error stays near fast_exp's 2e-7 there because 1 - e >= 0.45.
inline float fast_tanh(float x) {
  const float a = x < 0 ? -x : x;
  const float x2 = x * x;
  const float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
  const float e = fast_exp(-2.0f * a);
  const float big = (1.0f - e) / (1.0f + e);
  return a < 0.3f ? small : (x < 0 ? -big : big);
}

// row[j] = cap * tanh(row[j] / cap) for j < n (Gemma 2's soft-capping of scores and logits).
void softcap_row(float* row, uint64_t n, float cap);

// max of row[0, n) (-inf when n = 0).
float row_max(const float* row, uint64_t n);
// row[j] = exp(row[j] - mx) for j < n; returns their sum. 16 fixed lanes: the order of additions
// is fixed by the code, not by the instruction set picked at run time.
float exp_and_sum(float* row, uint64_t n, float mx);
// row[j] = exp(row[j] - sub) for j < n (the trainer's softmax from a saved log-sum-exp).
void exp_shifted(float* row, uint64_t n, float sub);

}  // namespace longctx::model
