// One decoder layer, forward and backward, for every architecture of docs/models.md: the
// features are switches of ModelConfig and slots of the weight store that may be absent.
#include "longctx/model/decoder.h"

#include <algorithm>

#include "longctx/util/error.h"

namespace longctx::model {
namespace {

const float* at(const float* P, uint64_t slot) { return slot == kNoSlot ? nullptr : P + slot; }
float* at(float* G, uint64_t slot) { return slot == kNoSlot ? nullptr : G + slot; }

// Resizes without keeping contents (assign would rewrite every element each layer).
void size(std::vector<float>& v, uint64_t n) {
  if (v.size() != n) v.resize(n);
}

// x[N, d] += a branch's output, normalised first (rstd kept) under Gemma's sandwich norms.
void add_branch(const Kernels& K, const ModelConfig& c, const float* P, uint64_t post_norm, const float* branch, std::vector<float>& rstd,
                LayerScratch& t, uint64_t N, float* x) {
  const uint64_t d = c.hidden_size;
  if (!c.sandwich_norms) {
    K.add(x, branch, N * d);
    return;
  }
  size(rstd, N);
  size(t.normed, N * d);
  K.rmsnorm(branch, P + post_norm, t.normed.data(), rstd.data(), N, d, static_cast<float>(c.rms_norm_eps), c.norm_plus_one);
  K.add(x, t.normed.data(), N * d);
}

}  // namespace

LayerRopes::LayerRopes(const ModelConfig& c, double theta_override, uint64_t pin_length)
    : global_(c, theta_override, pin_length), local_layer_(c.num_hidden_layers, 0) {
  if (c.rope_local_theta <= 0) return;
  local_.emplace(c, 0.0, 0, true);
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) local_layer_[i] = c.sliding(i);
}

void LayerRopes::ensure(uint64_t length) {
  global_.ensure(length);
  if (local_) local_->ensure(length);
}

AttnShape layer_attention(const ModelConfig& c, uint64_t layer, uint64_t T, uint64_t p0) {
  AttnShape s{T, c.num_attention_heads, c.num_key_value_heads, c.head_dim, c.attn_scale};
  s.p0 = p0;
  s.window = c.sliding(layer) ? c.sliding_window : 0;
  s.softcap = static_cast<float>(c.attn_softcap);
  return s;
}

void embed(const ModelConfig& c, const WeightLayout& lay, const float* P, const uint32_t* tokens, uint64_t n, float* x) {
  const uint64_t d = c.hidden_size;
  const float* E = P + lay.embed();
  for (uint64_t r = 0; r < n; ++r) {
    if (tokens[r] >= c.vocab_size)
      throw Error("token id " + std::to_string(tokens[r]) + " is outside the vocabulary (" + std::to_string(c.vocab_size) + ")");
    const float* e = E + static_cast<uint64_t>(tokens[r]) * d;
    float* xr = x + r * d;
    if (c.embed_scale == 1.0f) {
      std::copy_n(e, d, xr);
    } else {
      for (uint64_t j = 0; j < d; ++j) xr[j] = e[j] * c.embed_scale;
    }
  }
}

void embed_backward(const ModelConfig& c, const WeightLayout& lay, float* G, const uint32_t* tokens, uint64_t n, const float* dx) {
  const uint64_t d = c.hidden_size;
  float* ge = G + lay.embed();
  for (uint64_t r = 0; r < n; ++r) {
    float* dst = ge + static_cast<uint64_t>(tokens[r]) * d;
    const float* src = dx + r * d;
    for (uint64_t j = 0; j < d; ++j) dst[j] += src[j] * c.embed_scale;
  }
}

void layer_forward(const Kernels& K, const ModelConfig& c, const float* P, const LayerSlots& w, const Rope& rope, uint64_t layer,
                   const Rows& rows, float* x, LayerActs& a, LayerScratch& t, const AttendFn& attend) {
  const uint64_t N = rows.N, d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  const bool p1 = c.norm_plus_one;
  if (rows.keep) a.xin.assign(x, x + N * d);
  size(a.r1, N);
  size(a.xn1, N * d);
  K.rmsnorm(x, P + w.attn_norm, a.xn1.data(), a.r1.data(), N, d, eps, p1);
  size(a.q, N * H * hd);
  size(a.k, N * KV * hd);
  size(a.v, N * KV * hd);
  K.linear(a.xn1.data(), P + w.wq, at(P, w.bq), a.q.data(), N, d, H * hd);
  K.linear(a.xn1.data(), P + w.wk, at(P, w.bk), a.k.data(), N, d, KV * hd);
  K.linear(a.xn1.data(), P + w.wv, at(P, w.bv), a.v.data(), N, d, KV * hd);
  if (c.qk_norm) {  // every head row of q and k normalised over head_dim
    if (rows.keep) {
      a.q_in = a.q;
      a.k_in = a.k;
    }
    size(a.rq, N * H);
    size(a.rk, N * KV);
    K.rmsnorm(a.q.data(), P + w.q_norm, a.q.data(), a.rq.data(), N * H, hd, eps, p1);
    K.rmsnorm(a.k.data(), P + w.k_norm, a.k.data(), a.rk.data(), N * KV, hd, eps, p1);
  }
  K.rope(a.q.data(), N, H, hd, rope, rows.p0, rows.period, false);
  K.rope(a.k.data(), N, KV, hd, rope, rows.p0, rows.period, false);
  size(a.o, N * H * hd);
  attend(a, layer_attention(c, layer, rows.period, rows.p0));
  const bool keep_branches = rows.keep && c.sandwich_norms;  // the sandwich norms' backward needs their inputs
  std::vector<float>& ao = keep_branches ? a.ao : t.ao;
  std::vector<float>& mo = keep_branches ? a.mo : t.mo;
  size(ao, N * d);
  K.linear(a.o.data(), P + w.wo, at(P, w.bo), ao.data(), N, H * hd, d);
  add_branch(K, c, P, w.post_attn_norm, ao.data(), a.ra, t, N, x);
  if (rows.keep) a.xmid.assign(x, x + N * d);
  size(a.r2, N);
  size(a.xn2, N * d);
  K.rmsnorm(x, P + w.mlp_norm, a.xn2.data(), a.r2.data(), N, d, eps, p1);
  size(a.g, N * I);
  size(a.u, N * I);
  size(t.h, N * I);
  K.linear(a.xn2.data(), P + w.w_gate, at(P, w.b_gate), a.g.data(), N, d, I);
  K.linear(a.xn2.data(), P + w.w_up, at(P, w.b_up), a.u.data(), N, d, I);
  K.glu(a.g.data(), a.u.data(), t.h.data(), N * I, c.activation);
  size(mo, N * d);
  K.linear(t.h.data(), P + w.w_down, at(P, w.b_down), mo.data(), N, I, d);
  add_branch(K, c, P, w.post_mlp_norm, mo.data(), a.rm, t, N, x);
}

void layer_backward(const Kernels& K, const ModelConfig& c, const float* P, float* G, const LayerSlots& w, const Rope& rope,
                    uint64_t layer, const Rows& rows, const LayerActs& a, float* dx, LayerGradScratch& s, const AttendBackFn& attend_back) {
  const uint64_t N = rows.N, d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size;
  const bool p1 = c.norm_plus_one;
  size(s.dxn, N * d);
  size(s.dh, N * I);
  size(s.dg, N * I);
  size(s.du, N * I);

  // MLP branch: out = x_mid + post(W_down (act(g) * u)).
  const float* dm = dx;
  if (c.sandwich_norms) {
    s.dbranch.assign(N * d, 0.0f);
    K.rmsnorm_backward(a.mo.data(), P + w.post_mlp_norm, a.rm.data(), dx, s.dbranch.data(), G + w.post_mlp_norm, N, d, p1);
    dm = s.dbranch.data();
  }
  K.glu(a.g.data(), a.u.data(), s.dh.data(), N * I, c.activation);  // recomputed: one [N, I] buffer less per layer
  K.linear_dw(dm, s.dh.data(), G + w.w_down, at(G, w.b_down), N, I, d);
  K.linear_dx(dm, P + w.w_down, s.dh.data(), N, I, d, false);
  K.glu_backward(a.g.data(), a.u.data(), s.dh.data(), s.dg.data(), s.du.data(), N * I, c.activation);
  K.linear_dw(s.dg.data(), a.xn2.data(), G + w.w_gate, at(G, w.b_gate), N, d, I);
  K.linear_dw(s.du.data(), a.xn2.data(), G + w.w_up, at(G, w.b_up), N, d, I);
  K.linear_dx(s.dg.data(), P + w.w_gate, s.dxn.data(), N, d, I, false);
  K.linear_dx(s.du.data(), P + w.w_up, s.dxn.data(), N, d, I, true);
  K.rmsnorm_backward(a.xmid.data(), P + w.mlp_norm, a.r2.data(), s.dxn.data(), dx, G + w.mlp_norm, N, d, p1);

  // Attention branch: x_mid = x_in + post(W_o attn(rope(norm(W_q h)), rope(norm(W_k h)), W_v h)).
  const float* da = dx;
  if (c.sandwich_norms) {
    s.dbranch.assign(N * d, 0.0f);
    K.rmsnorm_backward(a.ao.data(), P + w.post_attn_norm, a.ra.data(), dx, s.dbranch.data(), G + w.post_attn_norm, N, d, p1);
    da = s.dbranch.data();
  }
  size(s.dO, N * H * hd);
  K.linear_dw(da, a.o.data(), G + w.wo, at(G, w.bo), N, H * hd, d);
  K.linear_dx(da, P + w.wo, s.dO.data(), N, H * hd, d, false);
  s.dq.assign(N * H * hd, 0.0f);
  s.dk.assign(N * KV * hd, 0.0f);
  s.dv.assign(N * KV * hd, 0.0f);
  attend_back(a, s.dO.data(), s.dq.data(), s.dk.data(), s.dv.data(), layer_attention(c, layer, rows.period, rows.p0));
  K.rope(s.dq.data(), N, H, hd, rope, rows.p0, rows.period, true);
  K.rope(s.dk.data(), N, KV, hd, rope, rows.p0, rows.period, true);
  if (c.qk_norm) {
    s.dqk.assign(N * H * hd, 0.0f);
    K.rmsnorm_backward(a.q_in.data(), P + w.q_norm, a.rq.data(), s.dq.data(), s.dqk.data(), G + w.q_norm, N * H, hd, p1);
    std::swap(s.dq, s.dqk);
    s.dqk.assign(N * KV * hd, 0.0f);
    K.rmsnorm_backward(a.k_in.data(), P + w.k_norm, a.rk.data(), s.dk.data(), s.dqk.data(), G + w.k_norm, N * KV, hd, p1);
    std::swap(s.dk, s.dqk);
  }
  K.linear_dw(s.dq.data(), a.xn1.data(), G + w.wq, at(G, w.bq), N, d, H * hd);
  K.linear_dw(s.dk.data(), a.xn1.data(), G + w.wk, at(G, w.bk), N, d, KV * hd);
  K.linear_dw(s.dv.data(), a.xn1.data(), G + w.wv, at(G, w.bv), N, d, KV * hd);
  K.linear_dx(s.dq.data(), P + w.wq, s.dxn.data(), N, d, H * hd, false);
  K.linear_dx(s.dk.data(), P + w.wk, s.dxn.data(), N, d, KV * hd, true);
  K.linear_dx(s.dv.data(), P + w.wv, s.dxn.data(), N, d, KV * hd, true);
  K.rmsnorm_backward(a.xin.data(), P + w.attn_norm, a.r1.data(), s.dxn.data(), dx, G + w.attn_norm, N, d, p1);
}

void output_logits(const Kernels& K, const ModelConfig& c, const WeightLayout& lay, const float* P, const float* xn, uint64_t n,
                   float* logits) {
  K.linear(xn, P + lay.lm_head(), nullptr, logits, n, c.hidden_size, c.vocab_size);
  if (c.final_softcap > 0) K.softcap(logits, n * c.vocab_size, static_cast<float>(c.final_softcap));
}

}  // namespace longctx::model
