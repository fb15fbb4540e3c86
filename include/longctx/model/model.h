// A LLaMA-family decoder (LlamaForCausalLM / MistralForCausalLM) loaded from a Hugging Face
// checkpoint folder, run in f32 on the CPU: RMSNorm, RoPE (config.h), grouped-query attention
// tiled with an online softmax (memory linear in context length), SwiGLU, a KV cache, chunked
// prefill; GEMMs through OpenBLAS. bf16/f16 weights are widened to f32 when loaded.
//
//   auto m = Model::load("ckpt/");
//   Session s(*m, 4096);
//   std::vector<float> logits;
//   s.forward(prompt_ids, &logits);      // logits of the last position
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "longctx/model/config.h"

namespace longctx::model {

struct ModelOptions {
  double rope_theta = 0;         // > 0: overrides config.json's (the paper's adjusted base frequency)
  uint64_t dynamic_pin = 0;      // > 0: dynamic NTK's table fixed at this length (the paper: 81,920)
};

struct LayerWeights {
  std::vector<float> attn_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down;
};

class Model {
 public:
  // dir holds config.json and model.safetensors, or *.safetensors with model.safetensors.index.json.
  // Throws Error naming the file for anything missing, malformed or unsupported.
  static std::unique_ptr<Model> load(const std::string& dir, const ModelOptions& options = {});
  const LlamaConfig& config() const { return c_; }
  const ModelOptions& options() const { return opt_; }
  uint64_t parameters() const;

  LlamaConfig c_;
  ModelOptions opt_;
  std::vector<float> embed, final_norm, lm_head;  // lm_head empty when tied to embed
  std::vector<LayerWeights> layers;
  const float* output_weights() const { return lm_head.empty() ? embed.data() : lm_head.data(); }
};

// One sequence being processed: its KV cache and scratch buffers.
class Session {
 public:
  Session(const Model& m, uint64_t max_length);
  ~Session();
  void reset();
  uint64_t length() const { return pos_; }
  // Appends tokens (prefill in chunks of `chunk`); writes the last position's logits if asked.
  void forward(std::span<const uint32_t> tokens, std::vector<float>* last_logits);
  // Appends tokens and hands over the logits of every new position, a chunk at a time (never the
  // logits of the whole sequence at once): on_logits(i, logits) for i in [0, tokens.size()).
  void forward_all(std::span<const uint32_t> tokens, const std::function<void(uint64_t, const float*)>& on_logits);
  // Test oracle: plain loops instead of BLAS and the tiled attention.
  void set_reference(bool on) { reference_ = on; }
  uint64_t chunk = 256;

 private:
  void run_chunk(std::span<const uint32_t> tokens, bool want_logits, const std::function<void(uint64_t, const float*)>* on_logits,
                 uint64_t base_index, std::vector<float>* last_logits);
  const Model& m_;
  uint64_t max_len_, pos_ = 0;
  bool reference_ = false;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace longctx::model
