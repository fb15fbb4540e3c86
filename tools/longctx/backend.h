// The model behind needle and bookqa: the in-process engine or an OpenAI-compatible endpoint
// (token ids sent, so the model sees exactly the planned prompt; timeouts, retries with backoff).
// Both decode greedily and stop at max_new tokens or an end-of-sequence token.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "longctx/model/model.h"
#include "longctx/tokenizer/tokenizer.h"
#include "longctx/util/error.h"

namespace longctx::cli {

struct BackendOptions {
  std::string model, endpoint, out;  // out: named in the message when the endpoint dies
  uint64_t max_new = 50;
  double timeout = 600;
  int retries = 5;
  double rope_theta = 0;
  uint64_t dynamic_pin = 0;
};

// Generates with the in-process engine or over HTTP; both greedy, max_new tokens, EOS stops.
class Backend {
 public:
  Backend(BackendOptions options, const tokenizer::Tokenizer& tok) : a_(std::move(options)), tok_(tok) {
    if (!a_.model.empty()) {
      model_ = model::Model::load(a_.model, {a_.rope_theta, a_.dynamic_pin});
    } else {
      client_ = std::make_unique<httplib::Client>(a_.endpoint);
      const auto secs = static_cast<time_t>(a_.timeout);
      client_->set_connection_timeout(10, 0);
      client_->set_read_timeout(secs, 0);
      client_->set_write_timeout(secs, 0);
    }
  }
  std::vector<uint32_t> generate(const std::vector<uint32_t>& prompt) {
    return model_ ? engine(prompt) : endpoint(prompt);
  }

 private:
  std::vector<uint32_t> engine(const std::vector<uint32_t>& prompt) {
    model::Session s(*model_, prompt.size() + a_.max_new);
    std::vector<float> logits;
    s.forward(prompt, &logits);
    std::vector<uint32_t> out;
    const auto& eos = model_->config().eos_token_ids;
    for (uint64_t i = 0; i < a_.max_new; ++i) {
      const auto next = static_cast<uint32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      out.push_back(next);
      if (std::find(eos.begin(), eos.end(), next) != eos.end()) break;
      if (i + 1 < a_.max_new) s.forward(std::span<const uint32_t>(&next, 1), &logits);
    }
    return out;
  }
  std::vector<uint32_t> endpoint(const std::vector<uint32_t>& prompt) {
    const nlohmann::json body = {{"prompt", prompt}, {"max_tokens", a_.max_new}, {"temperature", 0}};
    std::string last;
    for (int attempt = 0; attempt <= a_.retries; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500 << std::min(attempt - 1, 6)));  // backoff
      auto res = client_->Post("/v1/completions", body.dump(), "application/json");
      if (!res) {
        last = httplib::to_string(res.error());
        continue;
      }
      if (res->status >= 500) {
        last = "HTTP " + std::to_string(res->status);
        continue;
      }
      if (res->status != 200) throw Error(a_.endpoint + ": HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300));
      try {
        const auto j = nlohmann::json::parse(res->body);
        const auto& c = j.at("choices").at(0);
        if (c.contains("token_ids")) return c["token_ids"].get<std::vector<uint32_t>>();
        return tok_.encode(c.at("text").get<std::string>(), {false, false});  // a server without the token_ids extension
      } catch (const nlohmann::json::exception& e) {
        throw Error(a_.endpoint + ": not an OpenAI completions response: " + e.what());
      }
    }
    throw Error(a_.endpoint + ": no answer after " + std::to_string(a_.retries + 1) + " tries (last: " + last +
                "); finished results are kept in " + a_.out + " and a rerun resumes");
  }
  BackendOptions a_;
  const tokenizer::Tokenizer& tok_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace longctx::cli
