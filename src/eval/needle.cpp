#include "longctx/eval/needle.h"

#include <algorithm>
#include <cmath>

#include "longctx/util/error.h"
#include "longctx/util/rng.h"

namespace longctx::eval {

NeedleBuilder::NeedleBuilder(const tokenizer::Tokenizer& tok, const std::string& haystack_text, const NeedleSpec& spec)
    : tok_(tok), spec_(spec) {
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

std::vector<uint32_t> NeedleBuilder::suffix_for(const std::string& question) const {
  std::string suffix = spec_.prompt_template.substr(spec_.prompt_template.find("{context}") + 9);
  suffix.replace(suffix.find("{question}"), 10, question);
  return continuation(suffix + spec_.answer_prefix);
}

// Where a needle at `depth` goes: depth x the context, moved back to just after a sentence end.
uint64_t NeedleBuilder::sentence_start(const std::vector<uint32_t>& ctx, double depth) const {
  if (depth >= 100) return ctx.size();
  uint64_t at = static_cast<uint64_t>(static_cast<double>(ctx.size()) * depth / 100.0);
  while (at > 0 && !period_[ctx[at - 1]]) --at;
  return at;
}

NeedleTrialPlan NeedleBuilder::build_multi(uint64_t length, double depth, const RulerTrial& t, const std::vector<double>& other_depths) const {
  std::vector<std::vector<uint32_t>> ids;
  uint64_t needle_tokens = 0;
  for (const auto& n : t.needles) {
    ids.push_back(continuation(" " + n));
    needle_tokens += ids.back().size();
  }
  NeedleTrialPlan p;
  p.length = length;
  p.depth = depth;
  const uint64_t reserve = kPromptReserve + needle_tokens;
  const uint64_t keep = length > reserve ? length - reserve : 0;
  std::vector<uint32_t> hay;
  while (hay.size() < keep) hay.insert(hay.end(), hay_.begin(), hay_.begin() + static_cast<long>(std::min<uint64_t>(hay_.size(), keep - hay.size())));
  // Insertion points in the haystack, all computed before anything is inserted; then one pass
  // copies the haystack and puts each needle group at its point (the targets first where points
  // coincide), recording where the targets start.
  struct Insert {
    uint64_t at;
    int order;  // 0: the targets, i >= 1: distractor i
  };
  std::vector<Insert> ins{{sentence_start(hay, depth), 0}};
  for (size_t i = static_cast<size_t>(t.targets); i < ids.size(); ++i)
    ins.push_back({sentence_start(hay, other_depths.at(i - t.targets)), static_cast<int>(i - t.targets + 1)});
  std::stable_sort(ins.begin(), ins.end(), [](const Insert& x, const Insert& y) { return x.at != y.at ? x.at < y.at : x.order < y.order; });
  std::vector<uint32_t> ctx;
  ctx.reserve(hay.size() + needle_tokens);
  uint64_t copied = 0, target_index = 0;
  for (const auto& in : ins) {
    ctx.insert(ctx.end(), hay.begin() + static_cast<long>(copied), hay.begin() + static_cast<long>(in.at));
    copied = in.at;
    if (in.order == 0) {
      target_index = ctx.size();
      for (int i = 0; i < t.targets; ++i) ctx.insert(ctx.end(), ids[i].begin(), ids[i].end());
    } else {
      const auto& n = ids[static_cast<size_t>(t.targets + in.order - 1)];
      ctx.insert(ctx.end(), n.begin(), n.end());
    }
  }
  ctx.insert(ctx.end(), hay.begin() + static_cast<long>(copied), hay.end());
  p.context_tokens = ctx.size();
  p.prompt = prefix_;
  p.needle_token_index = prefix_.size() + target_index;
  p.prompt.insert(p.prompt.end(), ctx.begin(), ctx.end());
  const auto suffix = suffix_for(t.question);
  p.prompt.insert(p.prompt.end(), suffix.begin(), suffix.end());
  return p;
}
RulerTrial make_ruler_trial(const RulerSpec& spec, uint64_t length, double depth) {
  static const char* kWords[] = {"amber", "brisk", "cobalt", "dusty", "eager", "fabled", "gentle", "hollow", "ivory", "jolly",
                                 "keen", "lunar", "misty", "noble", "olive", "proud", "quiet", "rustic", "silver", "tidy",
                                 "umber", "vivid", "wistful", "young", "zesty"};
  static const char* kNouns[] = {"anchor", "badger", "canyon", "dolphin", "ember", "falcon", "glacier", "harbor", "island", "jaguar",
                                 "kettle", "lantern", "meadow", "nectar", "orchard", "pebble", "quarry", "river", "saddle", "tower"};
  Rng rng(spec.seed, length * 1000 + static_cast<uint64_t>(std::llround(depth * 10)));
  std::vector<std::string> keys;
  while (static_cast<int>(keys.size()) < spec.keys) {
    std::string k = std::string(kWords[rng.below(std::size(kWords))]) + "-" + kNouns[rng.below(std::size(kNouns))];
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  auto value = [&] { return std::to_string(1000000 + rng.below(9000000)); };
  RulerTrial t;
  std::string asked;
  for (int q = 0; q < spec.queries; ++q) {
    for (int v = 0; v < spec.values; ++v) {
      const std::string val = value();
      t.needles.push_back("One of the special magic numbers for " + keys[q] + " is: " + val + ".");
      t.answers.push_back(val);
    }
    asked += (q == 0 ? "" : q + 1 == spec.queries ? " and " : ", ") + keys[q];
  }
  t.targets = static_cast<int>(t.needles.size());
  for (int k = spec.queries; k < spec.keys; ++k) t.needles.push_back("One of the special magic numbers for " + keys[k] + " is: " + value() + ".");
  t.question = t.answers.size() == 1 ? "What is the special magic number for " + asked + " mentioned in the provided text?"
                                     : "What are all the special magic numbers for " + asked + " mentioned in the provided text?";
  return t;
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
