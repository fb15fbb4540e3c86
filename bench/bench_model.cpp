// Model engine speed, with this machine's OpenBLAS SGEMM rate measured in the same run:
//   bench_model [--threads N] [--memory-context 32768] [--config config.json] [--json]
// - SGEMM: 1024^3 single-precision GEMMs, GFLOP/s (the ceiling prefill is compared with);
// - prefill: a random 15M-parameter LLaMA (llama2.c's 15M shape: dim 288, 6 layers, 6 heads,
//   hidden 768, vocab 32000), or the model a Hugging Face config.json (--config) describes, over
//   2,048 tokens; GFLOP/s counted with the LLaMA formula: 2 x matmul parameters x tokens plus the
//   attention's 4 x T^2/2 x dim per layer (matmul parameters = parameters - vocab x dim - dim +
//   vocab x dim / T; it ignores other families' windows, soft-caps, extra norms and tied
//   embeddings); the target is >= 50% of the SGEMM rate;
// - decode: tokens/s generating 256 tokens one at a time after a 16-token prompt (llama2.c's
//   run.c does about 135 tokens/s at this size on this machine class; target >= 150);
// - memory: peak resident memory of a prefill at --memory-context tokens (default 32K), and the
//   KV cache's share of it (--memory-context 0: skipped).
// --json: one JSON object on stdout instead of the lines above (bench/arch_cost.py reads it).
// --check: load the config and build the random model, print what it is, and stop (no timing).
// --describe: load the config and build its weight layout (no weight buffer: any size runs), print
//   one JSON line with what the parser resolved (tests/model/test_real_configs.py reads it), stop.

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "longctx/model/blas.h"
#include "longctx/model/model.h"
#include "longctx/util/error.h"

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

// The human lines go to stdout unless --json, which prints one object at the end.
static bool quiet = false;
__attribute__((format(printf, 1, 2))) static void say(const char* fmt, ...) {
  if (quiet) return;
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
}

static std::unique_ptr<model::Model> random_model(const model::ModelConfig& c) {
  const model::WeightLayout lay(c);
  std::vector<float> p(lay.total());
  lay.init_random(p.data(), 1, 0.02);
  return std::make_unique<model::Model>(c, std::move(p));
}

// One JSON line: the ModelConfig fields the parser resolved, and the parameter count of the weight
// layout (model::WeightLayout::parameters(), no buffer allocated).
static void print_description(const model::ModelConfig& c) {
  const model::WeightLayout lay(c);
  const char* family = "";
  switch (c.family) {
    case model::Family::Llama: family = "llama"; break;
    case model::Family::Mistral: family = "mistral"; break;
    case model::Family::Qwen2: family = "qwen2"; break;
    case model::Family::Qwen3: family = "qwen3"; break;
    case model::Family::Gemma2: family = "gemma2"; break;
    case model::Family::Gemma3: family = "gemma3"; break;
    case model::Family::Phi3: family = "phi3"; break;
  }
  std::string sliding, eos;
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) sliding += c.sliding(i) ? 'S' : 'F';
  for (const uint32_t e : c.eos_token_ids) eos += (eos.empty() ? "" : ", ") + std::to_string(e);
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  auto b = [](bool v) { return v ? "true" : "false"; };
  const auto& r = c.rope_scaling;
  std::printf("{\"architecture\": \"%s\", \"family\": \"%s\", \"vocab_size\": %llu, \"hidden_size\": %llu, "
              "\"intermediate_size\": %llu, \"num_hidden_layers\": %llu, \"num_attention_heads\": %llu, "
              "\"num_key_value_heads\": %llu, \"head_dim\": %llu, \"rotary_dim\": %llu, \"max_position_embeddings\": %llu, "
              "\"layer_sliding\": \"%s\", \"sliding_window\": %llu, \"attn_scale\": %.9g, \"attn_softcap\": %.17g, "
              "\"final_softcap\": %.17g, \"embed_scale\": %.9g, \"qkv_bias\": %s, \"o_bias\": %s, \"mlp_bias\": %s, "
              "\"qk_norm\": %s, \"norm_plus_one\": %s, \"sandwich_norms\": %s, \"fused_qkv\": %s, \"fused_gate_up\": %s, "
              "\"activation\": \"%s\", \"rope_type\": \"%s\", \"rope_factor\": %.17g, \"rope_original_max_position_embeddings\": %llu, "
              "\"rope_low_freq_factor\": %.17g, \"rope_high_freq_factor\": %.17g, \"rope_attention_factor\": %.17g, "
              "\"rope_short_factors\": %zu, \"rope_long_factors\": %zu, \"rope_theta\": %.17g, \"rope_local_theta\": %.17g, "
              "\"rms_norm_eps\": %.17g, \"tie_word_embeddings\": %s, \"eos_token_ids\": [%s], \"parameters\": %llu}\n",
              c.architecture.c_str(), family, u(c.vocab_size), u(c.hidden_size), u(c.intermediate_size), u(c.num_hidden_layers),
              u(c.num_attention_heads), u(c.num_key_value_heads), u(c.head_dim), u(c.rotary_dim), u(c.max_position_embeddings),
              sliding.c_str(), u(c.sliding_window), static_cast<double>(c.attn_scale), c.attn_softcap, c.final_softcap,
              static_cast<double>(c.embed_scale), b(c.qkv_bias), b(c.o_bias), b(c.mlp_bias), b(c.qk_norm), b(c.norm_plus_one),
              b(c.sandwich_norms), b(c.fused_qkv), b(c.fused_gate_up),
              c.activation == model::Activation::SiLU ? "silu" : "gelu_pytorch_tanh", r.type.c_str(), r.factor,
              u(r.original_max_position_embeddings), r.low_freq_factor, r.high_freq_factor, r.attention_factor,
              r.short_factor.size(), r.long_factor.size(), c.rope_theta, c.rope_local_theta, c.rms_norm_eps,
              b(c.tie_word_embeddings), eos.c_str(), u(lay.parameters()));
}

int main(int argc, char** argv) {
  model::ensure_blas_kernels(argv);
  int threads = 2;
  uint64_t mem_ctx = 32768;
  std::string config_path;
  bool as_json = false, check_only = false, describe = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--threads") && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--memory-context") && has_value) {
      mem_ctx = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--config") && has_value) {
      config_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--json")) {
      as_json = true;
    } else if (!std::strcmp(argv[i], "--check")) {
      check_only = true;
    } else if (!std::strcmp(argv[i], "--describe")) {
      describe = true;
    } else {
      std::fprintf(stderr,
                   "usage: bench_model [--threads N] [--memory-context TOKENS] [--config config.json] [--json] [--check] "
                   "[--describe]\n");
      return 2;
    }
  }
  quiet = as_json;
  model::ModelConfig c;
  try {
    c = config_path.empty()
            ? model::ModelConfig::parse(
                  R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 288, "intermediate_size": 768,
          "num_hidden_layers": 6, "num_attention_heads": 6, "num_key_value_heads": 6, "max_position_embeddings": 256, "tie_word_embeddings": true})",
                  "bench_model")
            : model::ModelConfig::load(config_path);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_model: %s\n", e.what());
    return 1;
  }
  if (describe) {
    print_description(c);
    return 0;
  }
  if (check_only) {
    const auto m = random_model(c);
    std::string sliding;
    for (uint64_t i = 0; i < c.num_hidden_layers; ++i) sliding += c.sliding(i) ? 'S' : 'F';
    if (as_json)
      std::printf("{\"architecture\": \"%s\", \"parameters\": %llu, \"head_dim\": %llu, \"sliding_window\": %llu, \"layers\": \"%s\", "
                  "\"rope_scaling\": \"%s\"}\n",
                  c.architecture.c_str(), static_cast<unsigned long long>(m->parameters()), static_cast<unsigned long long>(c.head_dim),
                  static_cast<unsigned long long>(c.sliding_window), sliding.c_str(), c.rope_scaling.type.c_str());
    else
      std::printf("%s: %s, %.2fM parameters, head_dim %llu, window %llu, layers %s (S sliding, F full), rope_scaling %s\n",
                  config_path.empty() ? "built-in" : config_path.c_str(), c.architecture.c_str(), m->parameters() / 1e6,
                  static_cast<unsigned long long>(c.head_dim), static_cast<unsigned long long>(c.sliding_window), sliding.c_str(),
                  c.rope_scaling.type.c_str());
    return 0;
  }
  model::blas::set_num_threads(threads);
  say("OpenBLAS %s, %d threads\n", model::blas::config(), threads);

  // SGEMM ceiling.
  const int N = 1024;
  std::vector<float> A(N * N, 0.5f), B(N * N, 0.25f), C(N * N);
  model::blas::sgemm(false, false, N, N, N, 1, A.data(), N, B.data(), N, 0, C.data(), N);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t = Clock::now();
    model::blas::sgemm(false, false, N, N, N, 1, A.data(), N, B.data(), N, 0, C.data(), N);
    best = std::max(best, 2.0 * N * N * N / seconds_since(t) / 1e9);
  }
  say("sgemm 1024^3: %.1f GFLOP/s (best of 5)\n", best);

  const auto m = random_model(c);
  if (config_path.empty())
    say("model: %.1fM parameters (llama2.c's 15M shape)\n", m->parameters() / 1e6);
  else
    say("model: %.1fM parameters (%s, %s)\n", m->parameters() / 1e6, c.architecture.c_str(), config_path.c_str());

  // Prefill.
  const uint64_t T = 2048;
  std::vector<uint32_t> ids(T);
  for (uint64_t i = 0; i < T; ++i) ids[i] = static_cast<uint32_t>((i * 7919) % c.vocab_size);
  // The LLaMA formula (for the built-in model: dim 288, 6 layers), with the config's dim and layers.
  const double dim = static_cast<double>(c.hidden_size), layers = static_cast<double>(c.num_hidden_layers);
  // The layers' matrices for every token, the output matrix for the last one only (prefill hands
  // over the last position's logits).
  const uint64_t embeddings = (c.tie_word_embeddings ? 1 : 2) * c.vocab_size * c.hidden_size;
  const double matmul_params = static_cast<double>(m->parameters() - embeddings - c.hidden_size) + c.vocab_size * dim / T;
  const double flops = 2.0 * matmul_params * T + layers * 4.0 * (T * T / 2.0) * dim;
  double prefill = 0, prefill_s = 1e300;
  const uint64_t chunk = std::getenv("PREFILL_CHUNK") ? std::strtoull(std::getenv("PREFILL_CHUNK"), nullptr, 10) : 256;
  for (int r = 0; r < 3; ++r) {
    model::Session s(*m, T);
    s.chunk = chunk;
    std::vector<float> logits;
    const auto t = Clock::now();
    s.forward(ids, &logits);
    prefill_s = std::min(prefill_s, seconds_since(t));
  }
  prefill = flops / prefill_s / 1e9;
  say("prefill %llu tokens: %.1f GFLOP/s = %.0f%% of sgemm (best of 3)\n", static_cast<unsigned long long>(T), prefill,
      100.0 * prefill / best);

  // Decode.
  double decode = 0;
  {
    model::Session s(*m, 16 + 256);
    std::vector<float> logits;
    s.forward(std::span<const uint32_t>(ids.data(), 16), &logits);
    const auto t = Clock::now();
    for (int i = 0; i < 256; ++i) {
      const uint32_t next = static_cast<uint32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      s.forward(std::span<const uint32_t>(&next, 1), &logits);
    }
    decode = 256 / seconds_since(t);
    say("decode: %.0f tokens/s (256 tokens after a 16-token prompt)\n", decode);
  }

  // Memory at a long context.
  double mem_s = 0, mem_peak_mb = 0, mem_before_mb = 0, mem_kv_mb = 0;
  if (mem_ctx > 0) {
    const long before = peak_rss_kb();
    std::vector<uint32_t> big(mem_ctx);
    for (uint64_t i = 0; i < mem_ctx; ++i) big[i] = static_cast<uint32_t>((i * 7919) % c.vocab_size);
    model::Session s(*m, mem_ctx);
    std::vector<float> logits;
    const auto t = Clock::now();
    s.forward(big, &logits);
    mem_s = seconds_since(t);
    mem_kv_mb = 2.0 * c.num_hidden_layers * mem_ctx * c.num_key_value_heads * c.head_dim * 4 / 1e6;
    mem_peak_mb = peak_rss_kb() / 1024.0;
    mem_before_mb = before / 1024.0;
    say("prefill %llu tokens: %.1f s; peak RSS %.0f MB (%.0f MB before; KV cache %.0f MB; attention scratch: one 128x512 score tile per thread)\n",
        static_cast<unsigned long long>(mem_ctx), mem_s, mem_peak_mb, mem_before_mb, mem_kv_mb);
  }

  if (as_json) {
    // config paths and architecture names are plain file names here; escape the two JSON-special
    // characters anyway.
    auto str = [](const std::string& v) {
      std::string o = "\"";
      for (const char ch : v) {
        if (ch == '"' || ch == '\\') o += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) o += ch;
      }
      return o + "\"";
    };
    std::printf("{\"config\": %s, \"architecture\": %s, \"parameters\": %llu, \"threads\": %d, \"sgemm_gflops\": %.3f, "
                "\"prefill_tokens\": %llu, \"prefill_s\": %.6f, \"prefill_tokens_per_s\": %.3f, \"prefill_gflops\": %.3f, "
                "\"prefill_gflops_formula\": \"llama: 2 x (parameters - vocab x dim - dim + vocab x dim / T) x T + layers x 4 x T^2/2 x dim\", "
                "\"prefill_pct_of_sgemm\": %.2f, \"decode_tokens\": 256, \"decode_prompt_tokens\": 16, \"decode_tokens_per_s\": %.3f",
                str(config_path.empty() ? "builtin-llama-15M" : config_path).c_str(), str(c.architecture).c_str(),
                static_cast<unsigned long long>(m->parameters()), threads, best, static_cast<unsigned long long>(T), prefill_s,
                T / prefill_s, prefill, 100.0 * prefill / best, decode);
    if (mem_ctx > 0)
      std::printf(", \"memory_context\": %llu, \"memory_prefill_s\": %.3f, \"peak_rss_mb\": %.1f, \"rss_before_mb\": %.1f, \"kv_cache_mb\": %.1f",
                  static_cast<unsigned long long>(mem_ctx), mem_s, mem_peak_mb, mem_before_mb, mem_kv_mb);
    std::printf("}\n");
  }
  return 0;
}
