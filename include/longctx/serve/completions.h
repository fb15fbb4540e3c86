// OpenAI-style completions on the in-process engine: one request (JSON) in, one response (JSON)
// out. The HTTP side lives in tools/longctx/cmd_serve.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

// A checked request (Completions::parse), ready to run.
struct Request {
  uint64_t max_tokens = 16, n = 1, seed = 0;
  double temperature = 1.0, top_p = 1.0;
  bool echo = false;
  int logprobs = -1;  // -1: none
  std::vector<std::string> stop;
  std::vector<std::vector<uint32_t>> prompts;
  bool stream = false, include_usage = false;  // stream_options.include_usage
};

// How a streamed request ended: every event sent, or the client went away after `tokens`.
struct StreamEnd {
  bool client_gone = false;
  uint64_t tokens = 0;
  std::string id;
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
  // before the first one, finish_reason "stop"), model (must name this model), stream and
  // stream_options.include_usage (server-sent events: stream()), user (ignored), best_of (n only),
  // presence/frequency_penalty (0 only), logit_bias (empty only), suffix (null/"" only). Every
  // field's type and range is checked; unknown fields are refused. Throws BadRequest (400 naming
  // the field; 404 for another model; 413 past the context). Requests run one at a time. With
  // stream true: the server-sent events, concatenated (stream() for a real client).
  std::string complete(const std::string& body);
  // The steps of complete(body): check the body (throws BadRequest), then run it.
  Request parse(const std::string& body) const;
  std::string complete(const Request& req);  // the JSON response (req.stream is ignored)
  // stream: true, as OpenAI streams completions: one server-sent event per text delta,
  // "data: {chunk}\n\n" with the response's shape (choices[0] = {text delta, index, logprobs null,
  // finish_reason null until the choice's last chunk}), with stream_options.include_usage a last
  // chunk with no choices and the usage, then "data: [DONE]\n\n". Deltas are whole UTF-8
  // characters and never text a stop string would cut; they concatenate to complete()'s text.
  // write(event) returns false when the client is gone: generation stops there.
  StreamEnd stream(const Request& req, const std::function<bool(const std::string&)>& write);
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
