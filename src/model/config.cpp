#include <cmath>
#include <nlohmann/json.hpp>

#include "longctx/model/config.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::model {
namespace {

using json = nlohmann::json;

// Upper bounds on config.json's sizes: far above any released LLaMA-family model, low enough that
// no size computation (elements, bytes, RoPE tables) can overflow 64 bits.
constexpr uint64_t kMaxVocab = uint64_t{1} << 30, kMaxHidden = uint64_t{1} << 20, kMaxIntermediate = uint64_t{1} << 22;
constexpr uint64_t kMaxLayers = uint64_t{1} << 16, kMaxHeads = uint64_t{1} << 16, kMaxHeadDim = uint64_t{1} << 16;
constexpr uint64_t kMaxPositions = uint64_t{1} << 24;
constexpr uint64_t kMaxElements = uint64_t{1} << 40;  // one weight matrix, and the whole model

// What a JSON value is, for "expected X, found Y" (the value itself, shortened, on one line).
std::string found(const json& v) {
  if (v.is_null()) return "null";
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  const char* kind = v.is_string() ? "a string" : v.is_boolean() ? "a boolean" : v.is_array() ? "an array" : v.is_object() ? "an object"
                     : v.is_number_float() ? "a floating-point number" : v.is_number_unsigned() ? "an integer" : "a negative integer";
  return s + " (" + kind + ")";
}

std::string pow2(uint64_t v) {
  int e = 0;
  while ((uint64_t{1} << e) < v) ++e;
  return "2^" + std::to_string(e) + " = " + std::to_string(v);
}

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}
  Error bad(const std::string& key, const std::string& what) const { return Error(path_ + ": " + key + ": " + what); }
  Error expected(const std::string& key, const std::string& what, const json& v) const {
    return bad(key, "expected " + what + ", found " + found(v));
  }
  bool has(const json& o, const char* k) const { return o.contains(k) && !o.at(k).is_null(); }

  // A positive integer in [1, max] (a JSON integer: not a string, a float or a negative number).
  uint64_t size(const json& o, const std::string& key, const char* k, uint64_t max) const {
    if (!o.contains(k)) throw bad(key, "missing (expected a positive integer)");
    const json& v = o.at(k);
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) throw expected(key, "a positive integer", v);
    const uint64_t n = v.get<uint64_t>();
    if (n > max) throw bad(key, std::to_string(n) + " is beyond the limit of " + pow2(max));
    return n;
  }
  uint64_t size_or(const json& o, const std::string& key, const char* k, uint64_t max, uint64_t dflt) const {
    return has(o, k) ? size(o, key, k, max) : dflt;
  }
  // A finite number (an integer or a float) above `low` (`strict`) or at least `low`.
  double number(const json& o, const std::string& key, const char* k, double dflt, const char* want, double low, bool strict) const {
    if (!has(o, k)) return dflt;
    const json& v = o.at(k);
    if (!v.is_number()) throw expected(key, want, v);
    const double x = v.get<double>();
    if (!std::isfinite(x) || (strict ? !(x > low) : !(x >= low))) throw expected(key, want, v);
    return x;
  }
  bool boolean(const json& o, const std::string& key, const char* k, bool dflt) const {
    if (!has(o, k)) return dflt;
    if (!o.at(k).is_boolean()) throw expected(key, "true or false", o.at(k));
    return o.at(k).get<bool>();
  }
  std::string string(const json& o, const std::string& key, const char* k, const std::string& dflt) const {
    if (!has(o, k)) return dflt;
    if (!o.at(k).is_string()) throw expected(key, "a string", o.at(k));
    return o.at(k).get<std::string>();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

LlamaConfig LlamaConfig::load(const std::string& path) { return parse(read_file(path), path); }

LlamaConfig LlamaConfig::parse(const std::string& text, const std::string& path) {
  LlamaConfig c;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(path + ": expected a JSON object, found " + found(j));
  const Reader r(path);
  auto bad = [&](const std::string& what) { return Error(path + ": " + what); };

  if (r.has(j, "architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || (!a.empty() && !a[0].is_string())) throw r.expected("architectures", "an array of strings", a);
    c.architecture = a.empty() ? "LlamaForCausalLM" : a[0].get<std::string>();
  } else {
    c.architecture = "LlamaForCausalLM";
  }
  if (c.architecture != "LlamaForCausalLM" && c.architecture != "MistralForCausalLM")
    throw bad("architecture " + c.architecture + " is not supported (LlamaForCausalLM, MistralForCausalLM)");

  c.vocab_size = r.size(j, "vocab_size", "vocab_size", kMaxVocab);
  c.hidden_size = r.size(j, "hidden_size", "hidden_size", kMaxHidden);
  c.intermediate_size = r.size(j, "intermediate_size", "intermediate_size", kMaxIntermediate);
  c.num_hidden_layers = r.size(j, "num_hidden_layers", "num_hidden_layers", kMaxLayers);
  c.num_attention_heads = r.size(j, "num_attention_heads", "num_attention_heads", kMaxHeads);
  c.num_key_value_heads = r.size_or(j, "num_key_value_heads", "num_key_value_heads", kMaxHeads, c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw r.bad("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide num_attention_heads (" +
                                           std::to_string(c.num_attention_heads) + ")");
  if (r.has(j, "head_dim")) {
    c.head_dim = r.size(j, "head_dim", "head_dim", kMaxHeadDim);
    if (c.head_dim % 2 != 0) throw r.bad("head_dim", "expected an even number (RoPE rotates pairs), found " + std::to_string(c.head_dim));
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw r.bad("num_attention_heads", std::to_string(c.num_attention_heads) + " does not divide hidden_size (" +
                                             std::to_string(c.hidden_size) + "), and no head_dim is given");
    c.head_dim = c.hidden_size / c.num_attention_heads;
    if (c.head_dim % 2 != 0)
      throw r.bad("num_attention_heads", "hidden_size / num_attention_heads = " + std::to_string(c.head_dim) +
                                             " is the head dimension, which must be even (RoPE rotates pairs)");
  }
  c.max_position_embeddings = r.size_or(j, "max_position_embeddings", "max_position_embeddings", kMaxPositions, 2048);
  c.rms_norm_eps = r.number(j, "rms_norm_eps", "rms_norm_eps", 1e-6, "a finite number > 0", 0.0, true);
  c.rope_theta = r.number(j, "rope_theta", "rope_theta", 10000.0, "a finite number > 0", 0.0, true);
  c.tie_word_embeddings = r.boolean(j, "tie_word_embeddings", "tie_word_embeddings", false);

  // Sizes: every weight matrix and the whole model within kMaxElements (no product can overflow:
  // each factor is bounded above).
  const uint64_t d = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  auto limit = [&](const std::string& keys, const std::string& what, uint64_t n) {
    if (n > kMaxElements)
      throw r.bad(keys, what + " of " + std::to_string(n) + " elements is beyond the limit of " + pow2(kMaxElements));
  };
  limit("vocab_size", "hidden_size x vocab_size: the embedding matrix", d * c.vocab_size);
  limit("intermediate_size", "hidden_size x intermediate_size: an MLP matrix", d * c.intermediate_size);
  limit("head_dim", "hidden_size x num_attention_heads x head_dim: an attention matrix", d * q);
  // Bounded factors: per_layer < 2^56, per_layer x layers < 2^57 once per_layer <= 2^40, total < 2^58.
  const uint64_t per_layer = d * (2 * q + 2 * kv + 3 * c.intermediate_size) + 2 * d;
  const uint64_t total = per_layer > kMaxElements ? per_layer : per_layer * c.num_hidden_layers + (c.tie_word_embeddings ? 1 : 2) * d * c.vocab_size + d;
  if (total > kMaxElements)
    throw r.bad("num_hidden_layers", "the model would have " + std::string(per_layer > kMaxElements ? "more than " : "") +
                                         std::to_string(total) + " parameters, beyond the limit of " + pow2(kMaxElements));

  if (r.has(j, "eos_token_id")) {
    const json& e = j.at("eos_token_id");
    auto id = [&](const json& v) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu) throw r.expected("eos_token_id", "a token id (an integer >= 0)", v);
      return static_cast<uint32_t>(v.get<uint64_t>());
    };
    if (e.is_array()) {
      for (const auto& v : e) c.eos_token_ids.push_back(id(v));
    } else {
      c.eos_token_ids.push_back(id(e));
    }
  }
  if (r.boolean(j, "attention_bias", "attention_bias", false) || r.boolean(j, "mlp_bias", "mlp_bias", false))
    throw bad("attention_bias/mlp_bias are not supported");
  if (r.has(j, "sliding_window")) throw bad("sliding_window attention is not supported (set it to null for full attention)");
  const std::string act = r.string(j, "hidden_act", "hidden_act", "silu");
  if (act != "silu") throw bad("hidden_act " + act + " is not supported (silu)");

  if (r.has(j, "rope_scaling")) {
    const json& rs = j.at("rope_scaling");
    if (!rs.is_object()) throw r.expected("rope_scaling", "an object or null", rs);
    auto& s = c.rope_scaling;
    s.type = r.has(rs, "rope_type") ? r.string(rs, "rope_scaling.rope_type", "rope_type", "default")
                                    : r.string(rs, "rope_scaling.type", "type", "default");
    if (s.type == "default") s.type = "none";
    if (s.type != "none" && s.type != "linear" && s.type != "dynamic" && s.type != "yarn" && s.type != "llama3")
      throw bad("rope_scaling type \"" + s.type + "\" is not supported (linear, dynamic, yarn, llama3)");
    s.factor = r.number(rs, "rope_scaling.factor", "factor", 1.0, "a finite number >= 1", s.type == "none" ? 0.0 : 1.0, s.type == "none");
    s.original_max_position_embeddings =
        r.size_or(rs, "rope_scaling.original_max_position_embeddings", "original_max_position_embeddings", kMaxPositions, 0);
    s.low_freq_factor = r.number(rs, "rope_scaling.low_freq_factor", "low_freq_factor", 1.0, "a finite number > 0", 0.0, true);
    s.high_freq_factor = r.number(rs, "rope_scaling.high_freq_factor", "high_freq_factor", 4.0, "a finite number > 0", 0.0, true);
    s.beta_fast = r.number(rs, "rope_scaling.beta_fast", "beta_fast", 32.0, "a finite number > 0", 0.0, true);
    s.beta_slow = r.number(rs, "rope_scaling.beta_slow", "beta_slow", 1.0, "a finite number > 0", 0.0, true);
    s.attention_factor = r.number(rs, "rope_scaling.attention_factor", "attention_factor", 0.0, "a finite number >= 0", 0.0, false);
    if (s.type == "llama3" && s.original_max_position_embeddings == 0)
      throw r.bad("rope_scaling.original_max_position_embeddings", "missing (llama3 rope_scaling needs it)");
    if (s.type == "llama3" && !(s.high_freq_factor > s.low_freq_factor))
      throw r.bad("rope_scaling.high_freq_factor", "expected a number > low_freq_factor (" + std::to_string(s.low_freq_factor) +
                                                       "), found " + std::to_string(s.high_freq_factor));
    if (s.type == "dynamic" && c.head_dim <= 2)
      throw r.bad("rope_scaling.type", "dynamic NTK needs a head dimension above 2 (base exponent d / (d - 2)), found " +
                                           std::to_string(c.head_dim));
    for (const char* k : {"mscale", "mscale_all_dim", "short_factor", "long_factor"})
      if (rs.contains(k)) throw bad(std::string("rope_scaling.") + k + " is not supported");
  }
  return c;
}

}  // namespace longctx::model
