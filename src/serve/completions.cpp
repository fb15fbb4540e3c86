#include "longctx/serve/completions.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "longctx/util/rng.h"

namespace longctx::serve {
namespace {

using json = nlohmann::ordered_json;

double log_softmax_at(const std::vector<float>& logits, uint32_t id) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  return static_cast<double>(logits[id]) - mx - std::log(sum);
}

}  // namespace

Completions::Completions(std::unique_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tok, std::string name,
                         uint64_t max_context)
    : model_(std::move(model)), tok_(std::move(tok)), name_(std::move(name)), max_context_(max_context) {}

std::string Completions::models() const {
  json j = {{"object", "list"}, {"data", json::array({{{"id", name_}, {"object", "model"}, {"owned_by", "longctx"}}})}};
  return j.dump();
}

std::string Completions::complete(const std::string& body) {
  json req;
  try {
    req = json::parse(body);
  } catch (const json::exception& e) {
    throw BadRequest{400, std::string("request body is not valid JSON: ") + e.what()};
  }
  if (!req.is_object()) throw BadRequest{400, "request body must be a JSON object"};
  static const std::set<std::string> known = {"prompt", "max_tokens", "temperature", "seed", "logprobs", "echo", "model", "stop", "n", "stream"};
  for (const auto& [k, v] : req.items())
    if (!known.count(k)) throw BadRequest{400, "unknown field \"" + k + "\""};
  if (req.contains("model") && req["model"].is_string() && req["model"] != name_)
    throw BadRequest{404, "model \"" + req["model"].get<std::string>() + "\" is not served here (this server has \"" + name_ + "\")"};
  if (req.value("n", 1) != 1) throw BadRequest{400, "only n = 1 is supported"};
  if (req.value("stream", false)) throw BadRequest{400, "streaming is not supported"};
  if (req.contains("stop") && !req["stop"].is_null()) throw BadRequest{400, "stop sequences are not supported"};
  if (!req.contains("prompt")) throw BadRequest{400, "missing field \"prompt\""};
  std::vector<uint32_t> prompt;
  const auto& p = req["prompt"];
  try {
    if (p.is_string()) {
      if (!tok_) throw BadRequest{400, "this server has no tokenizer: send the prompt as token ids"};
      prompt = tok_->encode(p.get<std::string>());
    } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
      for (const auto& x : p) {
        if (!x.is_number_unsigned() || x.get<uint64_t>() >= model_->config().vocab_size)
          throw BadRequest{400, "prompt token ids must be integers below the vocabulary size " + std::to_string(model_->config().vocab_size)};
        prompt.push_back(x.get<uint32_t>());
      }
    } else {
      throw BadRequest{400, "prompt must be a string or a non-empty array of token ids"};
    }
  } catch (const json::exception& e) {
    throw BadRequest{400, std::string("malformed prompt: ") + e.what()};
  }
  if (prompt.empty()) throw BadRequest{400, "the prompt has no tokens"};
  uint64_t max_tokens = 16;
  double temperature = 1.0;
  uint64_t seed = 0;
  bool echo = false;
  int logprobs = -1;
  try {
    if (req.contains("max_tokens") && !req["max_tokens"].is_null()) max_tokens = req["max_tokens"].get<uint64_t>();
    if (req.contains("temperature") && !req["temperature"].is_null()) temperature = req["temperature"].get<double>();
    if (req.contains("seed") && !req["seed"].is_null()) seed = req["seed"].get<uint64_t>();
    echo = req.value("echo", false);
    if (req.contains("logprobs") && !req["logprobs"].is_null()) logprobs = req["logprobs"].get<int>();
  } catch (const json::exception& e) {
    throw BadRequest{400, std::string("a field has the wrong type: ") + e.what()};
  }
  if (temperature < 0) throw BadRequest{400, "temperature must be >= 0"};
  if (prompt.size() + max_tokens > max_context_)
    throw BadRequest{413, "prompt (" + std::to_string(prompt.size()) + " tokens) + max_tokens (" + std::to_string(max_tokens) +
                              ") exceed the server's context limit of " + std::to_string(max_context_)};

  std::lock_guard lock(mu_);
  model::Session s(*model_, prompt.size() + max_tokens);
  json lp_tokens = json::array(), lp_values = json::array();
  std::vector<float> last;
  if (echo && logprobs >= 0) {
    // Prompt log-probabilities: each token given those before it (the first has none).
    lp_values.push_back(nullptr);
    s.forward_all(prompt, [&](uint64_t i, const float* l) {
      if (i + 1 < prompt.size()) {
        std::vector<float> row(l, l + model_->config().vocab_size);
        lp_values.push_back(log_softmax_at(row, prompt[i + 1]));
      } else {
        last.assign(l, l + model_->config().vocab_size);
      }
    });
  } else {
    s.forward(prompt, &last);
  }
  Rng rng(seed);
  std::vector<uint32_t> out;
  std::string finish = "length";
  const auto& eos = model_->config().eos_token_ids;
  for (uint64_t i = 0; i < max_tokens; ++i) {
    uint32_t next;
    if (temperature == 0) {
      next = static_cast<uint32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    } else {
      const float mx = *std::max_element(last.begin(), last.end());
      double sum = 0;
      std::vector<double> pr(last.size());
      for (size_t k = 0; k < pr.size(); ++k) sum += (pr[k] = std::exp((last[k] - mx) / temperature));
      double r = rng.uniform() * sum;
      next = static_cast<uint32_t>(pr.size() - 1);
      for (size_t k = 0; k < pr.size(); ++k)
        if ((r -= pr[k]) < 0) {
          next = static_cast<uint32_t>(k);
          break;
        }
    }
    if (logprobs >= 0) lp_values.push_back(log_softmax_at(last, next));
    out.push_back(next);
    if (std::find(eos.begin(), eos.end(), next) != eos.end()) {
      finish = "stop";
      break;
    }
    if (i + 1 < max_tokens) s.forward(std::span<const uint32_t>(&next, 1), &last);
  }
  std::vector<uint32_t> shown = out;
  if (echo) shown.insert(shown.begin(), prompt.begin(), prompt.end());
  const std::string text = tok_ ? tok_->decode(shown) : "";
  json choice = {{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
  choice["token_ids"] = shown;  // an extension: exactly which tokens (clients working in token space)
  if (logprobs >= 0) {
    for (const uint32_t id : shown) lp_tokens.push_back(tok_ ? json(tok_->decode(std::vector<uint32_t>{id})) : json(id));
    choice["logprobs"] = {{"tokens", lp_tokens}, {"token_logprobs", lp_values}, {"top_logprobs", nullptr}};
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json resp = {{"id", "cmpl-" + std::to_string(++counter_)}, {"object", "text_completion"}, {"created", now}, {"model", name_},
               {"choices", json::array({choice})},
               {"usage", {{"prompt_tokens", prompt.size()}, {"completion_tokens", out.size()}, {"total_tokens", prompt.size() + out.size()}}}};
  return resp.dump();
}

}  // namespace longctx::serve
