// longctx generate: greedy or sampled continuation of a prompt with the in-process engine.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "longctx/model/model.h"
#include "longctx/text/ids_json.h"
#include "longctx/text/utf8.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"
#include "longctx/util/rng.h"

namespace longctx::cli {
namespace {

struct GenerateArgs {
  std::string model, prompt, prompt_ids, tokenizer;
  uint64_t max_new = 32, seed = 0, dynamic_pin = 0;
  double temperature = 0, rope_theta = 0;
  bool json = false, ignore_eos = false;
};

std::vector<uint32_t> parse_ids(const std::string& s) {
  std::vector<uint32_t> ids;
  size_t start = 0;
  while (start < s.size()) {
    const size_t comma = s.find(',', start);
    const std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const unsigned long v = std::strtoul(part.c_str(), &end, 10);
    if (part.empty() || *end || v > UINT32_MAX) throw Error("--prompt-ids: expected comma-separated token ids, found \"" + part + "\"");
    ids.push_back(static_cast<uint32_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (ids.empty()) throw Error("--prompt-ids: expected at least one token id");
  return ids;
}

// Greedy: the highest logit (the lowest id on ties, as torch.argmax). Else a sample of
// softmax(logits / T) drawn with the seeded generator.
uint32_t pick(const std::vector<float>& logits, double temperature, Rng& rng) {
  if (temperature <= 0) return static_cast<uint32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const float mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += (p[i] = std::exp((logits[i] - mx) / temperature));
  double r = rng.uniform() * sum;
  for (size_t i = 0; i < p.size(); ++i)
    if ((r -= p[i]) < 0) return static_cast<uint32_t>(i);
  return static_cast<uint32_t>(p.size() - 1);
}

int run(const GenerateArgs& a) {
  if (a.prompt.empty() == a.prompt_ids.empty()) throw Error("give exactly one of --prompt and --prompt-ids");
  const auto model = model::Model::load(a.model, {a.rope_theta, a.dynamic_pin});
  const std::string tok_path = a.tokenizer.empty() ? a.model + "/tokenizer.json" : a.tokenizer;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  if (std::filesystem::exists(tok_path)) tok = tokenizer::Tokenizer::load(tok_path);
  std::vector<uint32_t> prompt;
  if (!a.prompt.empty()) {
    if (!tok) throw Error(tok_path + ": --prompt needs the model's tokenizer.json (or use --prompt-ids)");
    prompt = tok->encode(a.prompt);
  } else {
    prompt = parse_ids(a.prompt_ids);
  }
  model::Session s(*model, prompt.size() + a.max_new);
  std::vector<float> logits;
  s.forward(prompt, &logits);
  Rng rng(a.seed);
  std::vector<uint32_t> out;
  const auto& eos = model->config().eos_token_ids;
  for (uint64_t i = 0; i < a.max_new; ++i) {
    const uint32_t next = pick(logits, a.temperature, rng);
    out.push_back(next);
    if (!a.ignore_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
    if (i + 1 < a.max_new) s.forward(std::span<const uint32_t>(&next, 1), &logits);
  }
  const std::string text = tok ? tok->decode(out, true, true) : std::string();
  if (a.json) {
    std::string j = "{\"ids\": ";
    text::append_ids_json(j, out);
    j += ", \"text\": ";
    if (tok) {
      j += '"';
      text::json_escape_append(j, text);
      j += '"';
    } else {
      j += "null";
    }
    j += "}\n";
    std::fwrite(j.data(), 1, j.size(), stdout);
  } else if (tok) {
    std::printf("%s\n", text.c_str());
  } else {
    std::string j;
    text::append_ids_json(j, out);
    std::printf("%s\n", j.c_str());
  }
  return 0;
}

}  // namespace

Run add_generate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  auto* sub = app.add_subcommand("generate", "continue a prompt with a LLaMA, Mistral, Qwen, Gemma or Phi-3 model (greedy at temperature 0)");
  sub->add_option("--model", a->model, "Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)")->required();
  sub->add_option("--prompt", a->prompt, "prompt text (encoded with the model's tokenizer, BOS as it adds)");
  sub->add_option("--prompt-ids", a->prompt_ids, "prompt as token ids: 1,2,3");
  sub->add_option("--max-new-tokens", a->max_new, "tokens to generate")->capture_default_str();
  sub->add_option("--temperature", a->temperature, "0: greedy; else sample softmax(logits / T)")->capture_default_str();
  sub->add_option("--seed", a->seed, "sampling seed")->capture_default_str();
  sub->add_option("--tokenizer", a->tokenizer, "tokenizer.json (default: the model folder's)");
  sub->add_option("--rope-theta", a->rope_theta, "override config.json's rope_theta (the paper's adjusted base)");
  sub->add_option("--dynamic-pin", a->dynamic_pin, "dynamic NTK: compute the table once for this length (the paper: 81920)");
  sub->add_flag("--ignore-eos", a->ignore_eos, "do not stop at the end-of-sequence token");
  sub->add_flag("--json", a->json, "print {\"ids\": [...], \"text\": \"...\"}");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
