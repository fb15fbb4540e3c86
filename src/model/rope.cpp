// RoPE inverse frequencies for each rope_scaling type, as transformers computes them
// (modeling_rope_utils: _compute_default/linear/dynamic/yarn/llama3/longrope_parameters), in double,
// over the rotary dimensions (dim = int(head_dim x partial_rotary_factor) in every one of them, the
// dynamic NTK exponent dim / (dim - 2) included).
#include <algorithm>
#include <cmath>

#include "longctx/model/config.h"

namespace longctx::model {
namespace {

std::vector<double> default_inv_freq(double base, uint64_t dim) {
  std::vector<double> f(dim / 2);
  for (uint64_t i = 0; i < dim / 2; ++i)
    f[i] = 1.0 / std::pow(base, static_cast<double>(2 * i) / static_cast<double>(dim));
  return f;
}

// LongRoPE: inv_freq[i] = 1 / (ext[i] * base^(2i / dim)).
std::vector<double> longrope_inv_freq(double base, uint64_t dim, const std::vector<double>& ext) {
  std::vector<double> f = default_inv_freq(base, dim);
  for (uint64_t i = 0; i < f.size(); ++i) f[i] /= i < ext.size() ? ext[i] : 1.0;  // parse() checks the sizes
  return f;
}

}  // namespace

Rope::Rope(const ModelConfig& c, double theta_override, uint64_t pin_length, bool local)
    : c_(c),
      half_((c.rotary_dim ? c.rotary_dim : c.head_dim) / 2),
      pin_(pin_length),
      base_(theta_override > 0 ? theta_override : c.rope_theta) {
  if (local) {
    // Gemma 3's sliding layers: default RoPE with their own base; rope_scaling and theta_override
    // are the global layers'.
    c_.rope_scaling = RopeScaling{};
    base_ = c.rope_local_theta > 0 ? c.rope_local_theta : c.rope_theta;
  }
  const auto& s = c_.rope_scaling;
  const uint64_t dim = 2 * half_;
  inv_freq_ = default_inv_freq(base_, dim);
  if (s.type == "yarn") {
    const double factor = s.factor;
    const double orig = static_cast<double>(s.original_max_position_embeddings ? s.original_max_position_embeddings
                                                                               : c.max_position_embeddings);
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
  } else if (s.type == "longrope") {
    // parse() resolved original_max_position_embeddings and factor (docs/models.md).
    const double orig = static_cast<double>(s.original_max_position_embeddings ? s.original_max_position_embeddings
                                                                               : c.max_position_embeddings);
    scale_ = s.attention_factor > 0 ? s.attention_factor
                                    : (s.factor <= 1 ? 1.0 : std::sqrt(1 + std::log(s.factor) / std::log(orig)));
    inv_freq_ = longrope_inv_freq(base_, dim, s.short_factor);
  }
  const uint64_t initial = std::max<uint64_t>(c.max_position_embeddings, pin_);
  if (s.type == "dynamic" && pin_ > c.max_position_embeddings) {
    const double d = static_cast<double>(dim);
    build(pin_, base_ * std::pow(s.factor * static_cast<double>(pin_) / static_cast<double>(c.max_position_embeddings) -
                                     (s.factor - 1),
                                 d / (d - 2)));
  } else {
    // Built as far as needed (ensure grows it): max_position_embeddings may be millions of
    // positions that a run never reaches.
    build(std::min<uint64_t>(initial, 8192), base_);
  }
}

void Rope::build(uint64_t length, double base) {
  if (c_.rope_scaling.type == "dynamic") inv_freq_ = default_inv_freq(base, 2 * half_);
  cached_ = 0;
  extend(length);
}

void Rope::extend(uint64_t length) {
  const auto& s = c_.rope_scaling;
  cos_.resize(length * half_);
  sin_.resize(length * half_);
  const double linear = s.type == "linear" ? s.factor : 1.0;
  for (uint64_t p = cached_; p < length; ++p) {
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
  const auto& s = c_.rope_scaling;
  if (s.type == "longrope" && !long_) {
    const uint64_t orig =
        s.original_max_position_embeddings ? s.original_max_position_embeddings : c_.max_position_embeddings;
    if (length > orig) {
      // The sequence passes the original length: the long factors from now on, for every position
      // (keys already in a KV cache keep their rotation: the caller's business).
      long_ = true;
      inv_freq_ = longrope_inv_freq(base_, 2 * half_, s.long_factor);
      build(std::max(length, cached_), base_);
      return;
    }
  }
  if (length <= cached_) return;
  if (s.type == "dynamic" && pin_ == 0 && length <= c_.max_position_embeddings) {
    // Within max_position_embeddings the base does not grow; the table does, geometrically (decoding
    // adds one position at a time).
    extend(std::max(length, std::min(2 * cached_, c_.max_position_embeddings)));
  } else if (s.type == "dynamic" && pin_ == 0) {
    // transformers 4.35: a longer sequence rebuilds the table with a base grown for its length
    // (the exponent over the rotary dimensions, as _compute_dynamic_ntk_parameters).
    const double d = static_cast<double>(2 * half_);
    const double base =
        base_ * std::pow(s.factor * static_cast<double>(length) / static_cast<double>(c_.max_position_embeddings) -
                             (s.factor - 1),
                         d / (d - 2));
    build(length, base);
  } else if (s.type == "dynamic") {
    extend(length);  // pinned: positions past the pin keep the pinned base
  } else {
    extend(std::max(length, 2 * cached_));  // the same frequencies at every length: grown geometrically
  }
}

}  // namespace longctx::model
