#include <cmath>
#include <nlohmann/json.hpp>

#include "longctx/model/config.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"

namespace longctx::model {

LlamaConfig LlamaConfig::load(const std::string& path) { return parse(read_file(path), path); }

LlamaConfig LlamaConfig::parse(const std::string& text, const std::string& path) {
  LlamaConfig c;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  auto bad = [&](const std::string& what) { return Error(path + ": " + what); };
  try {
    const auto archs = j.value("architectures", std::vector<std::string>{"LlamaForCausalLM"});
    c.architecture = archs.empty() ? "LlamaForCausalLM" : archs[0];
    if (c.architecture != "LlamaForCausalLM" && c.architecture != "MistralForCausalLM")
      throw bad("architecture " + c.architecture + " is not supported (LlamaForCausalLM, MistralForCausalLM)");
    c.vocab_size = j.at("vocab_size").get<uint64_t>();
    c.hidden_size = j.at("hidden_size").get<uint64_t>();
    c.intermediate_size = j.at("intermediate_size").get<uint64_t>();
    c.num_hidden_layers = j.at("num_hidden_layers").get<uint64_t>();
    c.num_attention_heads = j.at("num_attention_heads").get<uint64_t>();
    c.num_key_value_heads = j.value("num_key_value_heads", c.num_attention_heads);
    c.head_dim = j.contains("head_dim") && !j.at("head_dim").is_null() ? j.at("head_dim").get<uint64_t>()
                                                                          : c.hidden_size / c.num_attention_heads;
    c.max_position_embeddings = j.value("max_position_embeddings", uint64_t{2048});
    c.rms_norm_eps = j.value("rms_norm_eps", 1e-6);
    c.rope_theta = j.value("rope_theta", 10000.0);
    c.tie_word_embeddings = j.value("tie_word_embeddings", false);
    if (j.contains("eos_token_id") && !j.at("eos_token_id").is_null()) {
      const auto& e = j.at("eos_token_id");
      if (e.is_array()) c.eos_token_ids = e.get<std::vector<uint32_t>>();
      else c.eos_token_ids.push_back(e.get<uint32_t>());
    }
    if (j.value("attention_bias", false) || j.value("mlp_bias", false)) throw bad("attention_bias/mlp_bias are not supported");
    if (j.contains("sliding_window") && !j.at("sliding_window").is_null())
      throw bad("sliding_window attention is not supported (set it to null for full attention)");
    const std::string act = j.value("hidden_act", "silu");
    if (act != "silu") throw bad("hidden_act " + act + " is not supported (silu)");
    if (c.num_attention_heads == 0 || c.num_key_value_heads == 0 || c.num_attention_heads % c.num_key_value_heads != 0)
      throw bad("num_attention_heads must be a multiple of num_key_value_heads");
    if (c.head_dim == 0 || c.head_dim % 2 != 0) throw bad("head_dim must be even");
    if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null()) {
      const auto& r = j.at("rope_scaling");
      auto& s = c.rope_scaling;
      s.type = r.contains("rope_type") ? r.at("rope_type").get<std::string>() : r.value("type", std::string("default"));
      if (s.type == "default") s.type = "none";
      if (s.type != "none" && s.type != "linear" && s.type != "dynamic" && s.type != "yarn" && s.type != "llama3")
        throw bad("rope_scaling type \"" + s.type + "\" is not supported (linear, dynamic, yarn, llama3)");
      s.factor = r.value("factor", 1.0);
      if (s.type != "none" && !(s.factor >= 1.0)) throw bad("rope_scaling factor must be >= 1");
      s.original_max_position_embeddings = r.value("original_max_position_embeddings", uint64_t{0});
      s.low_freq_factor = r.value("low_freq_factor", 1.0);
      s.high_freq_factor = r.value("high_freq_factor", 4.0);
      if (r.contains("beta_fast") && !r.at("beta_fast").is_null()) s.beta_fast = r.at("beta_fast").get<double>();
      if (r.contains("beta_slow") && !r.at("beta_slow").is_null()) s.beta_slow = r.at("beta_slow").get<double>();
      if (r.contains("attention_factor") && !r.at("attention_factor").is_null()) s.attention_factor = r.at("attention_factor").get<double>();
      if (s.type == "llama3" && s.original_max_position_embeddings == 0) throw bad("llama3 rope_scaling needs original_max_position_embeddings");
      for (const char* k : {"mscale", "mscale_all_dim", "short_factor", "long_factor"})
        if (r.contains(k)) throw bad(std::string("rope_scaling.") + k + " is not supported");
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("missing or malformed field: ") + e.what());
  }
  return c;
}

}  // namespace longctx::model
