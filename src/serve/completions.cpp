#include "longctx/serve/completions.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <span>

#include "longctx/util/rng.h"

namespace longctx::serve {
namespace {

using json = nlohmann::ordered_json;

constexpr uint64_t kMaxN = 128;         // OpenAI's limit on n
constexpr int kMaxLogprobs = 5;         // OpenAI's limit on logprobs for completions
constexpr size_t kMaxStops = 4;         // OpenAI's limit on stop sequences
constexpr size_t kPieceContext = 8;     // tokens of left context when decoding one token's text

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// "found ..." for error messages: the JSON type and (short) value the client sent.
std::string describe(const json& v) {
  std::string d;
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return std::string("the boolean ") + (v.get<bool>() ? "true" : "false");
    case json::value_t::string: d = "the string " + dump(v); break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: d = dump(v); break;
    case json::value_t::number_float: d = "the number " + dump(v); break;
    case json::value_t::array: return v.empty() ? "an empty list" : "a list of " + std::to_string(v.size()) + (v.size() == 1 ? " item" : " items");
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
  if (d.size() > 80) d = d.substr(0, 77) + "...";
  return d;
}

// 400 naming the field (an element as "prompt[1][3]"; param is the request's field, "prompt").
[[noreturn]] void bad(const std::string& field, const std::string& expected, const json& found) {
  throw BadRequest{400, field + ": expected " + expected + ", found " + describe(found), field.substr(0, field.find('['))};
}

// The field's value, or nullptr when absent or null (OpenAI: null means the default).
const json* field(const json& req, const char* name) {
  const auto it = req.find(name);
  return it == req.end() || it->is_null() ? nullptr : &*it;
}

uint64_t get_uint(const json& v, const std::string& name, uint64_t lo, uint64_t hi, const std::string& expected) {
  if (!v.is_number_integer() || !v.is_number_unsigned()) bad(name, expected, v);
  const uint64_t u = v.get<uint64_t>();
  if (u < lo || u > hi) bad(name, expected, v);
  return u;
}

double get_number(const json& v, const std::string& name, double lo, double hi, bool lo_open, const std::string& expected) {
  if (!v.is_number()) bad(name, expected, v);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x > hi || x < lo || (lo_open && x == lo)) bad(name, expected, v);
  return x;
}

size_t codepoints(const std::string& s) {
  size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

double log_sum_exp(std::span<const float> logits) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  return mx + std::log(sum);
}

// The k most likely ids (ties: the lower id first) with their log-probabilities.
std::vector<std::pair<uint32_t, double>> top_k(std::span<const float> logits, double lse, int k) {
  std::vector<std::pair<uint32_t, double>> top;
  if (k <= 0) return top;
  std::vector<uint32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0u);
  const auto kk = std::min<size_t>(static_cast<size_t>(k), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(kk), ids.end(),
                    [&](uint32_t a, uint32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
  for (size_t i = 0; i < kk; ++i) top.emplace_back(ids[i], static_cast<double>(logits[ids[i]]) - lse);
  return top;
}

// Temperature 0: the most likely token. Otherwise softmax(logits / temperature); with top_p < 1
// only the smallest set of most likely tokens whose probability reaches top_p (nucleus), then
// renormalized. One uniform draw per token either way, so a seed fixes the sequence; top_p = 1
// draws exactly as plain sampling does.
uint32_t sample(const std::vector<float>& last, const Request& p, Rng& rng) {
  if (p.temperature == 0) return static_cast<uint32_t>(std::max_element(last.begin(), last.end()) - last.begin());
  const float mx = *std::max_element(last.begin(), last.end());
  double sum = 0;
  std::vector<double> pr(last.size());
  for (size_t k = 0; k < pr.size(); ++k) sum += (pr[k] = std::exp((last[k] - mx) / p.temperature));
  const double u = rng.uniform();
  if (p.top_p >= 1) {
    double r = u * sum;
    for (size_t k = 0; k < pr.size(); ++k)
      if ((r -= pr[k]) < 0) return static_cast<uint32_t>(k);
    return static_cast<uint32_t>(pr.size() - 1);
  }
  std::vector<uint32_t> order(pr.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return pr[a] != pr[b] ? pr[a] > pr[b] : a < b; });
  const double target = p.top_p * sum;
  double cum = 0;
  size_t m = 0;
  while (m < order.size()) {
    cum += pr[order[m++]];
    if (cum >= target) break;
  }
  double r = u * cum;
  for (size_t i = 0; i < m; ++i)
    if ((r -= pr[order[i]]) < 0) return order[i];
  return order[m - 1];
}

// The text `ids` add after `context` (decode(context + ids) less decode(context)), so a token gets
// the leading space a tokenizer drops at the start of a text; decode(ids) where that fails.
// Ids the tokenizer lacks (a model's padded vocabulary) decode to nothing, as in HF.
std::string continuation(const tokenizer::Tokenizer& tok, std::span<const uint32_t> context, std::span<const uint32_t> ids) {
  if (context.empty()) return tok.decode(ids, false, true);
  std::vector<uint32_t> all(context.begin(), context.end());
  all.insert(all.end(), ids.begin(), ids.end());
  const std::string full = tok.decode(all, false, true), pre = tok.decode(context, false, true);
  if (full.size() >= pre.size() && full.compare(0, pre.size(), pre) == 0) return full.substr(pre.size());
  return tok.decode(ids, false, true);
}

// One position's log-probabilities: the chosen token's and the `logprobs` most likely.
struct Position {
  uint32_t id;
  double logprob;
  std::vector<std::pair<uint32_t, double>> top;
};

Position position(std::span<const float> logits, uint32_t id, int logprobs) {
  const double lse = log_sum_exp(logits);
  return {id, static_cast<double>(logits[id]) - lse, top_k(logits, lse, logprobs)};
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD: what decode makes of an incomplete character

// A byte-fallback token ("<0x41>"): its bytes join the byte tokens next to it, and decode turns the
// whole run into U+FFFDs while it is not valid UTF-8, so the run's text is final only once a token
// of another kind follows.
bool is_byte_token(const tokenizer::Tokenizer& tok, uint32_t id) {
  const auto t = tok.id_to_token(id);
  return t && t->size() == 6 && t->compare(0, 3, "<0x") == 0 && t->back() == '>';
}

// The length of the longest end of `text` that begins one of the stop strings (and could grow into it).
size_t stop_prefix_at_end(std::string_view text, const std::vector<std::string>& stop) {
  size_t keep = 0;
  for (const auto& st : stop)
    for (size_t k = std::min(text.size(), st.size() - 1); k > keep; --k)
      if (text.compare(text.size() - k, k, st, 0, k) == 0) {
        keep = k;
        break;
      }
  return keep;
}

// Streams one choice: after each token, sends the text no later token can change (not a trailing
// byte-token run, not trailing U+FFFDs, not the start of a stop string), so the deltas are whole
// characters and concatenate to the non-streamed text. `send` gets the choice object of a chunk
// and returns false when the client is gone.
class ChoiceStream {
 public:
  using Send = std::function<bool(json)>;
  // The logprobs object of positions [k0, k1) of prompt + completion (null without logprobs).
  using Logprobs = std::function<json(size_t k0, size_t k1)>;
  ChoiceStream(const tokenizer::Tokenizer* tok, std::span<const uint32_t> context, const std::vector<std::string>& stop, uint64_t index,
               Send send, Logprobs lp, size_t prompt_tokens)
      : tok_(tok), context_(context), stop_(stop), index_(index), send_(std::move(send)), lp_(std::move(lp)), p_(prompt_tokens) {}

  // echo: the prompt first, as its own chunk.
  bool prompt(const std::string& text, const std::vector<uint32_t>& ids) { return send_(chunk(text, ids, 0, ids.size(), nullptr)); }

  // After each generated token that does not end the choice; `full` is the completion so far.
  bool token(const std::vector<uint32_t>& out, const std::string& full) {
    if (!tok_) {
      sent_ids_ = out.size();
      return send_(chunk("", {out.back()}, p_ + out.size() - 1, p_ + out.size(), nullptr));
    }
    size_t settled = out.size();
    while (settled > 0 && is_byte_token(*tok_, out[settled - 1])) --settled;
    std::string text = settled == out.size() ? full : continuation(*tok_, context_, std::span<const uint32_t>(out.data(), settled));
    while (text.size() >= kReplacement.size() && text.compare(text.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
      text.resize(text.size() - kReplacement.size());
    text.resize(text.size() - stop_prefix_at_end(text, stop_));
    // Only text that extends what was sent and that the full text still begins with.
    if (text.size() <= sent_.size() || text.compare(0, sent_.size(), sent_) != 0 || full.compare(0, text.size(), text) != 0) return true;
    std::vector<uint32_t> ids(out.begin() + static_cast<ptrdiff_t>(sent_ids_), out.end());
    const std::string delta = text.substr(sent_.size());
    sent_ = std::move(text);
    const size_t from = sent_ids_;
    sent_ids_ = out.size();
    return send_(chunk(delta, ids, p_ + from, p_ + out.size(), nullptr));
  }

  // The choice's last chunk: the rest of its text, finish_reason set.
  bool finish(const std::string& completion, const std::vector<uint32_t>& out, const std::string& reason) {
    const std::string rest = completion.compare(0, sent_.size(), sent_) == 0 ? completion.substr(sent_.size()) : "";
    const size_t from = std::min(sent_ids_, out.size());
    std::vector<uint32_t> ids(out.begin() + static_cast<ptrdiff_t>(from), out.end());
    return send_(chunk(rest, ids, p_ + from, p_ + out.size(), reason.c_str()));
  }

 private:
  // A chunk of tokens [k0, k1) of prompt + completion: their log-probabilities with logprobs, so
  // that the chunks' lists concatenate to the non-streamed choice's.
  json chunk(const std::string& text, const std::vector<uint32_t>& ids, size_t k0, size_t k1, const char* finish) const {
    json c = {{"text", text}, {"index", index_}, {"logprobs", lp_ ? lp_(k0, k1) : json()}, {"finish_reason", finish ? json(finish) : json()}};
    c["token_ids"] = ids;
    return c;
  }

  const tokenizer::Tokenizer* tok_;
  std::span<const uint32_t> context_;
  const std::vector<std::string>& stop_;
  uint64_t index_;
  Send send_;
  Logprobs lp_;
  size_t p_;  // prompt tokens: completion token j is position p_ + j
  std::string sent_;
  size_t sent_ids_ = 0;
};

// A choice's logprobs object (OpenAI's completions: tokens, token_logprobs, top_logprobs,
// text_offset) for positions of prompt + completion, built in order: the streamed chunks' parts
// and the whole choice's (a second builder) hold the same entries. Position k < prompt size is a
// prompt token (echo: the first has no log-probability), else completion token k - prompt size.
class LogprobsBuilder {
 public:
  LogprobsBuilder(const tokenizer::Tokenizer* tok, const std::vector<uint32_t>& prompt, const std::vector<uint32_t>& out,
                  const std::vector<Position>& prompt_pos, const std::vector<Position>& out_pos, size_t first_offset)
      : tok_(tok), prompt_(prompt), out_(out), prompt_pos_(prompt_pos), out_pos_(out_pos), offset_(first_offset) {}

  json part(size_t k0, size_t k1) {
    json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
    for (size_t k = k0; k < k1; ++k) {
      const Position* pos = k < prompt_.size() ? (k == 0 ? nullptr : &prompt_pos_[k - 1]) : &out_pos_[k - prompt_.size()];
      const std::string text = piece(k, at(k));
      tokens.push_back(text);
      offsets.push_back(offset_);
      offset_ += codepoints(text);
      if (!pos) {
        values.push_back(nullptr);
        tops.push_back(nullptr);
        continue;
      }
      values.push_back(pos->logprob);
      // The `logprobs` most likely tokens, most likely first, and the chosen one (OpenAI: up to
      // logprobs + 1 entries); tokens with the same text keep the higher log-probability.
      json top = json::object();
      for (const auto& [id, lp] : pos->top) {
        const std::string t = piece(k, id);
        if (!top.contains(t)) top[t] = lp;
      }
      if (!top.contains(text)) top[text] = pos->logprob;
      tops.push_back(std::move(top));
    }
    return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
  }

 private:
  uint32_t at(size_t k) const { return k < prompt_.size() ? prompt_[k] : out_[k - prompt_.size()]; }
  // The text of `id` at position k: its continuation of the kPieceContext tokens before k.
  std::string piece(size_t k, uint32_t id) const {
    if (!tok_) return std::to_string(id);
    std::vector<uint32_t> ctx;
    for (size_t i = k > kPieceContext ? k - kPieceContext : 0; i < k; ++i) ctx.push_back(at(i));
    return continuation(*tok_, ctx, std::span<const uint32_t>(&id, 1));
  }

  const tokenizer::Tokenizer* tok_;
  const std::vector<uint32_t>& prompt_;
  const std::vector<uint32_t>& out_;
  const std::vector<Position>& prompt_pos_;
  const std::vector<Position>& out_pos_;
  size_t offset_;
};

// One choice: prompt → completion (stop strings, EOS, max_tokens), as OpenAI's choice object plus
// token_ids (the tokens shown: the prompt's too with echo). With `stream`, also sent as it grows;
// `gone` is set (and generation stops) when the client goes away.
json run_choice(const model::Model& model, const tokenizer::Tokenizer* tok, const std::vector<uint32_t>& prompt, const Request& p, Rng& rng,
                uint64_t index, uint64_t& produced, const ChoiceStream::Send* send = nullptr, bool* gone = nullptr) {
  const uint64_t vocab = model.config().vocab_size;
  const bool want_lp = p.logprobs >= 0;
  model::Session s(model, prompt.size() + p.max_tokens);
  std::vector<Position> prompt_pos, out_pos;  // prompt_pos[k]: prompt token k + 1 given those before it
  std::vector<float> last;
  if (p.echo && want_lp) {
    s.forward_all(prompt, [&](uint64_t i, const float* l) {
      if (i + 1 < prompt.size()) {
        prompt_pos.push_back(position({l, vocab}, prompt[i + 1], p.logprobs));
      } else {
        last.assign(l, l + vocab);
      }
    });
  } else {
    s.forward(prompt, &last);
  }
  const std::span<const uint32_t> context(prompt.data() + (prompt.size() > kPieceContext ? prompt.size() - kPieceContext : 0),
                                          std::min(prompt.size(), kPieceContext));
  const std::string prompt_text = tok && (p.echo || want_lp) ? tok->decode(prompt, false, true) : "";
  std::vector<uint32_t> out;
  const size_t first_offset = p.echo ? 0 : codepoints(prompt_text);
  LogprobsBuilder streamed_lp(tok, prompt, out, prompt_pos, out_pos, first_offset);
  std::optional<ChoiceStream> stream;
  if (send)
    stream.emplace(tok, context, p.stop, index, *send,
                   want_lp ? ChoiceStream::Logprobs([&](size_t k0, size_t k1) { return streamed_lp.part(k0, k1); }) : nullptr, prompt.size());
  auto client_gone = [&] {
    *gone = true;
    return json();
  };
  if (stream && p.echo && !stream->prompt(prompt_text, prompt)) return client_gone();
  std::string finish = "length", completion;
  bool stopped = false;
  const auto& eos = model.config().eos_token_ids;
  for (uint64_t i = 0; i < p.max_tokens; ++i) {
    const uint32_t next = sample(last, p, rng);
    if (want_lp) out_pos.push_back(position(last, next, p.logprobs));
    out.push_back(next);
    if (std::find(eos.begin(), eos.end(), next) != eos.end()) {
      finish = "stop";
      break;
    }
    const std::string text = tok && (!p.stop.empty() || stream) ? continuation(*tok, context, out) : "";
    size_t cut = std::string::npos;
    for (const auto& st : p.stop) cut = std::min(cut, text.find(st));
    if (cut != std::string::npos) {
      completion = text.substr(0, cut);
      stopped = true;
      finish = "stop";
      break;
    }
    if (stream && i + 1 < p.max_tokens && !stream->token(out, text)) {
      produced += out.size();
      return client_gone();
    }
    if (i + 1 < p.max_tokens) s.forward(std::span<const uint32_t>(&next, 1), &last);
  }
  produced += out.size();
  if (!stopped && tok) completion = continuation(*tok, context, out);
  if (stream && !stream->finish(completion, out, finish)) return client_gone();
  std::vector<uint32_t> shown = out;
  if (p.echo) shown.insert(shown.begin(), prompt.begin(), prompt.end());
  json choice = {{"text", p.echo ? prompt_text + completion : completion}, {"index", index}, {"logprobs", nullptr}, {"finish_reason", finish}};
  choice["token_ids"] = shown;  // an extension: exactly which tokens (clients working in token space)
  if (want_lp)
    choice["logprobs"] = LogprobsBuilder(tok, prompt, out, prompt_pos, out_pos, first_offset)
                             .part(p.echo ? 0 : prompt.size(), prompt.size() + out.size());
  return choice;
}

// The request body as a JSON object with known fields only.
json parse_body(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    throw BadRequest{400, "request body: expected a JSON object with at least \"prompt\", found an empty body"};
  json req;
  try {
    req = json::parse(body);
  } catch (const json::exception& e) {
    throw BadRequest{400, std::string("request body: expected a JSON object, found text that is not valid JSON (") + e.what() + ")"};
  }
  if (!req.is_object()) throw BadRequest{400, "request body: expected a JSON object, found " + describe(req)};
  static const std::set<std::string> known = {"prompt", "max_tokens", "temperature", "top_p", "seed", "logprobs", "echo", "model",
                                              "stop", "n", "stream", "stream_options", "user", "best_of", "presence_penalty",
                                              "frequency_penalty", "logit_bias", "suffix"};
  for (const auto& [k, v] : req.items())
    if (!known.count(k)) throw BadRequest{400, "unknown field \"" + k + "\"", k};
  return req;
}

// The sampling and output options, and the neutral-only ones.
void parse_options(const json& req, Request& p) {
  if (const json* v = field(req, "max_tokens")) p.max_tokens = get_uint(*v, "max_tokens", 0, UINT64_MAX, "a non-negative integer");
  if (const json* v = field(req, "temperature")) p.temperature = get_number(*v, "temperature", 0, 2, false, "a number from 0 to 2");
  if (const json* v = field(req, "top_p")) p.top_p = get_number(*v, "top_p", 0, 1, true, "a number greater than 0 and at most 1");
  if (const json* v = field(req, "n")) p.n = get_uint(*v, "n", 1, kMaxN, "an integer from 1 to " + std::to_string(kMaxN));
  if (const json* v = field(req, "best_of")) {
    const uint64_t b = get_uint(*v, "best_of", 1, kMaxN, "an integer from 1 to " + std::to_string(kMaxN));
    if (b != p.n) throw BadRequest{400, "best_of: only best_of = n (" + std::to_string(p.n) + ") is supported, found " + describe(*v), "best_of"};
  }
  if (const json* v = field(req, "seed")) {
    if (!v->is_number_integer()) bad("seed", "an integer", *v);
    p.seed = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
  }
  if (const json* v = field(req, "logprobs"))
    p.logprobs = static_cast<int>(get_uint(*v, "logprobs", 0, kMaxLogprobs, "null or an integer from 0 to " + std::to_string(kMaxLogprobs)));
  if (const json* v = field(req, "echo")) {
    if (!v->is_boolean()) bad("echo", "a boolean", *v);
    p.echo = v->get<bool>();
  }
  if (const json* v = field(req, "user"))
    if (!v->is_string()) bad("user", "a string", *v);
  for (const char* pen : {"presence_penalty", "frequency_penalty"})
    if (const json* v = field(req, pen)) {
      const double x = get_number(*v, pen, -2, 2, false, "a number from -2 to 2");
      if (x != 0) throw BadRequest{400, std::string(pen) + ": only 0 is supported, found " + describe(*v), pen};
    }
  if (const json* v = field(req, "logit_bias")) {
    if (!v->is_object()) bad("logit_bias", "an object (token id -> bias)", *v);
    if (!v->empty()) throw BadRequest{400, "logit_bias: only an empty object is supported, found " + describe(*v), "logit_bias"};
  }
  if (const json* v = field(req, "suffix")) {
    if (!v->is_string()) bad("suffix", "a string", *v);
    if (!v->get<std::string>().empty()) throw BadRequest{400, "suffix: only an empty suffix is supported, found " + describe(*v), "suffix"};
  }
}

// stream and stream_options ({"include_usage": bool}, only with stream, as OpenAI).
void parse_stream(const json& req, Request& p) {
  if (const json* v = field(req, "stream")) {
    if (!v->is_boolean()) bad("stream", "a boolean", *v);
    p.stream = v->get<bool>();
  }
  const json* v = field(req, "stream_options");
  if (!v) return;
  if (!p.stream) throw BadRequest{400, "stream_options: only supported with stream true, found " + describe(*v), "stream_options"};
  if (!v->is_object()) bad("stream_options", "an object ({\"include_usage\": true})", *v);
  for (const auto& [k, x] : v->items()) {
    if (k != "include_usage") bad("stream_options", "an object with only \"include_usage\"", *v);
    if (!x.is_boolean()) bad("stream_options.include_usage", "a boolean", x);
    p.include_usage = x.get<bool>();
  }
}

void parse_stop(const json& req, Request& p, bool have_tokenizer) {
  if (const json* v = field(req, "stop")) {
    const std::string expected = "a non-empty string or a list of up to " + std::to_string(kMaxStops) + " non-empty strings";
    if (v->is_string()) {
      if (v->get<std::string>().empty()) bad("stop", expected, *v);
      p.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > kMaxStops) bad("stop", expected, *v);
      for (size_t i = 0; i < v->size(); ++i) {
        const json& s = (*v)[i];
        if (!s.is_string() || s.get<std::string>().empty()) bad("stop[" + std::to_string(i) + "]", "a non-empty string", s);
        p.stop.push_back(s.get<std::string>());
      }
    } else {
      bad("stop", expected, *v);
    }
    if (!p.stop.empty() && !have_tokenizer) throw BadRequest{400, "stop: this server has no tokenizer, so it cannot match stop strings", "stop"};
  }
}

// prompt: a string, a list of token ids, or a batch (a list of strings, a list of token-id lists).
std::vector<std::vector<uint32_t>> parse_prompts(const json& req, const tokenizer::Tokenizer* tok, uint64_t vocab) {
  const json* pv = field(req, "prompt");
  if (!pv) throw BadRequest{400, "prompt: required (a string, a list of token ids, a list of strings or a list of token-id lists)", "prompt"};
  const std::string prompt_expected = "a string, a list of token ids, a list of strings or a list of token-id lists";
  auto encode = [&](const json& s, const std::string& name) {
    if (!tok) throw BadRequest{400, name + ": this server has no tokenizer: send the prompt as token ids", "prompt"};
    std::vector<uint32_t> ids = tok->encode(s.get<std::string>());
    if (ids.empty()) throw BadRequest{400, name + ": expected a prompt of at least one token, found " + describe(s), "prompt"};
    return ids;
  };
  auto ids_of = [&](const json& a, const std::string& name) {
    if (a.empty()) bad(name, "a non-empty list of token ids", a);
    std::vector<uint32_t> ids;
    ids.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number_unsigned() || a[i].get<uint64_t>() >= vocab)
        bad(name + "[" + std::to_string(i) + "]", "a token id (an integer from 0 to " + std::to_string(vocab - 1) + ")", a[i]);
      ids.push_back(a[i].get<uint32_t>());
    }
    return ids;
  };
  std::vector<std::vector<uint32_t>> prompts;
  if (pv->is_string()) {
    prompts.push_back(encode(*pv, "prompt"));
  } else if (pv->is_array() && !pv->empty()) {
    const json& first = (*pv)[0];
    if (first.is_number()) {
      prompts.push_back(ids_of(*pv, "prompt"));
    } else if (first.is_string() || first.is_array()) {
      for (size_t i = 0; i < pv->size(); ++i) {
        const json& e = (*pv)[i];
        const std::string name = "prompt[" + std::to_string(i) + "]";
        if (first.is_string() && e.is_string()) {
          prompts.push_back(encode(e, name));
        } else if (first.is_array() && e.is_array()) {
          prompts.push_back(ids_of(e, name));
        } else {
          bad(name, first.is_string() ? "a string (as prompt[0])" : "a list of token ids (as prompt[0])", e);
        }
      }
    } else {
      bad("prompt[0]", "a token id, a string or a list of token ids", first);
    }
  } else {
    bad("prompt", prompt_expected, *pv);
  }
  return prompts;
}

std::string sse_event(json chunk) { return "data: " + dump(chunk) + "\n\n"; }

}  // namespace

Completions::Completions(std::unique_ptr<model::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tok, std::string name,
                         uint64_t max_context)
    : model_(std::move(model)), tok_(std::move(tok)), name_(std::move(name)), max_context_(max_context) {}

std::string Completions::models() const {
  json j = {{"object", "list"}, {"data", json::array({{{"id", name_}, {"object", "model"}, {"owned_by", "longctx"}}})}};
  return dump(j);
}

Request Completions::parse(const std::string& body) const {
  const json req = parse_body(body);
  // Scalars first (cheap), the prompt (tokenizing) last.
  if (const json* v = field(req, "model")) {
    if (!v->is_string()) bad("model", "a string (the served model's name, \"" + name_ + "\")", *v);
    if (v->get<std::string>() != name_)
      throw BadRequest{404, "model \"" + v->get<std::string>() + "\" is not served here (this server has \"" + name_ + "\")", "model"};
  }
  Request p;
  parse_options(req, p);
  parse_stream(req, p);
  parse_stop(req, p, tok_ != nullptr);
  p.prompts = parse_prompts(req, tok_.get(), model_->config().vocab_size);
  for (const auto& pr : p.prompts)
    if (pr.size() > max_context_ || p.max_tokens > max_context_ - pr.size())
      throw BadRequest{413, "prompt (" + std::to_string(pr.size()) + " tokens) + max_tokens (" + std::to_string(p.max_tokens) +
                                ") exceed the server's context limit of " + std::to_string(max_context_),
                       "max_tokens"};
  return p;
}

std::string Completions::complete(const std::string& body) {
  const Request req = parse(body);
  if (!req.stream) return complete(req);
  std::string events;
  stream(req, [&](const std::string& e) {
    events += e;
    return true;
  });
  return events;
}

namespace {
int64_t unix_now() { return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

json usage(uint64_t prompt_tokens, uint64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}, {"total_tokens", prompt_tokens + completion_tokens}};
}
}  // namespace

std::string Completions::complete(const Request& p) {
  std::lock_guard lock(mu_);
  Rng rng(p.seed);
  json choices = json::array();
  uint64_t prompt_tokens = 0, completion_tokens = 0;
  for (const auto& pr : p.prompts) {
    prompt_tokens += pr.size();
    for (uint64_t c = 0; c < p.n; ++c) choices.push_back(run_choice(*model_, tok_.get(), pr, p, rng, choices.size(), completion_tokens));
  }
  json resp = {{"id", "cmpl-" + std::to_string(++counter_)}, {"object", "text_completion"}, {"created", unix_now()}, {"model", name_},
               {"choices", std::move(choices)}, {"usage", usage(prompt_tokens, completion_tokens)}};
  return dump(resp);
}

StreamEnd Completions::stream(const Request& p, const std::function<bool(const std::string&)>& write) {
  std::lock_guard lock(mu_);
  StreamEnd end;
  end.id = "cmpl-" + std::to_string(++counter_);
  const int64_t created = unix_now();
  // Every chunk has the response's shape, one choice (or none: the usage chunk), the same id.
  auto event = [&](json choices, json use) {
    json c = {{"id", end.id}, {"object", "text_completion"}, {"created", created}, {"model", name_}, {"choices", std::move(choices)}};
    if (p.include_usage) c["usage"] = std::move(use);
    return write(sse_event(std::move(c)));
  };
  const ChoiceStream::Send send = [&](json choice) { return event(json::array({std::move(choice)}), nullptr); };
  Rng rng(p.seed);
  uint64_t prompt_tokens = 0, index = 0;
  for (const auto& pr : p.prompts) {
    prompt_tokens += pr.size();
    for (uint64_t c = 0; c < p.n; ++c) {
      run_choice(*model_, tok_.get(), pr, p, rng, index++, end.tokens, &send, &end.client_gone);
      if (end.client_gone) return end;
    }
  }
  if (p.include_usage && !event(json::array(), usage(prompt_tokens, end.tokens))) end.client_gone = true;
  if (!end.client_gone && !write("data: [DONE]\n\n")) end.client_gone = true;
  return end;
}

}  // namespace longctx::serve
