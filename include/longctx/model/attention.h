// Causal attention tiled with an online softmax (FlashAttention-2's algorithm, the tiles as OpenBLAS
// GEMMs), for the engine's prefill (queries after a KV cache) and for training: the forward keeps
// only the output and, if asked, each row's log-sum-exp; the backward recomputes the probabilities
// tile by tile, so memory is linear in the sequence length. Optional document masking: query row r
// attends to keys [doc_start[r], p0 + r]; optional sliding window W: keys (p0 + r - W, p0 + r] only
// (transformers' sliding_window mask); optional soft-capping: scores -> cap * tanh(scores / cap)
// before the mask and the softmax (Gemma 2).
#pragma once
#include <cstdint>
#include <vector>

namespace longctx::model {

struct AttnShape {
  uint64_t T, H, KV, hd;  // query rows, query heads, key/value heads, head dimension
  float scale;            // 1/sqrt(hd), or the architecture's (query_pre_attn_scalar)
  uint64_t p0 = 0;        // position of query row 0; keys are rows [0, p0 + T) (the engine's KV cache)
  uint64_t bq = 64, bk = 256;  // tile sizes (query rows, keys)
  uint64_t window = 0;    // > 0: a query at position p sees keys in (p - window, p]
  // Key row 0 is position kbase: a sliding layer's KV cache drops keys no query can see any more.
  // Every key a query sees must be >= kbase (forward only; the backward needs 0).
  uint64_t kbase = 0;
  float softcap = 0.0f;   // > 0: scores -> softcap * tanh(scores / softcap)
};

struct AttnScratch {
  std::vector<float> s, dp, m, l, acc, d;
};

// One sequence, one query head h: q/o rows have H*hd floats, k/v rows KV*hd; lse (nullptr: not
// wanted) has T floats.
void attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                       const AttnShape& a, uint64_t h, AttnScratch& s);

// The same result with plain loops (full score rows, max-subtracted softmax): the engine's
// --reference path and the oracle the tiled version is tested against. lse as above.
void attention_reference(const float* q, const float* k, const float* v, float* o, float* lse, const uint32_t* doc_start,
                         const AttnShape& a, uint64_t h);

// One sequence, one key/value head g and every query head of its group: adds into dq (rows of the
// group's heads), and into dk, dv (column block g). Work items (sequence, g) touch disjoint memory.
// Training only: a.p0 must be 0 (queries and keys are the same T positions).
void attention_backward(const float* q, const float* k, const float* v, const float* o, const float* dout, const float* lse,
                        float* dq, float* dk, float* dv, const uint32_t* doc_start, const AttnShape& a, uint64_t g, AttnScratch& s);

}  // namespace longctx::model
