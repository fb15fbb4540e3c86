// Model engine speed, with this machine's OpenBLAS SGEMM rate measured in the same run:
//   bench_model [--threads N] [--memory-context 32768]
// - SGEMM: 1024^3 single-precision GEMMs, GFLOP/s (the ceiling prefill is compared with);
// - prefill: a 15M-parameter LLaMA (llama2.c's 15M shape: dim 288, 6 layers, 6 heads, hidden
//   768, vocab 32000) over 2,048 tokens; GFLOP/s counted as 2 x matmul parameters x tokens plus
//   the attention's 4 x T^2/2 x dim per layer; the target is >= 50% of the SGEMM rate;
// - decode: tokens/s generating 256 tokens one at a time after a 16-token prompt (llama2.c's
//   run.c does about 135 tokens/s at this size on this machine class; target >= 150);
// - memory: peak resident memory of a prefill at --memory-context tokens (default 32K), and the
//   KV cache's share of it.
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "longctx/model/blas.h"
#include "longctx/model/model.h"

using namespace longctx;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

static long peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

static std::unique_ptr<model::Model> random_model(const model::LlamaConfig& c) {
  auto m = std::make_unique<model::Model>();
  m->c_ = c;
  std::mt19937 g(1);
  std::normal_distribution<float> n(0.0f, 0.02f);
  auto fill = [&](std::vector<float>& v, size_t size, bool ones = false) {
    v.resize(size);
    for (auto& x : v) x = ones ? 1.0f : n(g);
  };
  const uint64_t d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads, I = c.intermediate_size;
  fill(m->embed, c.vocab_size * d);
  fill(m->final_norm, d, true);
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) {
    model::LayerWeights l;
    fill(l.attn_norm, d, true);
    fill(l.mlp_norm, d, true);
    fill(l.wq, H * hd * d);
    fill(l.wk, KV * hd * d);
    fill(l.wv, KV * hd * d);
    fill(l.wo, d * H * hd);
    fill(l.w_gate, I * d);
    fill(l.w_up, I * d);
    fill(l.w_down, d * I);
    m->layers.push_back(std::move(l));
  }
  return m;
}

int main(int argc, char** argv) {
  model::ensure_blas_kernels(argv);
  int threads = 2;
  uint64_t mem_ctx = 32768;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--memory-context")) mem_ctx = std::strtoull(argv[++i], nullptr, 10);
  }
  openblas_set_num_threads(threads);
  std::printf("OpenBLAS %s, %d threads\n", openblas_get_config(), threads);

  // SGEMM ceiling.
  const int N = 1024;
  std::vector<float> A(N * N, 0.5f), B(N * N, 0.25f), C(N * N);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, A.data(), N, B.data(), N, 0, C.data(), N);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1, A.data(), N, B.data(), N, 0, C.data(), N);
    best = std::max(best, 2.0 * N * N * N / seconds_since(t) / 1e9);
  }
  std::printf("sgemm 1024^3: %.1f GFLOP/s (best of 5)\n", best);

  model::LlamaConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 32000;
  c.hidden_size = 288;
  c.intermediate_size = 768;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 6;
  c.num_key_value_heads = 6;
  c.head_dim = 48;
  c.max_position_embeddings = 256;
  const auto m = random_model(c);
  std::printf("model: %.1fM parameters (llama2.c's 15M shape)\n", m->parameters() / 1e6);

  // Prefill.
  const uint64_t T = 2048;
  std::vector<uint32_t> ids(T);
  for (uint64_t i = 0; i < T; ++i) ids[i] = static_cast<uint32_t>((i * 7919) % c.vocab_size);
  const double matmul_params = static_cast<double>(m->parameters() - m->embed.size() - m->final_norm.size()) + c.vocab_size * 288.0 / T;
  const double flops = 2.0 * matmul_params * T + 6.0 * 4.0 * (T * T / 2.0) * 288.0;
  double prefill = 0;
  const uint64_t chunk = std::getenv("PREFILL_CHUNK") ? std::strtoull(std::getenv("PREFILL_CHUNK"), nullptr, 10) : 256;
  for (int r = 0; r < 3; ++r) {
    model::Session s(*m, T);
    s.chunk = chunk;
    std::vector<float> logits;
    const auto t = Clock::now();
    s.forward(ids, &logits);
    prefill = std::max(prefill, flops / seconds_since(t) / 1e9);
  }
  std::printf("prefill %llu tokens: %.1f GFLOP/s = %.0f%% of sgemm (best of 3)\n", static_cast<unsigned long long>(T), prefill,
              100.0 * prefill / best);

  // Decode.
  {
    model::Session s(*m, 16 + 256);
    std::vector<float> logits;
    s.forward(std::span<const uint32_t>(ids.data(), 16), &logits);
    const auto t = Clock::now();
    for (int i = 0; i < 256; ++i) {
      const uint32_t next = static_cast<uint32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      s.forward(std::span<const uint32_t>(&next, 1), &logits);
    }
    std::printf("decode: %.0f tokens/s (256 tokens after a 16-token prompt)\n", 256 / seconds_since(t));
  }

  // Memory at a long context.
  if (mem_ctx > 0) {
    const long before = peak_rss_kb();
    std::vector<uint32_t> big(mem_ctx);
    for (uint64_t i = 0; i < mem_ctx; ++i) big[i] = static_cast<uint32_t>((i * 7919) % c.vocab_size);
    model::Session s(*m, mem_ctx);
    std::vector<float> logits;
    const auto t = Clock::now();
    s.forward(big, &logits);
    const double kv = 2.0 * c.num_hidden_layers * mem_ctx * c.num_key_value_heads * c.head_dim * 4 / 1e6;
    std::printf("prefill %llu tokens: %.1f s; peak RSS %.0f MB (%.0f MB before; KV cache %.0f MB; attention scratch: one 128x512 score tile per thread)\n",
                static_cast<unsigned long long>(mem_ctx), seconds_since(t), peak_rss_kb() / 1024.0, before / 1024.0, kv);
  }
  return 0;
}
