// The one weight store of a model: every parameter in one flat f32 buffer, with a table mapping
// each Hugging Face tensor name to its offset and exact shape, built from the config. The engine
// reads its weights through it, the trainer's optimizer, gradient allreduce and checkpoints work
// on the whole buffer at once, and the layer code addresses tensors by offset (LayerSlots).
//
// Fused tensors (Phi-3's qkv_proj and gate_up_proj) are one tensor in the table; the slots of
// their parts point inside it (rows of a [out, in] matrix are contiguous), so the layer code
// never knows whether a projection was fused.
//
//   WeightLayout lay(config);
//   std::vector<float> p(lay.total());
//   lay.load(p.data(), "ckpt/");                 // or lay.init_random(p.data(), seed, 0.02)
//   lay.save(p.data(), config_json, "out/");     // config.json + model.safetensors
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "longctx/model/config.h"
#include "longctx/model/safetensors.h"

namespace longctx::model {

constexpr uint64_t kNoSlot = ~uint64_t{0};  // a slot the architecture does not have

struct TensorSlot {
  std::string name;
  std::vector<uint64_t> shape;
  uint64_t offset = 0, size = 0;
  bool decay = false;  // weight decay applies to matrices (embeddings included), not to norms or biases
  enum Init : uint8_t { kNormal, kOnes, kZeros } init = kNormal;  // transformers' initialisation
};

// Offsets of one layer's tensors in the flat buffer (kNoSlot: absent in this architecture).
struct LayerSlots {
  uint64_t attn_norm = kNoSlot;       // input_layernorm
  uint64_t wq = kNoSlot, wk = kNoSlot, wv = kNoSlot, wo = kNoSlot;
  uint64_t bq = kNoSlot, bk = kNoSlot, bv = kNoSlot, bo = kNoSlot;
  uint64_t q_norm = kNoSlot, k_norm = kNoSlot;  // per-head RMSNorm [head_dim]
  uint64_t post_attn_norm = kNoSlot;  // Gemma: norm of the attention output before the residual add
  uint64_t mlp_norm = kNoSlot;        // post_attention_layernorm (LLaMA) / pre_feedforward_layernorm (Gemma)
  uint64_t post_mlp_norm = kNoSlot;   // Gemma: post_feedforward_layernorm
  uint64_t w_gate = kNoSlot, w_up = kNoSlot, w_down = kNoSlot;
  uint64_t b_gate = kNoSlot, b_up = kNoSlot, b_down = kNoSlot;
};

class WeightLayout {
 public:
  explicit WeightLayout(const ModelConfig& c);
  uint64_t total() const { return total_; }          // floats in the buffer (tensors 64-byte aligned)
  uint64_t parameters() const;                         // sum of the tensors' sizes
  const std::vector<TensorSlot>& tensors() const { return tensors_; }
  uint64_t embed() const { return embed_; }
  uint64_t final_norm() const { return final_norm_; }
  uint64_t lm_head() const { return lm_head_; }  // == embed() when tied
  const std::vector<LayerSlots>& layers() const { return layers_; }
  // Reads a checkpoint folder's weights (one safetensors file, or shards with an index; any dtype
  // the engine reads), after checking every header first: each tensor the config implies present
  // once with its exact shape, nothing else (rotary_emb.inv_freq buffers aside). Throws Error
  // naming the folder or file and the tensor otherwise.
  void load(float* params, const std::string& dir) const;
  // load in two steps, so a caller can check the headers before it allocates the buffer (a
  // config.json of a few bytes can claim any size; the weights files must back it).
  struct CheckedFiles {
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    std::map<std::string, const SafetensorsFile*> where;  // tensor -> its file
  };
  CheckedFiles check(const std::string& dir) const;
  void load(float* params, const CheckedFiles& checked) const;
  // transformers' initialisation: N(0, std) for every matrix, 1 for RMSNorm gains (0 for Gemma's
  // 1 + w gains), 0 for biases; a normal sequence fixed by this code (xoshiro256** + Box-Muller),
  // not by the standard library.
  void init_random(float* params, uint64_t seed, double std) const;
  // Writes DIR/model.safetensors (f32) and DIR/config.json (the text given).
  void save(const float* params, const std::string& config_json, const std::string& dir) const;
  // Writes buffers with this layout into one file, each tensor as PREFIX + name (the optimizer's
  // moments: exp_avg.NAME and exp_avg_sq.NAME, torch's state names). With `fill`, the buffers may
  // be null: fill(i) supplies tensor i (buffer by buffer, tensors in layout order) as it is written.
  void save_buffers(const std::vector<std::pair<const float*, std::string>>& bufs, const std::string& path,
                    const TensorFill& fill = nullptr) const;
  void load_buffer(float* buf, const std::string& prefix, const std::string& path) const;
  // Elements [begin, end) of that buffer only, into dst (end - begin elements): a shard, reading
  // the tensors that overlap it one at a time (memory: the largest of them, not the buffer).
  void load_buffer_range(float* dst, const std::string& prefix, const std::string& path, uint64_t begin, uint64_t end) const;

 private:
  uint64_t add(const std::string& name, std::vector<uint64_t> shape, TensorSlot::Init init, bool decay);
  std::vector<TensorSlot> tensors_;
  std::vector<LayerSlots> layers_;
  uint64_t total_ = 0, embed_ = 0, final_norm_ = 0, lm_head_ = 0;
  std::string family_;  // for error messages
};

}  // namespace longctx::model
