// Small numeric kernels shared by the engine and the trainer: a vectorizable exp and the softmax
// row loops (compiled for AVX-512, AVX2 and baseline x86-64, picked at run time).
#pragma once
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

// max of row[0, n) (-inf when n = 0).
float row_max(const float* row, uint64_t n);
// row[j] = exp(row[j] - mx) for j < n; returns their sum. 16 fixed lanes: the order of additions
// is fixed by the code, not by the instruction set picked at run time.
float exp_and_sum(float* row, uint64_t n, float mx);
// row[j] = exp(row[j] - sub) for j < n (the trainer's softmax from a saved log-sum-exp).
void exp_shifted(float* row, uint64_t n, float sub);

}  // namespace longctx::model
