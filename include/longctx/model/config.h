// A LLaMA-family model's config.json (LlamaForCausalLM, MistralForCausalLM), and its RoPE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace longctx::model {

struct RopeScaling {
  // none | linear | dynamic | yarn | llama3 (rope_scaling "type" or "rope_type"; "default" = none)
  std::string type = "none";
  double factor = 1.0;
  uint64_t original_max_position_embeddings = 0;  // yarn, llama3 (0: max_position_embeddings)
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  double attention_factor = 0.0;                         // yarn (0: 0.1 ln(factor) + 1)
};

struct LlamaConfig {
  std::string architecture;  // LlamaForCausalLM | MistralForCausalLM
  uint64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_hidden_layers = 0;
  uint64_t num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, max_position_embeddings = 0;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::vector<uint32_t> eos_token_ids;  // generation stops at these (config.json eos_token_id)
  RopeScaling rope_scaling;
  // Throws Error("PATH: ...") for anything missing, inconsistent or unsupported (an unknown
  // rope_scaling type, sliding windows, biases, another architecture...): one line, naming the key,
  // what was expected and what was found for a wrong value (a size that is not a positive JSON
  // integer within bounds, heads that do not divide, eps or theta not finite and > 0...). A config
  // that parses has every weight matrix and the whole model within 2^40 elements.
  static LlamaConfig load(const std::string& path);
  // The same from config.json's text; `path` names it in errors.
  static LlamaConfig parse(const std::string& text, const std::string& path);
};

// RoPE tables as Hugging Face applies them: rotate-half pairs (i, i + d/2); angles computed in
// double. Dynamic NTK follows transformers 4.35: the base grows with the sequence length once it
// passes max_position_embeddings (recomputed when a longer sequence is seen), unless pinned.
class Rope {
 public:
  // pin_length > 0: dynamic NTK's table is computed once for this length (the paper's evaluation
  // code pins 81,920).
  Rope(const LlamaConfig& c, double theta_override = 0.0, uint64_t pin_length = 0);
  // Prepares the table for positions [0, length) (dynamic NTK may change the base).
  void ensure(uint64_t length);
  // cos and sin of position p: head_dim/2 values each (the same for both halves).
  const float* cos(uint64_t p) const { return cos_.data() + p * half_; }
  const float* sin(uint64_t p) const { return sin_.data() + p * half_; }
  double base() const { return base_; }
  const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  void build(uint64_t length, double base);
  LlamaConfig c_;
  uint64_t half_, cached_ = 0, pin_;
  double base_, scale_ = 1.0;  // yarn's attention factor multiplies cos and sin
  std::vector<double> inv_freq_;
  std::vector<float> cos_, sin_;
};

}  // namespace longctx::model
