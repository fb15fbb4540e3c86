#include "longctx/train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace longctx::train {

double Schedule::factor(uint64_t step) const {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<uint64_t>(1, warmup));
  if (kind != "cosine") return 1.0;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<uint64_t>(1, total - warmup));
  const double c = 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
  return min_ratio + (1.0 - min_ratio) * c;
}

double sum_squares(const float* g, uint64_t n) {
  double s = 0;
  for (uint64_t i = 0; i < n; ++i) s += static_cast<double>(g[i]) * g[i];
  return s;
}

void clip_gradients(float* g, uint64_t n, double norm, double max_norm) {
  const double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0) return;
  const auto c = static_cast<float>(coef);
  for (uint64_t i = 0; i < n; ++i) g[i] *= c;
}

AdamW::AdamW(const model::WeightLayout& layout, const AdamWOptions& o, uint64_t begin, uint64_t end)
    : o_(o), begin_(begin) {
  m_.assign(end - begin, 0.0f);
  v_.assign(end - begin, 0.0f);
  decay_.assign(end - begin, 0);
  for (const auto& t : layout.tensors()) {
    if (!t.decay) continue;
    const uint64_t a = std::max<uint64_t>(t.offset, begin), b = std::min<uint64_t>(t.offset + t.size, end);
    if (a < b) std::fill(decay_.begin() + static_cast<int64_t>(a - begin), decay_.begin() + static_cast<int64_t>(b - begin), 1);
  }
}

void AdamW::step(float* p, const float* g, double lr) {
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
  const auto step_size = static_cast<float>(lr / bc1);
  const auto inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const auto b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2), eps = static_cast<float>(o_.eps);
  const auto keep = static_cast<float>(1.0 - lr * o_.weight_decay);
  const uint64_t n = m_.size();
  for (uint64_t i = 0; i < n; ++i) {
    if (decay_[i]) p[i] *= keep;
    m_[i] = b1 * m_[i] + (1.0f - b1) * g[i];
    v_[i] = b2 * v_[i] + (1.0f - b2) * g[i] * g[i];
    p[i] -= step_size * m_[i] / (std::sqrt(v_[i]) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace longctx::train
