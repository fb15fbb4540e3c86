// CudaKernels against CpuKernels on the same inputs (issue 16, device check (a) in fp32): every
// kernel the CUDA backend has (attention with windows, soft-cap, documents including one-token
// ones, GQA and a KV-cache offset too), on shapes that are not multiples of the block size, within 1e-5
// relative (elementwise results: per element, with a floor of 1e-6 for values near zero; GEMMs and
// reductions: the largest error over the largest magnitude, since their sums run in another
// order). Exits 77 (CTest: skipped) when no CUDA device is present; CI compiles it everywhere.
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "longctx/cuda/cuda_kernels.h"
#include "longctx/model/backend.h"
#include "longctx/model/config.h"

namespace {

using longctx::cuda::CudaKernels;
using longctx::model::Activation;
using longctx::model::CpuKernels;

int failures = 0;

std::vector<float> random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> zeros(size_t n) { return std::vector<float>(n, 0.0f); }

// A device copy of a host array, freed at scope end.
template <class T>
struct DevArray {
  T* p = nullptr;
  size_t n = 0;
  explicit DevArray(const std::vector<T>& h) : n(h.size()) {
    p = static_cast<T*>(longctx::cuda::device_alloc(n * sizeof(T)));
    longctx::cuda::copy_to_device(p, h.data(), n * sizeof(T));
  }
  ~DevArray() { longctx::cuda::device_free(p); }
  DevArray(const DevArray&) = delete;
  DevArray& operator=(const DevArray&) = delete;
  std::vector<T> host() const {
    longctx::cuda::synchronize();
    std::vector<T> h(n);
    longctx::cuda::copy_to_host(h.data(), p, n * sizeof(T));
    return h;
  }
};
using Dev = DevArray<float>;
using DevIds = DevArray<uint32_t>;

void expect(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, bool elementwise) {
  if (got.size() != want.size()) {
    std::printf("FAIL: %s (%zu values, expected %zu)\n", name.c_str(), got.size(), want.size());
    ++failures;
    return;
  }
  double worst = 0, scale = 0;
  for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    worst = std::max(worst, elementwise ? err / std::max(1e-6, static_cast<double>(std::fabs(want[i]))) : err / std::max(scale, 1e-30));
  }
  const bool ok = worst <= 1e-5;
  std::printf("%s: %s (relative error %.3g)\n", ok ? "ok" : "FAIL", name.c_str(), worst);
  failures += !ok;
}

}  // namespace

int main() {
  if (longctx::cuda::device_count() == 0) {
    std::printf("skipped: no CUDA device\n");
    return 77;
  }
  const CpuKernels cpu(1);
  const CudaKernels gpu;

  {  // linear with and without bias, linear_dx (both modes), linear_dw with bias gradient
    const uint64_t n = 37, k = 300, o = 129;
    const auto x = random(n * k, 1), w = random(o * k, 2), b = random(o, 3), dy = random(n * o, 4), dx0 = random(n * k, 5);
    const auto dw0 = random(o * k, 6), db0 = random(o, 7);
    for (const bool bias : {false, true}) {
      std::vector<float> y(n * o);
      cpu.linear(x.data(), w.data(), bias ? b.data() : nullptr, y.data(), n, k, o);
      Dev dx_(x), dw_(w), db_(b), dy_(zeros(n * o));
      gpu.linear(dx_.p, dw_.p, bias ? db_.p : nullptr, dy_.p, n, k, o);
      expect(bias ? "linear + bias" : "linear", dy_.host(), y, false);
    }
    for (const bool acc : {false, true}) {
      std::vector<float> dx = dx0;
      cpu.linear_dx(dy.data(), w.data(), dx.data(), n, k, o, acc);
      Dev d_dy(dy), d_w(w), d_dx(dx0);
      gpu.linear_dx(d_dy.p, d_w.p, d_dx.p, n, k, o, acc);
      expect(acc ? "linear_dx (accumulate)" : "linear_dx", d_dx.host(), dx, false);
    }
    std::vector<float> dw = dw0, db = db0;
    cpu.linear_dw(dy.data(), x.data(), dw.data(), db.data(), n, k, o);
    Dev d_dy(dy), d_x(x), d_dw(dw0), d_db(db0);
    gpu.linear_dw(d_dy.p, d_x.p, d_dw.p, d_db.p, n, k, o);
    expect("linear_dw", d_dw.host(), dw, false);
    expect("linear_dw bias", d_db.host(), db, false);
  }

  for (const bool plus_one : {false, true}) {  // RMSNorm forward and backward, w and 1 + w
    const uint64_t n = 19, d = 1000;
    const auto x = random(n * d, 11), w = random(d, 12, 0.5f), dy = random(n * d, 13), dx0 = random(n * d, 14), dw0 = random(d, 15);
    std::vector<float> y(n * d), rstd(n), dx = dx0, dw = dw0;
    cpu.rmsnorm(x.data(), w.data(), y.data(), rstd.data(), n, d, 1e-6f, plus_one);
    cpu.rmsnorm_backward(x.data(), w.data(), rstd.data(), dy.data(), dx.data(), dw.data(), n, d, plus_one);
    Dev d_x(x), d_w(w), d_y(zeros(n * d)), d_r(zeros(n)), d_dy(dy), d_dx(dx0), d_dw(dw0);
    gpu.rmsnorm(d_x.p, d_w.p, d_y.p, d_r.p, n, d, 1e-6f, plus_one);
    gpu.rmsnorm_backward(d_x.p, d_w.p, d_r.p, d_dy.p, d_dx.p, d_dw.p, n, d, plus_one);
    const std::string tag = plus_one ? " (1 + w)" : "";
    expect("rmsnorm" + tag, d_y.host(), y, false);
    expect("rmsnorm rstd" + tag, d_r.host(), rstd, true);
    expect("rmsnorm_backward dx" + tag, d_dx.host(), dx, false);
    expect("rmsnorm_backward dw" + tag, d_dw.host(), dw, false);
  }

  {  // RoPE: forward and inverse, partial rotary, a KV-cache offset, and a period (B sequences)
    longctx::model::ModelConfig c;
    c.head_dim = 64;
    c.rotary_dim = 48;
    c.rope_theta = 500000.0;
    c.max_position_embeddings = 4096;
    longctx::model::Rope rope(c);
    rope.ensure(4096);
    const uint64_t n = 45, heads = 3, hd = 64;
    const auto v0 = random(n * heads * hd, 21);
    for (const auto& [p0, period, inverse] : std::vector<std::tuple<uint64_t, uint64_t, bool>>{{0, 0, false}, {1000, 0, true}, {7, 15, false}}) {
      std::vector<float> v = v0;
      cpu.rope(v.data(), n, heads, hd, rope, p0, period, inverse);
      Dev d_v(v0);
      gpu.rope(d_v.p, n, heads, hd, rope, p0, period, inverse);
      // Against the largest magnitude: nvcc fuses x2 c + x1 s into an FMA, the CPU build does not,
      // and outputs near zero come from cancelling terms.
      expect("rope p0=" + std::to_string(p0) + " period=" + std::to_string(period) + (inverse ? " inverse" : ""), d_v.host(), v, false);
    }
  }

  for (const Activation act : {Activation::SiLU, Activation::GeluTanh}) {  // SwiGLU / GeGLU
    const uint64_t n = 10007;
    const auto g = random(n, 31, 3.0f), u = random(n, 32), dh = random(n, 33);
    std::vector<float> h(n), dg(n), du(n);
    cpu.glu(g.data(), u.data(), h.data(), n, act);
    cpu.glu_backward(g.data(), u.data(), dh.data(), dg.data(), du.data(), n, act);
    Dev d_g(g), d_u(u), d_h(zeros(n)), d_dh(dh), d_dg(zeros(n)), d_du(zeros(n));
    gpu.glu(d_g.p, d_u.p, d_h.p, n, act);
    gpu.glu_backward(d_g.p, d_u.p, d_dh.p, d_dg.p, d_du.p, n, act);
    const std::string tag = act == Activation::SiLU ? "swiglu" : "geglu";
    // Against the CPU's own fast tanh (2.4e-7 relative) and exp, relative to the largest value.
    expect(tag, d_h.host(), h, false);
    expect(tag + " backward dg", d_dg.host(), dg, false);
    expect(tag + " backward du", d_du.host(), du, false);
  }

  {  // residual add, soft-cap
    const uint64_t n = 5003;
    const auto x = random(n, 41, 20.0f), y = random(n, 42);
    std::vector<float> a = x, s = x;
    cpu.add(a.data(), y.data(), n);
    cpu.softcap(s.data(), n, 30.0f);
    Dev d_a(x), d_y(y), d_s(x);
    gpu.add(d_a.p, d_y.p, n);
    gpu.softcap(d_s.p, n, 30.0f);
    expect("add", d_a.host(), a, true);
    expect("softcap", d_s.host(), s, false);
  }

  {  // attention forward (o, lse) and backward (dq, dk, dv added into), against the CPU's tiled path
    struct Case {
      const char* name;
      uint64_t p0, window, kbase;
      float softcap;
      bool docs;
      uint64_t hd;
      bool with_lse;
    };
    const uint64_t B = 2, T = 37, H = 4, KV = 2;
    // Soft-cap 2 on scores of unit scale: the tanh bends. hd 256 (Gemma): two dimensions a thread.
    for (const Case& c : {Case{"causal", 0, 0, 0, 0.0f, false, 64, true}, Case{"window 10", 0, 10, 0, 0.0f, false, 64, true},
                          Case{"softcap 2", 0, 0, 0, 2.0f, false, 64, true}, Case{"documents", 0, 0, 0, 0.0f, true, 64, true},
                          Case{"documents + window 6 + softcap 2, hd 256", 0, 6, 0, 2.0f, true, 256, true},
                          Case{"KV cache p0 20, window 8, kbase 13, no lse", 20, 8, 13, 0.0f, false, 64, false}}) {
      const uint64_t hd = c.hd;
      longctx::model::AttnShape a{T, H, KV, hd, 1.0f / std::sqrt(static_cast<float>(hd))};
      a.p0 = c.p0;
      a.window = c.window;
      a.kbase = c.kbase;
      a.softcap = c.softcap;
      a.bq = 16;
      a.bk = 32;  // several tiles on the CPU side
      const uint64_t key_rows = c.p0 + T - c.kbase;
      const auto q = random(B * T * H * hd, 51), k = random(B * key_rows * KV * hd, 52), v = random(B * key_rows * KV * hd, 53);
      std::vector<uint32_t> docs(B * T, 0);
      if (c.docs)  // documents of lengths 1, 5, 9, ... (a document of one token included)
        for (uint64_t b = 0; b < B; ++b)
          for (uint64_t r = 0, start = 0, len = 1 + b; r < T; ++r) {
            if (r == start + len) start = r, len += 4;
            docs[b * T + r] = static_cast<uint32_t>(start);
          }
      std::vector<float> o(B * T * H * hd), lse(B * H * T);
      cpu.attention_forward(q.data(), k.data(), v.data(), o.data(), lse.data(), c.docs ? docs.data() : nullptr, B, a);
      Dev d_q(q), d_k(k), d_v(v), d_o(zeros(o.size())), d_lse(zeros(lse.size()));
      const DevIds d_doc_array(docs);
      const uint32_t* d_docs = c.docs ? d_doc_array.p : nullptr;
      gpu.attention_forward(d_q.p, d_k.p, d_v.p, d_o.p, c.with_lse ? d_lse.p : nullptr, d_docs, B, a);
      expect(std::string("attention forward o, ") + c.name, d_o.host(), o, false);
      if (c.with_lse) expect(std::string("attention forward lse, ") + c.name, d_lse.host(), lse, false);
      if (c.p0 == 0 && c.kbase == 0) {
        const auto dout = random(o.size(), 54), dq0 = random(q.size(), 55), dk0 = random(k.size(), 56), dv0 = random(v.size(), 57);
        std::vector<float> dq = dq0, dk = dk0, dv = dv0;
        cpu.attention_backward(q.data(), k.data(), v.data(), o.data(), dout.data(), lse.data(), dq.data(), dk.data(), dv.data(),
                               c.docs ? docs.data() : nullptr, B, a);
        Dev d_dout(dout), d_dq(dq0), d_dk(dk0), d_dv(dv0);
        gpu.attention_backward(d_q.p, d_k.p, d_v.p, d_o.p, d_dout.p, d_lse.p, d_dq.p, d_dk.p, d_dv.p, d_docs, B, a);
        expect(std::string("attention backward dq, ") + c.name, d_dq.host(), dq, false);
        expect(std::string("attention backward dk, ") + c.name, d_dk.host(), dk, false);
        expect(std::string("attention backward dv, ") + c.name, d_dv.host(), dv, false);
      }
    }
  }

  {  // embedding forward and backward (repeated tokens), against the trainer's loops
    const uint64_t V = 50, d = 300, n = 41;
    const auto E = random(V * d, 61), dx = random(n * d, 62), dE0 = random(V * d, 63);
    std::vector<uint32_t> tokens(n);
    for (uint64_t r = 0; r < n; ++r) tokens[r] = static_cast<uint32_t>((r * 7) % 13);  // repeats
    const float scale = 17.3f;
    std::vector<float> x(n * d), dE = dE0;
    for (uint64_t r = 0; r < n; ++r)
      for (uint64_t j = 0; j < d; ++j) x[r * d + j] = E[tokens[r] * d + j] * scale;
    for (uint64_t r = 0; r < n; ++r)
      for (uint64_t j = 0; j < d; ++j) dE[tokens[r] * d + j] += dx[r * d + j] * scale;
    const DevIds d_tok(tokens);
    Dev d_E(E), d_x(zeros(n * d)), d_dx(dx), d_dE(dE0);
    longctx::cuda::embed(d_E.p, d_tok.p, n, d, scale, d_x.p);
    longctx::cuda::embed_backward(d_dE.p, d_tok.p, n, d, scale, d_dx.p);
    expect("embed", d_x.host(), x, true);
    expect("embed_backward", d_dE.host(), dE, false);
  }

  for (const float cap : {0.0f, 30.0f}) {  // the fused cross-entropy's chunk, against double precision
    const uint64_t nr = 23, V = 5003;
    auto logits = random(nr * V, 71, 4.0f);
    if (cap > 0)
      for (auto& z : logits) z = cap * std::tanh(z / cap);  // rows arrive capped
    std::vector<uint32_t> targets(nr);
    for (uint64_t r = 0; r < nr; ++r) targets[r] = r == 5 ? ~0u : static_cast<uint32_t>((r * 811) % V);
    const float row_w = 0.25f;
    std::vector<float> grad(nr * V), loss(nr);
    for (uint64_t r = 0; r < nr; ++r) {
      const float* row = logits.data() + r * V;
      if (targets[r] == ~0u) continue;  // zero gradient, zero loss
      double mx = row[0], sum = 0;
      for (uint64_t j = 0; j < V; ++j) mx = std::max(mx, static_cast<double>(row[j]));
      for (uint64_t j = 0; j < V; ++j) sum += std::exp(row[j] - mx);
      loss[r] = static_cast<float>(std::log(sum) + mx - row[targets[r]]);
      for (uint64_t j = 0; j < V; ++j) {
        double g = std::exp(row[j] - mx) / sum * row_w - (j == targets[r] ? row_w : 0.0);
        if (cap > 0) g *= 1.0 - (row[j] / cap) * (row[j] / cap);
        grad[r * V + j] = static_cast<float>(g);
      }
    }
    const DevIds d_t(targets);
    Dev d_l(logits), d_loss(zeros(nr));
    longctx::cuda::cross_entropy_rows(d_l.p, d_t.p, nr, V, row_w, cap, d_loss.p);
    const std::string tag = cap > 0 ? " (soft-cap 30)" : "";
    expect("cross-entropy loss" + tag, d_loss.host(), loss, false);
    expect("cross-entropy d(logits)" + tag, d_l.host(), grad, false);
  }

  std::printf("%s\n", failures ? "FAILED" : "all CUDA kernels match the CPU backend");
  return failures ? 1 : 0;
}
