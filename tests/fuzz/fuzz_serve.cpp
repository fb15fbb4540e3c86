// serve's POST /v1/completions body -> Completions::complete on a tiny model (zero weights, the
// tiny tokenizer, max_context 48): an answer that is JSON, or a BadRequest (4xx naming the field),
// never another exception (a 500) or a crash. With stream true, differential: the events are
// well formed and each choice's deltas concatenate to the non-streamed text, token ids and logprobs.
#include <cstdint>
#include <cstdio>
#include <map>
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

// "data: {json}\n\n" events ending with "data: [DONE]\n\n" -> text and token ids per choice index.
struct Streamed {
  std::map<uint64_t, std::string> text;
  std::map<uint64_t, nlohmann::json> ids;
  std::map<uint64_t, std::string> finish;
  std::map<uint64_t, nlohmann::json> logprobs;  // the chunks' logprobs lists, concatenated
};

Streamed parse_events(const std::string& events) {
  Streamed s;
  size_t at = 0;
  bool done = false;
  while (at < events.size()) {
    const size_t end = events.find("\n\n", at);
    if (done || events.compare(at, 6, "data: ") != 0 || end == std::string::npos) __builtin_trap();
    const std::string data = events.substr(at + 6, end - at - 6);
    at = end + 2;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    const auto chunk = nlohmann::json::parse(data);
    for (const auto& c : chunk.at("choices")) {
      const uint64_t i = c.at("index").get<uint64_t>();
      if (s.finish.count(i)) __builtin_trap();  // nothing after a choice's last chunk
      s.text[i] += c.at("text").get<std::string>();
      for (const auto& id : c.at("token_ids")) s.ids[i].push_back(id);
      if (!c.at("logprobs").is_null())
        for (const char* k : {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
          auto& acc = s.logprobs[i];
          if (!acc.contains(k)) acc[k] = nlohmann::json::array();
          for (const auto& x : c.at("logprobs").at(k)) acc[k].push_back(x);
        }
      if (!c.at("finish_reason").is_null()) s.finish[i] = c.at("finish_reason").get<std::string>();
    }
  }
  if (!done) __builtin_trap();
  return s;
}

void check_stream(const std::string& body) {
  longctx::serve::Request req = api().parse(body);
  const Streamed s = parse_events(api().complete(body));
  req.stream = false;
  const auto whole = nlohmann::json::parse(api().complete(req));
  for (const auto& c : whole.at("choices")) {
    const uint64_t i = c.at("index").get<uint64_t>();
    const auto ids = s.ids.count(i) ? s.ids.at(i) : nlohmann::json::array();
    // Logprobs: every chunk carries its tokens' entries, so the lists concatenate to the whole
    // choice's (both null without logprobs).
    const nlohmann::json got = s.logprobs.count(i) ? s.logprobs.at(i) : nlohmann::json();
    if (!s.text.count(i) || s.text.at(i) != c.at("text").get<std::string>() || ids != c.at("token_ids") ||
        s.finish.at(i) != c.at("finish_reason").get<std::string>() || got != c.at("logprobs")) {
      std::fprintf(stderr, "streamed choice %llu differs from the non-streamed one\n", static_cast<unsigned long long>(i));
      __builtin_trap();
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    if (api().parse(body).stream) return check_stream(body), 0;
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
