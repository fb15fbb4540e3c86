// OpenAI-style completions on the in-process engine: one request (JSON) in, one response (JSON)
// out. The HTTP side lives in tools/longctx/cmd_serve.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "longctx/model/model.h"
#include "longctx/tokenizer/tokenizer.h"

namespace longctx::serve {

// A request the client got wrong: becomes an HTTP 4xx with an OpenAI-style error body.
struct BadRequest {
  int status;
  std::string message;
};

class Completions {
 public:
  Completions(std::unique_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tok, std::string name,
              uint64_t max_context);
  // POST /v1/completions. Fields: prompt (string, or token ids), max_tokens (16), temperature
  // (1.0; 0 = greedy), seed, logprobs (int: the chosen tokens' log-probabilities), echo (bool: the
  // prompt's tokens and log-probabilities too), model (must name this model if given), stop
  // (ignored when null). Unknown fields are refused. Throws BadRequest. Requests run one at a time.
  std::string complete(const std::string& body);
  std::string models() const;  // GET /v1/models
  const std::string& name() const { return name_; }

 private:
  std::unique_ptr<model::Model> model_;
  std::shared_ptr<const tokenizer::Tokenizer> tok_;
  std::string name_;
  uint64_t max_context_, counter_ = 0;
  std::mutex mu_;
};

}  // namespace longctx::serve
