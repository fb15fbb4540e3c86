// A decoder-only model's config.json, for every architecture longctx runs (LLaMA 1/2/3.x, Mistral,
// Qwen2/2.5, Qwen3, Gemma 2, Gemma 3 text, Phi-3/Phi-4-mini), read into one description of the
// features the one model definition (weights.h, backend.h, decoder.h) implements: optional biases,
// q/k RMSNorm, the `1 + w` norm, sandwich norms, SwiGLU or GeGLU, embedding scaling, attention and
// final-logit soft-capping, query_pre_attn_scalar, sliding windows per layer with their own RoPE
// base, fused projections and partial rotary dimensions. Also the RoPE tables (class Rope).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longctx::model {

struct RopeScaling {
  // none | linear | dynamic | yarn | llama3 | longrope (rope_scaling "type" or "rope_type";
  // "default" = none, Phi-3's older "su" = longrope)
  std::string type = "none";
  double factor = 1.0;
  uint64_t original_max_position_embeddings = 0;  // yarn, llama3, longrope (0: max_position_embeddings)
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  double attention_factor = 0.0;                         // yarn, longrope (0: derived from the factor)
  std::vector<double> short_factor, long_factor;         // longrope: rotary_dim / 2 values each
};

enum class Family { Llama, Mistral, Qwen2, Qwen3, Gemma2, Gemma3, Phi3 };
enum class Activation { SiLU, GeluTanh };  // SwiGLU (silu) or GeGLU (gelu_pytorch_tanh)

struct ModelConfig {
  std::string architecture;  // config.json "architectures"[0], e.g. Qwen2ForCausalLM
  Family family = Family::Llama;
  uint64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  uint64_t num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, max_position_embeddings = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::vector<uint32_t> eos_token_ids;  // generation stops at these (config.json eos_token_id)
  RopeScaling rope_scaling;

  // Architecture features (defaults: LLaMA).
  bool qkv_bias = false;       // q/k/v projections have biases (Qwen2, LLaMA attention_bias)
  bool o_bias = false;         // o_proj has a bias (LLaMA attention_bias)
  bool mlp_bias = false;       // gate/up/down have biases (LLaMA mlp_bias)
  bool qk_norm = false;        // RMSNorm over each query and key head before RoPE (Qwen3, Gemma 3)
  bool norm_plus_one = false;  // RMSNorm scales by (1 + w) (Gemma); weights initialise to 0
  bool sandwich_norms = false; // Gemma 2/3: post-attention and post-feedforward norms on the branch outputs
  bool fused_qkv = false;      // one qkv_proj [q; k; v] (Phi-3)
  bool fused_gate_up = false;  // one gate_up_proj [gate; up] (Phi-3)
  Activation activation = Activation::SiLU;
  float embed_scale = 1.0f;         // embeddings multiplied by this (Gemma: sqrt(hidden_size) in f32)
  float attn_scale = 0.0f;          // score scale: 1/sqrt(query_pre_attn_scalar or head_dim)
  double attn_softcap = 0.0;        // > 0: scores -> cap * tanh(scores / cap) before the mask (Gemma 2)
  double final_softcap = 0.0;       // > 0: logits -> cap * tanh(logits / cap) (Gemma 2)
  uint64_t sliding_window = 0;      // > 0: a sliding layer's query at p sees keys (p - window, p]
  std::vector<uint8_t> layer_sliding;  // per layer: 1 = sliding (local), 0 = full (global)
  double rope_local_theta = 0.0;    // > 0: sliding layers use default RoPE with this base (Gemma 3)
  uint64_t rotary_dim = 0;          // dimensions rotated per head (partial_rotary_factor; = head_dim by default)

  bool sliding(uint64_t layer) const { return sliding_window > 0 && layer_sliding[layer] != 0; }

  // Throws Error("PATH: ...") for anything missing, inconsistent or unsupported: one line naming the
  // key, what was expected and what was found (a size that is not a positive JSON integer within
  // bounds, heads that do not divide, eps or theta not finite and > 0, an architecture or feature
  // not implemented...). A config that parses has every weight matrix and the whole model within
  // 2^40 elements.
  static ModelConfig load(const std::string& path);
  // The same from config.json's text; `path` names it in errors.
  static ModelConfig parse(const std::string& text, const std::string& path);
};

// The name the code used when only LLaMA ran.
using LlamaConfig = ModelConfig;

// RoPE tables as Hugging Face applies them: rotate-half pairs (i, i + rotary_dim/2) over the first
// rotary_dim dimensions of a head; angles computed in double. Dynamic NTK follows transformers
// 4.35: the base grows with the sequence length once it passes max_position_embeddings (recomputed
// when a longer sequence is seen), unless pinned. LongRoPE follows transformers' Phi-3: the short
// factors until the sequence passes original_max_position_embeddings, the long ones after (a
// table already used keeps its values for the positions before, as a KV cache does).
class Rope {
 public:
  // pin_length > 0: dynamic NTK's table is computed once for this length (the paper's evaluation
  // code pins 81,920). local: the table of Gemma 3's sliding layers (rope_local_theta, no scaling).
  Rope(const ModelConfig& c, double theta_override = 0.0, uint64_t pin_length = 0, bool local = false);
  // Prepares the table for positions [0, length) (dynamic NTK and LongRoPE may change it).
  void ensure(uint64_t length);
  // cos and sin of position p: rotary_dim/2 values each (the same for both halves).
  const float* cos(uint64_t p) const { return cos_.data() + p * half_; }
  const float* sin(uint64_t p) const { return sin_.data() + p * half_; }
  uint64_t rotary_dim() const { return 2 * half_; }
  double base() const { return base_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  void build(uint64_t length, double base);
  void extend(uint64_t length);  // positions [cached_, length) with the current frequencies
  ModelConfig c_;
  uint64_t half_, cached_ = 0, pin_;
  double base_, scale_ = 1.0;  // yarn's and longrope's attention factor multiplies cos and sin
  bool long_ = false;          // longrope: the long factors are in use
  std::vector<double> inv_freq_;
  std::vector<float> cos_, sin_;
};

}  // namespace longctx::model
