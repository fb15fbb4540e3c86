// Causal attention for training, tiled with an online softmax (FlashAttention-2's algorithm, the
// tiles as OpenBLAS GEMMs): the forward keeps only the output and each row's log-sum-exp, and the
// backward recomputes the probabilities tile by tile, so memory is linear in the sequence length.
// Optional document masking: row r attends to keys [doc_start[r], r].
#pragma once
#include <cstdint>
#include <vector>

namespace longctx::train {

struct AttnShape {
  uint64_t T, H, KV, hd;  // sequence length, query heads, key/value heads, head dimension
  float scale;            // 1/sqrt(hd)
};

struct AttnScratch {
  std::vector<float> s, dp, m, l, acc, d;
};

// One sequence, one query head h: q/o rows have H*hd floats, k/v rows KV*hd; lse has T floats.
void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                       const AttnShape& a, uint64_t h, AttnScratch& s);

// One sequence, one key/value head g and every query head of its group: adds into dq (rows of the
// group's heads), and into dk, dv (column block g). Work items (sequence, g) touch disjoint memory.
void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                        float* dq, float* dk, float* dv, const uint32_t* doc_start, const AttnShape& a, uint64_t g, AttnScratch& s);

}  // namespace longctx::train
