// The layer loop of the one model definition (docs/models.md, "One layer"), written once over the
// backend's kernels (backend.h) and the weight store's slots (weights.h): the engine's Session
// runs `layer_forward` over a chunk of rows with its KV cache, the trainer runs it over B packed
// sequences keeping the activations, then `layer_backward` in reverse.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "longctx/model/attention.h"
#include "longctx/model/backend.h"
#include "longctx/model/config.h"
#include "longctx/model/weights.h"

namespace longctx::model {

// The RoPE tables a model's layers use: the global one (rope_theta / rope_scaling, the
// --rope-theta override, dynamic NTK's pin) and, for Gemma 3, the sliding layers' local one
// (rope_local_base_freq). The engine's Session and the trainer hold one each.
class LayerRopes {
 public:
  explicit LayerRopes(const ModelConfig& c, double theta_override = 0.0, uint64_t pin_length = 0);
  const Rope& for_layer(uint64_t layer) const { return local_ && local_layer_[layer] ? *local_ : global_; }
  // Prepares every table for positions [0, length) (Rope::ensure).
  void ensure(uint64_t length);

 private:
  Rope global_;
  std::optional<Rope> local_;
  std::vector<uint8_t> local_layer_;  // per layer: 1 = uses the local table
};

// One layer's values on N rows (buffers sized on use; the trainer keeps one per layer).
struct LayerActs {
  std::vector<float> xin;            // the layer's input (kept only when training)
  std::vector<float> r1, xn1;        // input norm: 1/rms per row, output [N, d]
  std::vector<float> q, k, v;        // [N, H*hd], [N, KV*hd]; q and k after their norms and RoPE
  std::vector<float> q_in, k_in, rq, rk;  // q/k norm (Qwen3, Gemma 3): inputs and 1/rms per head row
  std::vector<float> o, lse;         // attention output [N, H*hd]; log-sum-exp [B, H, T] (training)
  std::vector<float> ao, ra;         // o_proj output (training, Gemma), post-attention norm's 1/rms (Gemma)
  std::vector<float> xmid, r2, xn2;  // residual after attention (training); MLP input norm
  std::vector<float> g, u;           // gate, up [N, I]
  std::vector<float> mo, rm;         // down_proj output (training, Gemma), post-feedforward norm's 1/rms (Gemma)
};

// Forward values no backward keeps (act(g) * u is recomputed; branch outputs feed only Gemma's
// sandwich norms): one set shared by every layer.
struct LayerScratch {
  std::vector<float> h, ao, mo, normed;
};

// The rows a pass runs over: N rows, row r at position p0 + r % period (the trainer: B sequences
// of period T from 0; the engine: one chunk after p0 cached positions).
struct Rows {
  uint64_t N, p0, period;
  bool keep;  // training: keep what the backward needs
};

// The attention of a layer: fills a.o (and a.lse when training) from a.q, a.k, a.v. The engine's
// appends k/v to its cache first; `shape` carries the layer's scale, window and soft-cap.
using AttendFn = std::function<void(LayerActs& a, AttnShape shape)>;
// The backward of the attention: adds into dq, dk, dv from dO.
using AttendBackFn = std::function<void(const LayerActs& a, const float* dO, float* dq, float* dk, float* dv, AttnShape shape)>;

// The layer's attention shape for T query rows after p0 keys (tile sizes left at the defaults).
AttnShape layer_attention(const ModelConfig& c, uint64_t layer, uint64_t T, uint64_t p0);

// x[n, d] = embed_tokens[tokens] * embed_scale. Throws Error for an id outside the vocabulary.
void embed(const ModelConfig& c, const WeightLayout& lay, const float* P, const uint32_t* tokens, uint64_t n, float* x);
// G's embedding rows += dx * embed_scale, rows in order (a fixed summation order for repeated ids).
void embed_backward(const ModelConfig& c, const WeightLayout& lay, float* G, const uint32_t* tokens, uint64_t n, const float* dx);

// One layer on x[N, d] in place.
void layer_forward(const Kernels& K, const ModelConfig& c, const float* P, const LayerSlots& w, const Rope& rope, uint64_t layer,
                   const Rows& rows, float* x, LayerActs& a, LayerScratch& t, const AttendFn& attend);

// Temporaries of the backward, reused across layers.
struct LayerGradScratch {
  std::vector<float> dxn, dh, dg, du, dO, dq, dk, dv, dbranch, dqk;
};

// dx[N, d]: d(loss)/d(the layer's output) in, d(loss)/d(its input) out; parameter gradients are
// added into G at the layer's slots.
void layer_backward(const Kernels& K, const ModelConfig& c, const float* P, float* G, const LayerSlots& w, const Rope& rope,
                    uint64_t layer, const Rows& rows, const LayerActs& a, float* dx, LayerGradScratch& s, const AttendBackFn& attend_back);

// logits[n, V] = xn[n, d] . W_out^T, soft-capped when the config says so.
void output_logits(const Kernels& K, const ModelConfig& c, const WeightLayout& lay, const float* P, const float* xn, uint64_t n,
                   float* logits);

}  // namespace longctx::model
