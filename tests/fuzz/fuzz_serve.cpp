// serve's POST /v1/completions body -> Completions::complete on a tiny model (zero weights, the
// tiny tokenizer, max_context 48): an answer that is JSON, or a BadRequest (4xx naming the field),
// never another exception (a 500) or a crash.
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "../tokenizer/tiny_tokenizers.h"
#include "longctx/model/config.h"
#include "longctx/model/weights.h"
#include "longctx/serve/completions.h"
#include "longctx/util/error.h"

namespace {
longctx::serve::Completions& api() {
  static longctx::serve::Completions c = [] {
    using namespace longctx;
    const auto cfg = model::ModelConfig::parse(
        R"({"architectures":["LlamaForCausalLM"],"vocab_size":14,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,)"
        R"("num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":64,"rms_norm_eps":1e-5,"eos_token_id":2})",
        "config.json");
    const model::WeightLayout lay(cfg);
    std::vector<float> params(lay.total());
    for (size_t i = 0; i < params.size(); ++i) params[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return serve::Completions(std::make_unique<model::Model>(cfg, std::move(params)),
                              tokenizer::Tokenizer::from_json(tokenizer::testing::sentencepiece_json(), "tiny"), "tiny", 48);
  }();
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  api();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const std::string out = api().complete(body);
    if (!nlohmann::json::accept(out)) __builtin_trap();
  } catch (const longctx::serve::BadRequest& e) {
    if (e.status < 400 || e.status > 499 || e.message.empty()) __builtin_trap();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "500: internal error: %s\n", e.what());
    __builtin_trap();
  }
  return 0;
}
