// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments, eps added
// after the square root), global-norm gradient clipping as torch.nn.utils.clip_grad_norm_, and the
// learning-rate schedules of Hugging Face's get_constant_schedule_with_warmup and
// get_cosine_schedule_with_warmup (the step index counts from 0, so a warmup starts at lr 0).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "longctx/model/weights.h"

namespace longctx::train {

struct AdamWOptions {
  double lr = 2e-5, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

struct Schedule {
  std::string kind = "constant";  // constant | cosine
  uint64_t warmup = 0, total = 0;
  double min_ratio = 0.0;  // cosine: the floor as a fraction of the peak (ProLong: 0.1)
  // The learning-rate multiplier for optimizer step `step` (0 = the first step).
  double factor(uint64_t step) const;
};

// sqrt(sum g^2) in double, in a fixed order.
double global_norm(const float* g, uint64_t n);
// g *= max_norm / (norm + 1e-6) when that is below 1 (torch's clip_grad_norm_).
void clip_gradients(float* g, uint64_t n, double norm, double max_norm);

class AdamW {
 public:
  AdamW(const model::WeightLayout& layout, const AdamWOptions& o);
  // One step (t = steps taken so far + 1) at learning rate lr. Weight decay applies to the tensors
  // the layout marks (matrices, not RMSNorm gains), as Hugging Face's Trainer groups them.
  void step(float* params, const float* grad, double lr);
  uint64_t steps() const { return t_; }
  void set_steps(uint64_t t) { t_ = t; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }

 private:
  const model::WeightLayout& lay_;
  AdamWOptions o_;
  uint64_t t_ = 0;
  std::vector<float> m_, v_;
  std::vector<uint8_t> decay_;  // per element of the flat buffer
};

}  // namespace longctx::train
