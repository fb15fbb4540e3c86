#include "longctx/train/params.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "longctx/model/safetensors.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/rng.h"

namespace longctx::train {
namespace {

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

ParamLayout::ParamLayout(const model::LlamaConfig& c) {
  const uint64_t d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size, V = c.vocab_size;
  embed_ = add("model.embed_tokens.weight", {V, d}, true, false);
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerSlots l;
    l.attn_norm = add(p + "input_layernorm.weight", {d}, false, true);
    l.wq = add(p + "self_attn.q_proj.weight", {H * hd, d}, true, false);
    l.wk = add(p + "self_attn.k_proj.weight", {KV * hd, d}, true, false);
    l.wv = add(p + "self_attn.v_proj.weight", {KV * hd, d}, true, false);
    l.wo = add(p + "self_attn.o_proj.weight", {d, H * hd}, true, false);
    l.mlp_norm = add(p + "post_attention_layernorm.weight", {d}, false, true);
    l.w_gate = add(p + "mlp.gate_proj.weight", {I, d}, true, false);
    l.w_up = add(p + "mlp.up_proj.weight", {I, d}, true, false);
    l.w_down = add(p + "mlp.down_proj.weight", {d, I}, true, false);
    layers_.push_back(l);
  }
  final_norm_ = add("model.norm.weight", {d}, false, true);
  lm_head_ = c.tie_word_embeddings ? embed_ : add("lm_head.weight", {V, d}, true, false);
}

uint64_t ParamLayout::add(const std::string& name, std::vector<uint64_t> shape, bool decay, bool norm) {
  TensorSlot t;
  t.name = name;
  t.shape = std::move(shape);
  t.size = 1;
  for (const uint64_t s : t.shape) t.size *= s;
  t.offset = total_;
  t.decay = decay;
  t.norm = norm;
  total_ += (t.size + 15) / 16 * 16;  // 64-byte aligned tensors
  tensors_.push_back(t);
  return t.offset;
}

void ParamLayout::load(float* params, const std::string& dir) const {
  const std::vector<std::string> files = model::checkpoint_files(dir);
  std::map<std::string, const TensorSlot*> want;
  for (const auto& t : tensors_) want[t.name] = &t;
  std::map<std::string, bool> got;
  for (const auto& f : files) {
    const model::SafetensorsFile st(f);
    for (const auto& [name, info] : st.tensors()) {
      if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
      const auto it = want.find(name);
      if (it == want.end()) throw Error(f + ": unexpected tensor " + name + " for this config");
      if (info.shape != it->second->shape)
        throw Error(f + ": tensor " + name + " has shape " + shape_str(info.shape) + ", the config implies " + shape_str(it->second->shape));
      if (got.count(name)) throw Error(f + ": tensor " + name + " appears in two of the checkpoint's files");
      const auto v = st.read_f32(name);
      std::copy(v.begin(), v.end(), params + it->second->offset);
      got[name] = true;
    }
  }
  for (const auto& t : tensors_)
    if (!got.count(t.name)) throw Error(dir + ": the checkpoint has no tensor " + t.name);
}

void ParamLayout::init_random(float* params, uint64_t seed, double std) const {
  Rng rng(seed, 0x1417);
  for (const auto& t : tensors_) {
    float* p = params + t.offset;
    if (t.norm) {
      std::fill(p, p + t.size, 1.0f);
      continue;
    }
    for (uint64_t i = 0; i < t.size; i += 2) {  // Box-Muller: two normals per pair of uniforms
      const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
      const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
      p[i] = static_cast<float>(std * r * std::cos(a));
      if (i + 1 < t.size) p[i + 1] = static_cast<float>(std * r * std::sin(a));
    }
  }
}

void ParamLayout::save(const float* params, const std::string& config_json, const std::string& dir) const {
  save_buffers({{params, ""}}, dir + "/model.safetensors");
  AtomicFile f(dir + "/config.json");
  f.write(config_json);
  f.commit();
}

void ParamLayout::save_buffers(const std::vector<std::pair<const float*, std::string>>& bufs, const std::string& path) const {
  std::vector<model::TensorRef> refs;
  for (const auto& [buf, prefix] : bufs)
    for (const auto& t : tensors_) refs.push_back({prefix + t.name, t.shape, buf + t.offset});
  model::write_safetensors(path, refs);
}

void ParamLayout::load_buffer(float* buf, const std::string& prefix, const std::string& path) const {
  const model::SafetensorsFile st(path);
  for (const auto& t : tensors_) {
    const auto it = st.tensors().find(prefix + t.name);
    if (it == st.tensors().end()) throw Error(path + ": no tensor " + prefix + t.name);
    if (it->second.shape != t.shape)
      throw Error(path + ": tensor " + prefix + t.name + " has shape " + shape_str(it->second.shape) + ", the config implies " +
                  shape_str(t.shape));
    const auto v = st.read_f32(prefix + t.name);
    std::copy(v.begin(), v.end(), buf + t.offset);
  }
}

}  // namespace longctx::train
