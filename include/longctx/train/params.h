// A LLaMA model's parameters as one flat f32 buffer with named views (Hugging Face tensor names):
// the optimizer, the gradient allreduce and checkpoints work on the whole buffer at once, and the
// forward/backward pass addresses tensors by offset.
//
//   ParamLayout lay(config);
//   std::vector<float> p(lay.total());
//   lay.load(p.data(), "ckpt/");                 // or lay.init_random(p.data(), seed)
//   lay.save(p.data(), config_json, "out/");     // config.json + model.safetensors
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "longctx/model/config.h"

namespace longctx::train {

struct TensorSlot {
  std::string name;
  std::vector<uint64_t> shape;
  uint64_t offset = 0, size = 0;
  bool decay = false;  // weight decay applies to matrices (embeddings included), not to RMSNorm gains
  bool norm = false;   // an RMSNorm gain (initialised to 1)
};

// Offsets of one layer's tensors in the flat buffer.
struct LayerSlots {
  uint64_t attn_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down;
};

class ParamLayout {
 public:
  explicit ParamLayout(const model::LlamaConfig& c);
  uint64_t total() const { return total_; }
  const std::vector<TensorSlot>& tensors() const { return tensors_; }
  uint64_t embed() const { return embed_; }
  uint64_t final_norm() const { return final_norm_; }
  uint64_t lm_head() const { return lm_head_; }  // == embed() when tied
  const std::vector<LayerSlots>& layers() const { return layers_; }
  // Reads a checkpoint folder's weights (any dtype the engine reads; sharded or not). Throws Error
  // naming the folder or file for a missing, extra or mis-shaped tensor.
  void load(float* params, const std::string& dir) const;
  // Hugging Face's LlamaPreTrainedModel initialisation: N(0, std) for every matrix, 1 for the
  // RMSNorm gains; a normal sequence fixed by this code (xoshiro256** + Box-Muller), not by the
  // standard library.
  void init_random(float* params, uint64_t seed, double std) const;
  // Writes DIR/model.safetensors (f32) and DIR/config.json (the text given).
  void save(const float* params, const std::string& config_json, const std::string& dir) const;
  // Writes buffers with this layout into one file, each tensor as PREFIX + name (the optimizer's
  // moments: exp_avg.NAME and exp_avg_sq.NAME, torch's state names).
  void save_buffers(const std::vector<std::pair<const float*, std::string>>& bufs, const std::string& path) const;
  void load_buffer(float* buf, const std::string& prefix, const std::string& path) const;

 private:
  uint64_t add(const std::string& name, std::vector<uint64_t> shape, bool decay, bool norm);
  std::vector<TensorSlot> tensors_;
  std::vector<LayerSlots> layers_;
  uint64_t total_ = 0, embed_ = 0, final_norm_ = 0, lm_head_ = 0;
};

}  // namespace longctx::train
