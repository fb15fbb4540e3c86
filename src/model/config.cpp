#include "longctx/model/config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::model {
namespace {

using json = nlohmann::json;

// Upper bounds on config.json's sizes: far above any released model of these families, low enough
// that no size computation (elements, bytes, RoPE tables) can overflow 64 bits.
constexpr uint64_t kMaxVocab = uint64_t{1} << 30, kMaxHidden = uint64_t{1} << 20, kMaxIntermediate = uint64_t{1} << 22;
constexpr uint64_t kMaxLayers = uint64_t{1} << 16, kMaxHeads = uint64_t{1} << 16, kMaxHeadDim = uint64_t{1} << 16;
constexpr uint64_t kMaxPositions = uint64_t{1} << 24;
constexpr uint64_t kMaxWindow = uint64_t{1} << 32;    // sliding_window (Qwen's are often far above the context)
constexpr uint64_t kMaxElements = uint64_t{1} << 40;  // one weight matrix, and the whole model

// What a JSON value is, for "expected X, found Y" (the value itself, shortened, on one line).
std::string found(const json& v) {
  if (v.is_null()) return "null";
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  const char* kind = v.is_string()            ? "a string"
                     : v.is_boolean()         ? "a boolean"
                     : v.is_array()           ? "an array"
                     : v.is_object()          ? "an object"
                     : v.is_number_float()    ? "a floating-point number"
                     : v.is_number_unsigned() ? "an integer"
                                              : "a negative integer";
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
  // An integer >= 0 (any JSON unsigned integer).
  uint64_t count_or(const json& o, const std::string& key, const char* k, uint64_t dflt) const {
    if (!has(o, k)) return dflt;
    const json& v = o.at(k);
    if (!v.is_number_unsigned()) throw expected(key, "an integer >= 0", v);
    return v.get<uint64_t>();
  }
  // A finite number (an integer or a float) above `low` (`strict`) or at least `low`.
  double number(const json& o, const std::string& key, const char* k, double dflt, const char* want, double low,
                bool strict) const {
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
  // An array of exactly n finite numbers > 0 (longrope's short_factor / long_factor).
  std::vector<double> factors(const json& o, const std::string& key, const char* k, uint64_t n,
                              const std::string& why) const {
    const std::string want = "an array of " + std::to_string(n) + " finite numbers > 0 (" + why + ")";
    if (!has(o, k)) throw bad(key, "missing (expected " + want + ")");
    const json& v = o.at(k);
    if (!v.is_array()) throw expected(key, want, v);
    if (v.size() != n) throw bad(key, "expected " + want + ", found " + std::to_string(v.size()) + " values");
    std::vector<double> out;
    out.reserve(n);
    for (size_t i = 0; i < v.size(); ++i) {
      const json& x = v[i];
      if (!x.is_number() || !std::isfinite(x.get<double>()) || !(x.get<double>() > 0))
        throw bad(key, "expected " + want + ", found " + found(x) + " at index " + std::to_string(i));
      out.push_back(x.get<double>());
    }
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Arch {
  const char* name;
  Family family;
};
constexpr Arch kArchitectures[] = {
    {"LlamaForCausalLM", Family::Llama}, {"MistralForCausalLM", Family::Mistral}, {"Qwen2ForCausalLM", Family::Qwen2},
    {"Qwen3ForCausalLM", Family::Qwen3}, {"Gemma2ForCausalLM", Family::Gemma2},   {"Gemma3ForCausalLM", Family::Gemma3},
    {"Phi3ForCausalLM", Family::Phi3},
};

std::string supported_architectures() {
  std::string s;
  for (const auto& a : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}


// transformers 5 writes RoPE as `rope_parameters`: one object ({"rope_type", "rope_theta", the
// scaling keys}) or, for models with local and global layers, one per layer type
// ({"full_attention": {...}, "sliding_attention": {...}}). Rewritten here into the 4.x keys the
// rest of the parser reads (rope_theta, rope_scaling, Gemma 3's rope_local_base_freq,
// partial_rotary_factor), so both generations of config.json mean the same model.
void from_rope_parameters(json& j, const Reader& r, Family f) {
  const json rp = j.at("rope_parameters");
  if (rp.is_null()) {
    j.erase("rope_parameters");
    return;
  }
  if (!rp.is_object()) throw r.expected("rope_parameters", "an object", rp);
  for (const char* k : {"rope_theta", "rope_scaling", "rope_local_base_freq"})
    if (r.has(j, k)) throw r.bad("rope_parameters", std::string("given together with ") + k + ": expected one of the two forms");
  auto apply = [&](const json& p, const std::string& key, bool local) {
    if (!p.is_object()) throw r.expected(key, "an object", p);
    json scaling = p;
    if (p.contains("rope_theta")) {
      j[local ? "rope_local_base_freq" : "rope_theta"] = p.at("rope_theta");
      scaling.erase("rope_theta");
    }
    if (p.contains("partial_rotary_factor")) {
      if (r.has(j, "partial_rotary_factor") && j.at("partial_rotary_factor") != p.at("partial_rotary_factor"))
        throw r.bad(key + ".partial_rotary_factor", "differs from the top-level partial_rotary_factor");
      j["partial_rotary_factor"] = p.at("partial_rotary_factor");
      scaling.erase("partial_rotary_factor");
    }
    const std::string type = scaling.contains("rope_type") && scaling.at("rope_type").is_string() ? scaling.at("rope_type").get<std::string>()
                             : scaling.contains("type") && scaling.at("type").is_string()      ? scaling.at("type").get<std::string>()
                                                                                                : "default";
    if (local) {
      if (type != "default" || scaling.size() > (scaling.contains("rope_type") ? 1u : 0u))
        throw r.bad(key, "only default RoPE (a rope_theta) is supported for sliding layers, found " + p.dump());
      return;
    }
    if (type == "default" && scaling.size() <= (scaling.contains("rope_type") ? 1u : 0u)) return;  // plain RoPE: no rope_scaling
    j["rope_scaling"] = scaling;
  };
  if (rp.contains("full_attention") || rp.contains("sliding_attention")) {
    for (const auto& [k, v] : rp.items())
      if (k != "full_attention" && k != "sliding_attention")
        throw r.bad("rope_parameters", "expected full_attention / sliding_attention entries, found " + k);
    if (rp.contains("full_attention")) apply(rp.at("full_attention"), "rope_parameters.full_attention", false);
    if (rp.contains("sliding_attention")) {
      const json& sl = rp.at("sliding_attention");
      if (f == Family::Gemma3) {
        apply(sl, "rope_parameters.sliding_attention", true);
      } else if (!rp.contains("full_attention") || sl != rp.at("full_attention")) {
        throw r.bad("rope_parameters.sliding_attention", "differs from full_attention: only Gemma 3 has a separate RoPE for sliding layers");
      }
    }
  } else {
    apply(rp, "rope_parameters", false);
  }
  j.erase("rope_parameters");
}

}  // namespace

ModelConfig ModelConfig::load(const std::string& path) { return parse(read_file(path), path); }

ModelConfig ModelConfig::parse(const std::string& text, const std::string& path) {
  ModelConfig c;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(path + ": expected a JSON object, found " + found(j));
  const Reader r(path);

  // --- The architecture.
  if (r.has(j, "architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || (!a.empty() && !a[0].is_string())) throw r.expected("architectures", "an array of strings", a);
    c.architecture = a.empty() ? "LlamaForCausalLM" : a[0].get<std::string>();
  } else {
    c.architecture = "LlamaForCausalLM";
  }
  if (c.architecture == "Gemma3ForConditionalGeneration")
    throw r.bad("architectures",
                "Gemma3ForConditionalGeneration (Gemma 3 with vision) is not supported: extract the text model first "
                "(text_config as a Gemma3ForCausalLM config.json, the language_model.model.* tensors as model.*)");
  bool known = false;
  for (const auto& a : kArchitectures)
    if (c.architecture == a.name) c.family = a.family, known = true;
  if (!known)
    throw r.bad("architectures", c.architecture + " is not supported (supported: " + supported_architectures() + ")");
  const Family f = c.family;
  const bool gemma = f == Family::Gemma2 || f == Family::Gemma3;
  const std::string& arch = c.architecture;

  if (j.contains("rope_parameters")) from_rope_parameters(j, r, f);

  // Keys that would change what is computed and that longctx does not implement.
  if (r.has(j, "quantization_config")) throw r.bad("quantization_config", "quantized checkpoints are not supported");
  if (r.boolean(j, "use_mrope", "use_mrope", false))
    throw r.bad("use_mrope", "multimodal RoPE (Qwen2-VL) is not supported");
  if (r.boolean(j, "use_bidirectional_attention", "use_bidirectional_attention", false))
    throw r.bad("use_bidirectional_attention", "bidirectional attention is not supported (a causal decoder only)");

  // --- Sizes.
  c.vocab_size = r.size(j, "vocab_size", "vocab_size", kMaxVocab);
  c.hidden_size = r.size(j, "hidden_size", "hidden_size", kMaxHidden);
  c.intermediate_size = r.size(j, "intermediate_size", "intermediate_size", kMaxIntermediate);
  c.num_hidden_layers = r.size(j, "num_hidden_layers", "num_hidden_layers", kMaxLayers);
  c.num_attention_heads = r.size(j, "num_attention_heads", "num_attention_heads", kMaxHeads);
  c.num_key_value_heads = r.size_or(j, "num_key_value_heads", "num_key_value_heads", kMaxHeads, c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw r.bad("num_key_value_heads", std::to_string(c.num_key_value_heads) +
                                           " does not divide num_attention_heads (" +
                                           std::to_string(c.num_attention_heads) + ")");
  if (r.has(j, "head_dim")) {
    c.head_dim = r.size(j, "head_dim", "head_dim", kMaxHeadDim);
    if (c.head_dim % 2 != 0)
      throw r.bad("head_dim", "expected an even number (RoPE rotates pairs), found " + std::to_string(c.head_dim));
  } else if (gemma || f == Family::Qwen3) {
    c.head_dim = gemma ? 256 : 128;  // transformers' Gemma2Config / Gemma3TextConfig / Qwen3Config defaults
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
  // Absent keys take the defaults of the family's transformers config class.
  c.rms_norm_eps = r.number(j, "rms_norm_eps", "rms_norm_eps", f == Family::Phi3 ? 1e-5 : 1e-6, "a finite number > 0", 0.0, true);
  c.rope_theta = r.number(j, "rope_theta", "rope_theta", f == Family::Gemma3 ? 1e6 : 10000.0, "a finite number > 0", 0.0, true);
  c.tie_word_embeddings = r.boolean(j, "tie_word_embeddings", "tie_word_embeddings", gemma);

  if (r.has(j, "eos_token_id")) {
    const json& e = j.at("eos_token_id");
    auto id = [&](const json& v) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu)
        throw r.expected("eos_token_id", "a token id (an integer >= 0)", v);
      return static_cast<uint32_t>(v.get<uint64_t>());
    };
    if (e.is_array()) {
      for (const auto& v : e) c.eos_token_ids.push_back(id(v));
    } else {
      c.eos_token_ids.push_back(id(e));
    }
  }

  // --- Biases, norms, projections (docs/models.md's table).
  const bool attention_bias = r.boolean(j, "attention_bias", "attention_bias", false);
  const bool mlp_bias = r.boolean(j, "mlp_bias", "mlp_bias", false);
  switch (f) {
    case Family::Llama:
      c.qkv_bias = c.o_bias = attention_bias;
      c.mlp_bias = mlp_bias;
      break;
    case Family::Qwen2:
      c.qkv_bias = true;  // Qwen2 always has q/k/v biases (attention_bias is not read by transformers)
      break;
    case Family::Qwen3:
      c.qkv_bias = c.o_bias = attention_bias;
      break;
    case Family::Gemma2:
    case Family::Gemma3:
      if (attention_bias)
        throw r.bad("attention_bias", "biases on " + arch + "'s attention projections are not supported");
      break;
    default:
      break;  // Mistral, Phi-3: no biases (transformers reads neither key)
  }
  c.qk_norm = f == Family::Qwen3 || f == Family::Gemma3;
  c.norm_plus_one = c.sandwich_norms = gemma;
  c.fused_qkv = c.fused_gate_up = f == Family::Phi3;

  // --- Activation: hidden_activation, else hidden_act.
  {
    const char* k = r.has(j, "hidden_activation") ? "hidden_activation" : "hidden_act";
    const std::string act = r.string(j, k, k, gemma ? "gelu_pytorch_tanh" : "silu");
    if (gemma) {
      if (act != "gelu_pytorch_tanh" && act != "gelu_new")
        throw r.bad(k, "\"" + act + "\" is not supported for " + arch + " (gelu_pytorch_tanh, gelu_new)");
      c.activation = Activation::GeluTanh;
    } else {
      if (act != "silu") throw r.bad(k, "\"" + act + "\" is not supported for " + arch + " (silu)");
      c.activation = Activation::SiLU;
    }
  }

  // --- Gemma's scalings and soft-capping (absent: the family's default; null: no capping).
  c.embed_scale = gemma ? static_cast<float>(std::sqrt(static_cast<double>(c.hidden_size))) : 1.0f;
  if (gemma) {
    const double qpas =
        r.number(j, "query_pre_attn_scalar", "query_pre_attn_scalar", 256.0, "a finite number > 0", 0.0, true);
    c.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
    auto cap = [&](const char* k, double dflt) {
      if (!j.contains(k)) return dflt;
      return r.number(j, k, k, 0.0, "a finite number > 0, or null for no capping", 0.0, true);
    };
    c.attn_softcap = cap("attn_logit_softcapping", f == Family::Gemma2 ? 50.0 : 0.0);
    c.final_softcap = cap("final_logit_softcapping", f == Family::Gemma2 ? 30.0 : 0.0);
  } else {
    c.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
  }

  // --- Partial rotary dimensions (Phi-3).
  c.rotary_dim = c.head_dim;
  if (r.has(j, "partial_rotary_factor")) {
    const json& v = j.at("partial_rotary_factor");
    const char* want = "a number in (0, 1]";
    if (!v.is_number()) throw r.expected("partial_rotary_factor", want, v);
    const double prf = v.get<double>();
    if (!std::isfinite(prf) || !(prf > 0) || !(prf <= 1)) throw r.expected("partial_rotary_factor", want, v);
    if (prf != 1.0 && f != Family::Phi3)
      throw r.bad("partial_rotary_factor",
                  "partial rotary dimensions are not supported for " + arch + " (Phi3ForCausalLM only)");
    // Python's int(head_dim * factor): the product in double, truncated.
    const uint64_t rd = static_cast<uint64_t>(static_cast<double>(c.head_dim) * prf);
    if (rd < 2 || rd % 2 != 0)
      throw r.bad("partial_rotary_factor", "int(head_dim " + std::to_string(c.head_dim) + " x " + v.dump() +
                                               ") = " + std::to_string(rd) +
                                               " rotary dimensions: expected an even number >= 2 (RoPE rotates pairs)");
    c.rotary_dim = rd;
  }

  // --- Sliding windows: the window and which layers slide.
  {
    const uint64_t L = c.num_hidden_layers;
    const bool window_key = j.contains("sliding_window");  // null: no window (Gemma: the default)
    const bool window_set = r.has(j, "sliding_window");
    uint64_t window = window_set ? r.size(j, "sliding_window", "sliding_window", kMaxWindow) : 0;
    std::vector<uint8_t> layers(L, 0);
    const bool have_types = r.has(j, "layer_types");
    if (have_types) {
      const json& t = j.at("layer_types");
      const char* want = "an array of \"sliding_attention\" / \"full_attention\", one per layer";
      if (!t.is_array()) throw r.expected("layer_types", want, t);
      if (t.size() != L)
        throw r.bad("layer_types", "expected " + std::to_string(L) + " entries (num_hidden_layers), found " +
                                       std::to_string(t.size()));
      for (uint64_t i = 0; i < L; ++i) {
        const json& v = t[i];
        if (!v.is_string() || (v.get<std::string>() != "sliding_attention" && v.get<std::string>() != "full_attention"))
          throw r.bad("layer_types", "expected \"sliding_attention\" or \"full_attention\" at index " +
                                         std::to_string(i) + ", found " + found(v));
        layers[i] = v.get<std::string>() == "sliding_attention";
      }
    }
    switch (f) {
      case Family::Llama:
        if (window_set)
          throw r.bad("sliding_window", arch + " has no sliding windows: expected null or no key, found " +
                                            found(j.at("sliding_window")));
        window = 0;
        break;
      case Family::Mistral:
      case Family::Phi3:
        if (f == Family::Mistral && !window_key) window = 4096;  // MistralConfig's default; null: no window
        if (!have_types) std::fill(layers.begin(), layers.end(), 1);
        break;
      case Family::Qwen2:
      case Family::Qwen3: {
        const uint64_t mwl = r.count_or(j, "max_window_layers", "max_window_layers", 28);
        if (!r.boolean(j, "use_sliding_window", "use_sliding_window", false)) {
          window = 0;
        } else if (!window_key) {
          window = 4096;  // transformers' Qwen2Config / Qwen3Config default
        }
        if (!have_types)
          for (uint64_t i = 0; i < L; ++i) layers[i] = i >= mwl;
        break;
      }
      case Family::Gemma2:
      case Family::Gemma3: {
        if (!window_set) window = 4096;
        const uint64_t pattern =
            f == Family::Gemma3 ? r.size_or(j, "sliding_window_pattern", "sliding_window_pattern", kMaxLayers, 6) : 2;
        if (!have_types)
          for (uint64_t i = 0; i < L; ++i) layers[i] = f == Family::Gemma2 ? i % 2 == 0 : (i + 1) % pattern != 0;
        break;
      }
    }
    c.sliding_window = window;
    if (window == 0) std::fill(layers.begin(), layers.end(), 0);
    c.layer_sliding = std::move(layers);
  }
  if (f == Family::Gemma3)
    c.rope_local_theta =
        r.number(j, "rope_local_base_freq", "rope_local_base_freq", 10000.0, "a finite number > 0", 0.0, true);

  // --- rope_scaling.
  if (r.has(j, "rope_scaling")) {
    const json& rs = j.at("rope_scaling");
    if (!rs.is_object()) throw r.expected("rope_scaling", "an object or null", rs);
    auto& s = c.rope_scaling;
    const char* type_key = r.has(rs, "rope_type") ? "rope_type" : "type";
    const std::string type_name = std::string("rope_scaling.") + type_key;
    s.type = r.string(rs, type_name, type_key, "default");
    if (s.type == "default") s.type = "none";
    if (s.type == "su") s.type = "longrope";  // Phi-3's first name for it
    if (s.type != "none" && s.type != "linear" && s.type != "dynamic" && s.type != "yarn" && s.type != "llama3" &&
        s.type != "longrope")
      throw r.bad(type_name, "\"" + s.type + "\" is not supported (default, linear, dynamic, yarn, llama3, longrope)");
    if (f == Family::Phi3 && s.type != "none" && s.type != "longrope")
      throw r.bad(
          type_name,
          "\"" + s.type + "\" is not supported for Phi3ForCausalLM (transformers' Phi-3 takes default or longrope)");
    for (const char* k : {"mscale", "mscale_all_dim", "mrope_section", "mrope_interleaved"})
      if (rs.contains(k)) throw r.bad(std::string("rope_scaling.") + k, "not supported");
    if (rs.contains("truncate") && !(rs.at("truncate").is_boolean() && rs.at("truncate").get<bool>()))
      throw r.bad("rope_scaling.truncate",
                  "only true (the default: yarn's correction range rounded outwards) is supported, found " +
                      found(rs.at("truncate")));
    if (s.type != "longrope")
      for (const char* k : {"short_factor", "long_factor"})
        if (rs.contains(k))
          throw r.bad(std::string("rope_scaling.") + k, "only longrope rope_scaling takes it, not " + s.type);
    const bool longrope = s.type == "longrope";
    s.factor = r.number(rs, "rope_scaling.factor", "factor", 1.0,
                        s.type == "none" || longrope ? "a finite number > 0" : "a finite number >= 1",
                        s.type == "none" || longrope ? 0.0 : 1.0, s.type == "none" || longrope);
    s.original_max_position_embeddings = r.size_or(rs, "rope_scaling.original_max_position_embeddings",
                                                   "original_max_position_embeddings", kMaxPositions, 0);
    s.low_freq_factor =
        r.number(rs, "rope_scaling.low_freq_factor", "low_freq_factor", 1.0, "a finite number > 0", 0.0, true);
    s.high_freq_factor =
        r.number(rs, "rope_scaling.high_freq_factor", "high_freq_factor", 4.0, "a finite number > 0", 0.0, true);
    s.beta_fast = r.number(rs, "rope_scaling.beta_fast", "beta_fast", 32.0, "a finite number > 0", 0.0, true);
    s.beta_slow = r.number(rs, "rope_scaling.beta_slow", "beta_slow", 1.0, "a finite number > 0", 0.0, true);
    s.attention_factor =
        r.number(rs, "rope_scaling.attention_factor", "attention_factor", 0.0, "a finite number > 0", 0.0, true);
    if (s.type == "llama3" && s.original_max_position_embeddings == 0)
      throw r.bad("rope_scaling.original_max_position_embeddings", "missing (llama3 rope_scaling needs it)");
    if (s.type == "llama3" && !(s.high_freq_factor > s.low_freq_factor))
      throw r.bad("rope_scaling.high_freq_factor", "expected a number > low_freq_factor (" +
                                                       std::to_string(s.low_freq_factor) + "), found " +
                                                       std::to_string(s.high_freq_factor));
    if (s.type == "dynamic" && c.rotary_dim <= 2)
      throw r.bad(type_name, "dynamic NTK needs more than 2 rotary dimensions (base exponent d / (d - 2)), found " +
                                 std::to_string(c.rotary_dim));
    if (s.type == "yarn" && s.original_max_position_embeddings == 0)
      s.original_max_position_embeddings = c.max_position_embeddings;
    if (longrope) {
      // docs/models.md: orig = the top-level original_max_position_embeddings when present (Phi-3's
      // config class defaults it to 4096), and then factor = max_position_embeddings / orig; else
      // orig = rope_scaling's (default max_position_embeddings) and factor = rope_scaling.factor
      // (default max_position_embeddings / orig).
      const bool top = r.has(j, "original_max_position_embeddings") || f == Family::Phi3;
      if (top) {
        s.original_max_position_embeddings =
            r.size_or(j, "original_max_position_embeddings", "original_max_position_embeddings", kMaxPositions, 4096);
        s.factor =
            static_cast<double>(c.max_position_embeddings) / static_cast<double>(s.original_max_position_embeddings);
      } else {
        if (s.original_max_position_embeddings == 0) s.original_max_position_embeddings = c.max_position_embeddings;
        if (!r.has(rs, "factor"))
          s.factor =
              static_cast<double>(c.max_position_embeddings) / static_cast<double>(s.original_max_position_embeddings);
      }
      if (s.attention_factor == 0 && s.factor > 1 && s.original_max_position_embeddings < 2)
        throw r.bad(
            top ? "original_max_position_embeddings" : "rope_scaling.original_max_position_embeddings",
            "expected at least 2 (the attention factor divides by ln(original_max_position_embeddings)), found 1");
      const uint64_t n = c.rotary_dim / 2;
      const std::string why = "rotary dimensions / 2 = " + std::to_string(n);
      s.short_factor = r.factors(rs, "rope_scaling.short_factor", "short_factor", n, why);
      s.long_factor = r.factors(rs, "rope_scaling.long_factor", "long_factor", n, why);
    }
  }

  // --- Sizes: every weight matrix and the whole model within kMaxElements (no product can overflow:
  // each factor is bounded above).
  const uint64_t d = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  const uint64_t I = c.intermediate_size;
  auto limit = [&](const std::string& keys, const std::string& what, uint64_t n) {
    if (n > kMaxElements)
      throw r.bad(keys, what + " of " + std::to_string(n) + " elements is beyond the limit of " + pow2(kMaxElements));
  };
  limit("vocab_size", "hidden_size x vocab_size: the embedding matrix", d * c.vocab_size);
  if (c.fused_gate_up)
    limit("intermediate_size", "hidden_size x 2 intermediate_size: the gate_up_proj matrix", 2 * d * I);
  else
    limit("intermediate_size", "hidden_size x intermediate_size: an MLP matrix", d * I);
  limit("head_dim", "hidden_size x num_attention_heads x head_dim: an attention matrix", d * q);
  if (c.fused_qkv)
    limit("head_dim", "hidden_size x (num_attention_heads + 2 num_key_value_heads) x head_dim: the qkv_proj matrix",
          d * (q + 2 * kv));
  // Bounded factors: d < 2^21, q, kv <= 2^32, I <= 2^22: per_layer < 2^56; per_layer x layers < 2^57
  // once per_layer <= 2^40; total < 2^58.
  uint64_t per_layer = d * (2 * q + 2 * kv + 3 * I) + (c.sandwich_norms ? 4 : 2) * d;
  if (c.qkv_bias) per_layer += q + 2 * kv;
  if (c.o_bias) per_layer += d;
  if (c.mlp_bias) per_layer += 2 * I + d;
  if (c.qk_norm) per_layer += 2 * c.head_dim;
  const uint64_t total = per_layer > kMaxElements
                             ? per_layer
                             : per_layer * c.num_hidden_layers + (c.tie_word_embeddings ? 1 : 2) * d * c.vocab_size + d;
  if (total > kMaxElements)
    throw r.bad("num_hidden_layers",
                "the model would have " + std::string(per_layer > kMaxElements ? "more than " : "") +
                    std::to_string(total) + " parameters, beyond the limit of " + pow2(kMaxElements));
  return c;
}

}  // namespace longctx::model
