// The training pass of the one model definition (src/model/decoder.h) on B sequences of T tokens
// at once (GEMMs over all B*T rows): the layer loop forward keeping every activation the backward
// needs, a cross-entropy computed a chunk of rows at a time (the B*T*V logits never exist at
// once), then the layers' backward in reverse. Every architecture the engine runs trains.
//
// The loss of a sequence is the mean cross-entropy of its T - 1 next-token predictions (as
// eval-loss); forward_backward adds weight * d(sum of the B sequence losses)/d(params) to grad.
// Reductions run in a fixed order: the same inputs give the same bits on any thread count.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "longctx/model/config.h"
#include "longctx/model/weights.h"

namespace longctx::train {

class ModelGrad {
 public:
  // c: the training config (its rope_theta / rope_scaling are the ones trained with).
  ModelGrad(const model::ModelConfig& c, const model::WeightLayout& layout, int threads);
  ~ModelGrad();
  // tokens: B*T ids; doc_start: B*T first positions of each position's document (nullptr: plain
  // causal attention over the whole sequence). Returns the B sequence losses.
  std::vector<double> forward_backward(const float* params, float* grad, const uint32_t* tokens, uint64_t B, uint64_t T,
                                       const uint32_t* doc_start, float weight);
  // Bytes held for activations and backward temporaries at the last call's B*T.
  uint64_t workspace_bytes() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace longctx::train
