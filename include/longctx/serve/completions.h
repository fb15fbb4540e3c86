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

// A request the client got wrong: becomes an HTTP 4xx with an OpenAI-style error body
// ({"error": {"message", "type", "param", "code"}}); param names the field ("" for the body as a whole).
struct BadRequest {
  int status;
  std::string message;
  std::string param = {};
};

class Completions {
 public:
  Completions(std::unique_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tok, std::string name,
              uint64_t max_context);
  // POST /v1/completions, as OpenAI's completions API: prompt (a string, a list of token ids, or a
  // batch: a list of strings / of token-id lists, one choice each), max_tokens (16, >= 0),
  // temperature (1.0, 0..2; 0 = greedy), top_p (1, in (0, 1]: nucleus sampling after temperature),
  // n (1, 1..128 choices per prompt), seed (any integer), logprobs (null or 0..5: the chosen tokens'
  // log-probabilities and the N most likely tokens per position, with tokens and text_offset),
  // echo (the prompt's tokens and log-probabilities too), stop (a string or up to 4: the text ends
  // before the first one, finish_reason "stop"), model (must name this model), stream (false
  // only), user (ignored), best_of (n only), presence/frequency_penalty (0 only), logit_bias
  // (empty only), suffix (null/"" only). Every field's type and range is checked; unknown fields
  // are refused. Throws BadRequest (400 naming the field; 404 for another model; 413 past the
  // context). Requests run one at a time.
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
