// The inference engine: a decoder of any architecture of docs/models.md (LLaMA, Mistral, Qwen2/3,
// Gemma 2/3, Phi-3) loaded from a Hugging Face checkpoint folder into the one weight store
// (weights.h) and run in f32 by the one layer loop (decoder.h) on the CPU backend: attention tiled
// with an online softmax (memory linear in context length), a KV cache, chunked prefill; GEMMs
// through OpenBLAS. bf16/f16 weights are widened to f32 when loaded.
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
#include "longctx/model/weights.h"

namespace longctx::model {

struct ModelOptions {
  double rope_theta = 0;         // > 0: overrides config.json's (the paper's adjusted base frequency)
  uint64_t dynamic_pin = 0;      // > 0: dynamic NTK's table fixed at this length (the paper: 81,920)
};

class Model {
 public:
  // dir holds config.json and model.safetensors, or *.safetensors with model.safetensors.index.json.
  // Throws Error naming the file for anything missing, malformed or unsupported.
  static std::unique_ptr<Model> load(const std::string& dir, const ModelOptions& options = {});
  // A model with these weights (benchmarks, tests): params has layout().total() floats.
  Model(const ModelConfig& c, std::vector<float> params, const ModelOptions& options = {});
  const ModelConfig& config() const { return c_; }
  const ModelOptions& options() const { return opt_; }
  const WeightLayout& layout() const { return lay_; }
  const float* params() const { return params_.data(); }
  uint64_t parameters() const { return lay_.parameters(); }

 private:
  ModelConfig c_;
  ModelOptions opt_;
  WeightLayout lay_;
  std::vector<float> params_;
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
  void set_reference(bool on);
  uint64_t chunk = 256;
  // Attention tiles (query rows, keys) of the tiled kernel; tests shrink them to exercise tile
  // boundaries and the sliding-window cache's shifts on short sequences.
  uint64_t query_tile = 128, key_tile = 512;

 private:
  // A sliding layer's cache: drops the keys no query from pos_ on can see when n more rows would
  // not fit.
  void make_room(uint64_t layer, uint64_t n);
  void run_chunk(std::span<const uint32_t> tokens, bool want_logits, const std::function<void(uint64_t, const float*)>* on_logits,
                 uint64_t base_index, std::vector<float>* last_logits);
  const Model& m_;
  uint64_t max_len_, pos_ = 0;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace longctx::model
