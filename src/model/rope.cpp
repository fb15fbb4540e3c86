// RoPE inverse frequencies for each rope_scaling type, as transformers computes them
// (modeling_rope_utils: _compute_default/linear/dynamic/yarn/llama3_parameters), in double.
#include <algorithm>
#include <cmath>

#include "longctx/model/config.h"

namespace longctx::model {
namespace {

std::vector<double> default_inv_freq(double base, uint64_t dim) {
  std::vector<double> f(dim / 2);
  for (uint64_t i = 0; i < dim / 2; ++i) f[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / static_cast<double>(dim));
  return f;
}

}  // namespace

Rope::Rope(const LlamaConfig& c, double theta_override, uint64_t pin_length)
    : c_(c), half_(c.head_dim / 2), pin_(pin_length), base_(theta_override > 0 ? theta_override : c.rope_theta) {
  const auto& s = c.rope_scaling;
  const uint64_t dim = c.head_dim;
  inv_freq_ = default_inv_freq(base_, dim);
  if (s.type == "yarn") {
    const double factor = s.factor;
    const double orig = static_cast<double>(s.original_max_position_embeddings ? s.original_max_position_embeddings : c.max_position_embeddings);
    scale_ = s.attention_factor > 0 ? s.attention_factor : (factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0);
    auto correction_dim = [&](double rotations) {
      return (static_cast<double>(dim) * std::log(orig / (rotations * 2 * M_PI))) / (2 * std::log(base_));
    };
    double low = std::max(0.0, std::floor(correction_dim(s.beta_fast)));
    double high = std::min(static_cast<double>(dim - 1), std::ceil(correction_dim(s.beta_slow)));
    if (low == high) high += 0.001;
    for (uint64_t i = 0; i < half_; ++i) {
      const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
      const double extrapolation = 1.0 - ramp;  // 1: keep the original frequency
      const double pos_freq = std::pow(base_, static_cast<double>(2 * i) / static_cast<double>(dim));
      inv_freq_[i] = (1.0 / (factor * pos_freq)) * (1 - extrapolation) + (1.0 / pos_freq) * extrapolation;
    }
  } else if (s.type == "llama3") {
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
    for (auto& f : inv_freq_) {
      const double wavelen = 2 * M_PI / f;
      if (wavelen > low_wavelen) {
        f = f / s.factor;
      } else if (wavelen >= high_wavelen) {  // medium: interpolate smoothly
        const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
  }
  const uint64_t initial = std::max<uint64_t>(c.max_position_embeddings, pin_);
  if (s.type == "dynamic" && pin_ > c.max_position_embeddings) {
    build(pin_, base_ * std::pow(s.factor * static_cast<double>(pin_) / c.max_position_embeddings - (s.factor - 1),
                                 static_cast<double>(dim) / (dim - 2)));
  } else {
    // Built as far as needed (ensure grows it): max_position_embeddings may be millions of
    // positions that a run never reaches.
    build(std::min<uint64_t>(initial, 8192), base_);
  }
}

void Rope::build(uint64_t length, double base) {
  const auto& s = c_.rope_scaling;
  if (s.type == "dynamic") inv_freq_ = default_inv_freq(base, c_.head_dim);
  cos_.resize(length * half_);
  sin_.resize(length * half_);
  const double linear = s.type == "linear" ? s.factor : 1.0;
  for (uint64_t p = 0; p < length; ++p) {
    const double t = static_cast<double>(p) / linear;
    for (uint64_t i = 0; i < half_; ++i) {
      const double a = t * inv_freq_[i];
      cos_[p * half_ + i] = static_cast<float>(std::cos(a) * scale_);
      sin_[p * half_ + i] = static_cast<float>(std::sin(a) * scale_);
    }
  }
  cached_ = length;
}

void Rope::ensure(uint64_t length) {
  if (length <= cached_) return;
  const auto& s = c_.rope_scaling;
  if (s.type == "dynamic" && pin_ == 0 && length <= c_.max_position_embeddings) {
    // Within max_position_embeddings the base does not grow; the table does, geometrically (decoding
    // adds one position at a time).
    build(std::max(length, std::min(2 * cached_, c_.max_position_embeddings)), base_);
  } else if (s.type == "dynamic" && pin_ == 0) {
    // transformers 4.35: a longer sequence rebuilds the table with a base grown for its length.
    const double d = static_cast<double>(c_.head_dim);
    const double base = base_ * std::pow(s.factor * static_cast<double>(length) / c_.max_position_embeddings - (s.factor - 1), d / (d - 2));
    build(length, base);
  } else if (s.type == "dynamic") {
    // Pinned: positions past the pin keep the pinned base.
    const std::vector<double> keep = inv_freq_;
    const uint64_t old = cached_;
    cos_.resize(length * half_);
    sin_.resize(length * half_);
    for (uint64_t p = old; p < length; ++p)
      for (uint64_t i = 0; i < half_; ++i) {
        cos_[p * half_ + i] = static_cast<float>(std::cos(static_cast<double>(p) * keep[i]) * scale_);
        sin_[p * half_ + i] = static_cast<float>(std::sin(static_cast<double>(p) * keep[i]) * scale_);
      }
    cached_ = length;
  } else {
    build(std::max(length, 2 * cached_), base_);  // the same frequencies at every length: grown geometrically
  }
}

}  // namespace longctx::model
