#include "longctx/train/model_grad.h"

#include <algorithm>
#include <cmath>

#include "longctx/model/backend.h"
#include "longctx/model/decoder.h"
#include "longctx/model/kernels.h"
#include "longctx/util/error.h"

namespace longctx::train {

struct ModelGrad::State {
  model::ModelConfig c;
  const model::WeightLayout& lay;
  model::CpuKernels kernels;
  model::LayerRopes ropes;
  std::vector<model::LayerActs> acts;
  model::LayerGradScratch scratch;
  model::LayerScratch temps;  // forward values the backward does not keep (shared by the layers)
  std::vector<float> x, xf, rf, xnf, dx, dxn, logits, capped;
  State(const model::ModelConfig& cc, const model::WeightLayout& l, int t) : c(cc), lay(l), kernels(t), ropes(cc) {}
};

ModelGrad::ModelGrad(const model::ModelConfig& c, const model::WeightLayout& layout, int threads)
    : s_(std::make_unique<State>(c, layout, threads)) {}
ModelGrad::~ModelGrad() = default;

uint64_t ModelGrad::workspace_bytes() const {
  uint64_t n = 0;
  auto add = [&](const std::vector<float>& v) { n += v.capacity() * sizeof(float); };
  for (const auto& a : s_->acts)
    for (const auto* v : {&a.xin, &a.r1, &a.xn1, &a.q, &a.k, &a.v, &a.q_in, &a.k_in, &a.rq, &a.rk, &a.o, &a.lse, &a.ao, &a.ra, &a.xmid,
                          &a.r2, &a.xn2, &a.g, &a.u, &a.mo, &a.rm})
      add(*v);
  const auto& g = s_->scratch;
  for (const auto* v : {&s_->temps.h, &s_->temps.ao, &s_->temps.mo, &s_->temps.normed}) add(*v);
  for (const auto* v : {&g.dxn, &g.dh, &g.dg, &g.du, &g.dO, &g.dq, &g.dk, &g.dv, &g.dbranch, &g.dqk}) add(*v);
  for (const auto* v : {&s_->x, &s_->xf, &s_->rf, &s_->xnf, &s_->dx, &s_->dxn, &s_->logits, &s_->capped}) add(*v);
  return n;
}

std::vector<double> ModelGrad::forward_backward(const float* P, float* G, const uint32_t* tokens, uint64_t B, uint64_t T,
                                                const uint32_t* doc_start, float weight) {
  State& s = *s_;
  const auto& c = s.c;
  const auto& lay = s.lay;
  const model::Kernels& K = s.kernels;
  const uint64_t d = c.hidden_size, V = c.vocab_size, N = B * T, nl = c.num_hidden_layers;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  if (T < 2) throw Error("training needs sequences of at least 2 tokens");
  // Dynamic NTK: the base this length implies; LongRoPE: the long factors past the original
  // length; as one transformers forward of T tokens.
  s.ropes.ensure(T);
  const model::Rows rows{N, 0, T, true};
  s.acts.resize(nl);

  // Forward: the layers keep what their backward needs.
  s.x.resize(N * d);
  model::embed(c, lay, P, tokens, N, s.x.data());
  for (uint64_t li = 0; li < nl; ++li) {
    model::LayerActs& a = s.acts[li];
    a.lse.resize(B * c.num_attention_heads * T);
    auto attend = [&](model::LayerActs& la, model::AttnShape shape) {
      K.attention_forward(la.q.data(), la.k.data(), la.v.data(), la.o.data(), la.lse.data(), doc_start, B, shape);
    };
    model::layer_forward(K, c, P, lay.layers()[li], s.ropes.for_layer(li), li, rows, s.x.data(), a, s.temps, attend);
  }
  s.xf = s.x;
  s.rf.resize(N);
  s.xnf.resize(N * d);
  K.rmsnorm(s.x.data(), P + lay.final_norm(), s.xnf.data(), s.rf.data(), N, d, eps, c.norm_plus_one);

  // Cross-entropy, a chunk of rows at a time: logits, loss, d(logits) = (softmax - onehot) *
  // weight / (T - 1) (through the soft-cap's tanh when there is one), then d(xnf) and d(W_out).
  std::vector<double> losses(B, 0.0);
  s.dxn.assign(N * d, 0.0f);
  // 8M floats (32 MB) of logits per chunk: larger chunks measured no faster (4M model, T = 256).
  const uint64_t chunk = std::max<uint64_t>(1, std::min<uint64_t>(N, (uint64_t{8} << 20) / V));
  s.logits.resize(chunk * V);
  const auto cap = static_cast<float>(c.final_softcap);
  if (cap > 0) s.capped.resize(V);
  const float row_w = weight / static_cast<float>(T - 1);
  for (uint64_t r0 = 0; r0 < N; r0 += chunk) {
    const uint64_t nr = std::min(chunk, N - r0);
    model::output_logits(K, c, lay, P, s.xnf.data() + r0 * d, nr, s.logits.data());
    for (uint64_t i = 0; i < nr; ++i) {
      const uint64_t r = r0 + i, pos = r % T;
      float* row = s.logits.data() + i * V;
      if (pos + 1 == T) {  // the last position predicts nothing inside the sequence
        std::fill(row, row + V, 0.0f);
        continue;
      }
      if (cap > 0) std::copy_n(row, V, s.capped.data());
      const uint32_t target = tokens[r + 1];
      const float tl = row[target];
      const float mx = model::row_max(row, V);
      const float sum = model::exp_and_sum(row, V, mx);
      losses[r / T] += std::log(static_cast<double>(sum)) + mx - static_cast<double>(tl);
      const float scale = row_w / sum;
      for (uint64_t j = 0; j < V; ++j) row[j] *= scale;
      row[target] -= row_w;
      if (cap > 0)  // y = cap tanh(z / cap): dy/dz = 1 - (y / cap)^2
        for (uint64_t j = 0; j < V; ++j) {
          const float t = s.capped[j] / cap;
          row[j] *= 1.0f - t * t;
        }
    }
    K.linear_dx(s.logits.data(), P + lay.lm_head(), s.dxn.data() + r0 * d, nr, d, V, false);
    K.linear_dw(s.logits.data(), s.xnf.data() + r0 * d, G + lay.lm_head(), nullptr, nr, d, V);
  }
  for (auto& l : losses) l /= static_cast<double>(T - 1);

  // Backward through the final norm and the layers; s.dx is d(loss)/d(residual stream).
  s.dx.assign(N * d, 0.0f);
  K.rmsnorm_backward(s.xf.data(), P + lay.final_norm(), s.rf.data(), s.dxn.data(), s.dx.data(), G + lay.final_norm(), N, d,
                     c.norm_plus_one);
  for (uint64_t li = nl; li-- > 0;) {
    auto attend_back = [&](const model::LayerActs& a, const float* dO, float* dq, float* dk, float* dv, model::AttnShape shape) {
      K.attention_backward(a.q.data(), a.k.data(), a.v.data(), a.o.data(), dO, a.lse.data(), dq, dk, dv, doc_start, B, shape);
    };
    model::layer_backward(K, c, P, G, lay.layers()[li], s.ropes.for_layer(li), li, rows, s.acts[li], s.dx.data(), s.scratch, attend_back);
  }
  model::embed_backward(c, lay, G, tokens, N, s.dx.data());
  return losses;
}

}  // namespace longctx::train
