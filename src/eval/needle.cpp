#include "longctx/eval/needle.h"

#include <cmath>

#include "longctx/util/error.h"

namespace longctx::eval {

NeedleBuilder::NeedleBuilder(const tokenizer::Tokenizer& tok, const std::string& haystack_text, const NeedleSpec& spec) : tok_(tok) {
  const std::string& t = spec.prompt_template;
  const size_t c = t.find("{context}");
  if (c == std::string::npos || t.find("{question}") == std::string::npos)
    throw Error("--template: expected {context} and {question} in \"" + t + "\"");
  std::string suffix = t.substr(c + 9);
  const size_t q = suffix.find("{question}");
  if (q == std::string::npos) throw Error("--template: {question} must come after {context}");
  suffix.replace(q, 10, spec.question);
  suffix += spec.answer_prefix;
  prefix_ = tok.encode(t.substr(0, c), {true, false});  // BOS as the tokenizer adds it
  suffix_ = continuation(suffix);
  needle_ = continuation(" " + spec.needle);
  hay_ = tok.encode(haystack_text, {false, false});
  period_.assign(tok.vocab_size(), false);
  for (uint32_t id = 0; id < tok.vocab_size(); ++id) {
    const auto piece = tok.id_to_token(id);
    period_[id] = piece && !piece->empty() && piece->back() == '.';
  }
  bool any = false;
  for (const uint32_t id : hay_) any = any || period_[id];
  if (hay_.empty() || !any) throw Error("--haystack: expected text with sentences (a token ending in '.')");
}

// Tokens of `text` as it would continue a text: encoded after a sentence end ("." + text) and with
// the tokens of that "." removed, so a SentencePiece tokenizer does not start it with a word
// boundary of its own. Falls back to a plain encoding when the "." does not stay a token apart.
std::vector<uint32_t> NeedleBuilder::continuation(const std::string& text) const {
  const auto dot = tok_.encode(".", {false, false});
  const auto both = tok_.encode("." + text, {false, false});
  if (both.size() > dot.size() && std::equal(dot.begin(), dot.end(), both.begin()))
    return std::vector<uint32_t>(both.begin() + static_cast<long>(dot.size()), both.end());
  return tok_.encode(text, {false, false});
}

NeedleTrialPlan NeedleBuilder::build(uint64_t length, double depth) const {
  NeedleTrialPlan p;
  p.length = length;
  p.depth = depth;
  const uint64_t reserve = kPromptReserve + needle_.size();
  const uint64_t keep = length > reserve ? length - reserve : 0;
  // The haystack, repeated as needed, cut to `keep` tokens.
  std::vector<uint32_t> ctx;
  ctx.reserve(keep + needle_.size());
  while (ctx.size() < keep) ctx.insert(ctx.end(), hay_.begin(), hay_.begin() + static_cast<long>(std::min<uint64_t>(hay_.size(), keep - ctx.size())));
  uint64_t at = ctx.size();
  if (depth < 100) {
    at = static_cast<uint64_t>(static_cast<double>(ctx.size()) * depth / 100.0);
    while (at > 0 && !period_[ctx[at - 1]]) --at;  // back to just after a sentence end
  }
  ctx.insert(ctx.begin() + static_cast<long>(at), needle_.begin(), needle_.end());
  p.context_tokens = ctx.size();
  p.prompt.reserve(prefix_.size() + ctx.size() + suffix_.size());
  p.prompt.insert(p.prompt.end(), prefix_.begin(), prefix_.end());
  p.needle_token_index = p.prompt.size() + at;
  p.prompt.insert(p.prompt.end(), ctx.begin(), ctx.end());
  p.prompt.insert(p.prompt.end(), suffix_.begin(), suffix_.end());
  return p;
}

std::vector<uint64_t> paper_lengths() {
  std::vector<uint64_t> v;
  for (int i = 0; i < 40; ++i) v.push_back(static_cast<uint64_t>(std::nearbyint(1000.0 + (128000.0 - 1000.0) * i / 39.0)));
  return v;
}

std::vector<double> linear_depths(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(n == 1 ? 0.0 : std::nearbyint(100.0 * i / (n - 1)));
  return v;
}

std::vector<double> sigmoid_depths(int n) {
  std::vector<double> v;
  const double lo = 1 / (1 + std::exp(6.0)), hi = 1 / (1 + std::exp(-6.0));
  for (int i = 0; i < n; ++i) {
    const double x = n == 1 ? 0.0 : -6.0 + 12.0 * i / (n - 1);
    v.push_back(std::nearbyint(100.0 * (1 / (1 + std::exp(-x)) - lo) / (hi - lo)));
  }
  return v;
}

}  // namespace longctx::eval
