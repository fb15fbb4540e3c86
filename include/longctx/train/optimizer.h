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

// sum g^2 in double, in a fixed order (the global gradient norm is its square root).
double sum_squares(const float* g, uint64_t n);
// g *= max_norm / (norm + 1e-6) when that is below 1 (torch's clip_grad_norm_).
void clip_gradients(float* g, uint64_t n, double norm, double max_norm);

class AdamW {
 public:
  // The moments of elements [begin, end) of the layout's flat buffer ([0, layout.total()): all of
  // it). A shard (ZeRO-1) keeps only its own: the ranks of a data-parallel run each update their
  // shard and share the parameters afterwards.
  AdamW(const model::WeightLayout& layout, const AdamWOptions& o, uint64_t begin, uint64_t end);
  // One step (t = steps taken so far + 1) at learning rate lr, on the shard: params and grad point
  // at its first element (params + begin() and the shard's gradient, for a shard). Weight decay
  // applies to the tensors the layout marks (matrices, not RMSNorm gains), as Hugging Face's
  // Trainer groups them. Each element's update is the same arithmetic whatever the shard.
  void step(float* params, const float* grad, double lr);
  uint64_t begin() const { return begin_; }
  uint64_t size() const { return m_.size(); }
  uint64_t steps() const { return t_; }
  void set_steps(uint64_t t) { t_ = t; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }

 private:
  AdamWOptions o_;
  uint64_t t_ = 0;
  uint64_t begin_ = 0;
  std::vector<float> m_, v_;    // per element of the shard
  std::vector<uint8_t> decay_;  // per element of the shard
};

}  // namespace longctx::train
