#include "longctx/model/weights.h"

#include <cmath>
#include <map>
#include <memory>

#include "longctx/model/safetensors.h"
#include "longctx/util/error.h"
#include "longctx/util/file.h"
#include "longctx/util/rng.h"

namespace longctx::model {
namespace {

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char* family_name(Family f) {
  switch (f) {
    case Family::Llama: return "LLaMA";
    case Family::Mistral: return "Mistral";
    case Family::Qwen2: return "Qwen2";
    case Family::Qwen3: return "Qwen3";
    case Family::Gemma2: return "Gemma 2";
    case Family::Gemma3: return "Gemma 3";
    case Family::Phi3: return "Phi-3";
  }
  return "?";
}

}  // namespace

// The table of docs/models.md: which tensors a config implies, in the order transformers creates
// them (the order only fixes offsets and the random initialisation's sequence).
WeightLayout::WeightLayout(const ModelConfig& c) {
  const uint64_t d = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const uint64_t I = c.intermediate_size, V = c.vocab_size;
  using I_ = TensorSlot::Init;
  const I_ gain = c.norm_plus_one ? I_::kZeros : I_::kOnes;  // Gemma's (1 + w): w starts at 0
  embed_ = add("model.embed_tokens.weight", {V, d}, I_::kNormal, true);
  for (uint64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerSlots l;
    l.attn_norm = add(p + "input_layernorm.weight", {d}, gain, false);
    if (c.fused_qkv) {
      l.wq = add(p + "self_attn.qkv_proj.weight", {(H + 2 * KV) * hd, d}, I_::kNormal, true);
      l.wk = l.wq + H * hd * d;  // rows [q; k; v]: the parts are contiguous row blocks
      l.wv = l.wk + KV * hd * d;
    } else {
      l.wq = add(p + "self_attn.q_proj.weight", {H * hd, d}, I_::kNormal, true);
      if (c.qkv_bias) l.bq = add(p + "self_attn.q_proj.bias", {H * hd}, I_::kZeros, false);
      l.wk = add(p + "self_attn.k_proj.weight", {KV * hd, d}, I_::kNormal, true);
      if (c.qkv_bias) l.bk = add(p + "self_attn.k_proj.bias", {KV * hd}, I_::kZeros, false);
      l.wv = add(p + "self_attn.v_proj.weight", {KV * hd, d}, I_::kNormal, true);
      if (c.qkv_bias) l.bv = add(p + "self_attn.v_proj.bias", {KV * hd}, I_::kZeros, false);
    }
    l.wo = add(p + "self_attn.o_proj.weight", {d, H * hd}, I_::kNormal, true);
    if (c.o_bias) l.bo = add(p + "self_attn.o_proj.bias", {d}, I_::kZeros, false);
    if (c.qk_norm) {
      l.q_norm = add(p + "self_attn.q_norm.weight", {hd}, gain, false);
      l.k_norm = add(p + "self_attn.k_norm.weight", {hd}, gain, false);
    }
    if (c.sandwich_norms) {
      l.post_attn_norm = add(p + "post_attention_layernorm.weight", {d}, gain, false);
      l.mlp_norm = add(p + "pre_feedforward_layernorm.weight", {d}, gain, false);
      l.post_mlp_norm = add(p + "post_feedforward_layernorm.weight", {d}, gain, false);
    } else {
      l.mlp_norm = add(p + "post_attention_layernorm.weight", {d}, gain, false);
    }
    if (c.fused_gate_up) {
      l.w_gate = add(p + "mlp.gate_up_proj.weight", {2 * I, d}, I_::kNormal, true);
      l.w_up = l.w_gate + I * d;  // rows [gate; up]
    } else {
      l.w_gate = add(p + "mlp.gate_proj.weight", {I, d}, I_::kNormal, true);
      if (c.mlp_bias) l.b_gate = add(p + "mlp.gate_proj.bias", {I}, I_::kZeros, false);
      l.w_up = add(p + "mlp.up_proj.weight", {I, d}, I_::kNormal, true);
      if (c.mlp_bias) l.b_up = add(p + "mlp.up_proj.bias", {I}, I_::kZeros, false);
    }
    l.w_down = add(p + "mlp.down_proj.weight", {d, I}, I_::kNormal, true);
    if (c.mlp_bias && !c.fused_gate_up) l.b_down = add(p + "mlp.down_proj.bias", {d}, I_::kZeros, false);
    layers_.push_back(l);
  }
  final_norm_ = add("model.norm.weight", {d}, gain, false);
  lm_head_ = c.tie_word_embeddings ? embed_ : add("lm_head.weight", {V, d}, I_::kNormal, true);
  family_ = family_name(c.family);
}

uint64_t WeightLayout::add(const std::string& name, std::vector<uint64_t> shape, TensorSlot::Init init, bool decay) {
  TensorSlot t;
  t.name = name;
  t.shape = std::move(shape);
  t.size = 1;
  for (const uint64_t s : t.shape) t.size *= s;
  t.offset = total_;
  t.decay = decay;
  t.init = init;
  total_ += (t.size + 15) / 16 * 16;  // 64-byte aligned tensors
  tensors_.push_back(t);
  return t.offset;
}

uint64_t WeightLayout::parameters() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.size;
  return n;
}

WeightLayout::CheckedFiles WeightLayout::check(const std::string& dir) const {
  std::map<std::string, const TensorSlot*> want;
  for (const auto& t : tensors_) want[t.name] = &t;
  CheckedFiles c;
  for (const auto& f : checkpoint_files(dir)) {
    c.files.push_back(std::make_unique<SafetensorsFile>(f));
    for (const auto& [name, info] : c.files.back()->tensors()) {
      if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // a buffer some exports keep
      const auto it = want.find(name);
      if (it == want.end())
        throw Error(f + ": unexpected tensor " + name + " (not a weight of this " + family_ + " config: " + dir + "/config.json)");
      if (info.shape != it->second->shape)
        throw Error(f + ": tensor " + name + " has shape " + shape_str(info.shape) + ", the config implies " + shape_str(it->second->shape));
      if (!c.where.emplace(name, c.files.back().get()).second) throw Error(f + ": tensor " + name + " is also in " + c.where.at(name)->path());
    }
  }
  for (const auto& t : tensors_)
    if (!c.where.count(t.name)) throw Error(dir + ": the checkpoint has no tensor " + t.name + " (" + family_ + " config)");
  return c;
}

void WeightLayout::load(float* params, const std::string& dir) const { load(params, check(dir)); }

void WeightLayout::load(float* params, const CheckedFiles& c) const {
  for (const auto& t : tensors_) {
    const auto v = c.where.at(t.name)->read_f32(t.name);
    std::copy(v.begin(), v.end(), params + t.offset);
  }
}

void WeightLayout::init_random(float* params, uint64_t seed, double std) const {
  Rng rng(seed, 0x1417);
  for (const auto& t : tensors_) {
    float* p = params + t.offset;
    if (t.init != TensorSlot::kNormal) {
      std::fill(p, p + t.size, t.init == TensorSlot::kOnes ? 1.0f : 0.0f);
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

void WeightLayout::save(const float* params, const std::string& config_json, const std::string& dir) const {
  save_buffers({{params, ""}}, dir + "/model.safetensors");
  AtomicFile f(dir + "/config.json");
  f.write(config_json);
  f.commit();
}

void WeightLayout::save_buffers(const std::vector<std::pair<const float*, std::string>>& bufs, const std::string& path,
                                const TensorFill& fill) const {
  std::vector<TensorRef> refs;
  for (const auto& [buf, prefix] : bufs)
    for (const auto& t : tensors_) refs.push_back({prefix + t.name, t.shape, buf ? buf + t.offset : nullptr});
  write_safetensors(path, refs, {{"format", "pt"}}, fill);
}

void WeightLayout::load_buffer(float* buf, const std::string& prefix, const std::string& path) const {
  load_buffer_range(buf, prefix, path, 0, total());
}

void WeightLayout::load_buffer_range(float* dst, const std::string& prefix, const std::string& path, uint64_t begin,
                                     uint64_t end) const {
  const SafetensorsFile st(path);
  for (const auto& t : tensors_) {
    const auto it = st.tensors().find(prefix + t.name);
    if (it == st.tensors().end()) throw Error(path + ": no tensor " + prefix + t.name);
    if (it->second.shape != t.shape)
      throw Error(path + ": tensor " + prefix + t.name + " has shape " + shape_str(it->second.shape) + ", the config implies " +
                  shape_str(t.shape));
    const uint64_t a = std::max(begin, t.offset), b = std::min(end, t.offset + t.size);
    if (a >= b) continue;  // every tensor is still checked above, as a whole load does
    const auto v = st.read_f32(prefix + t.name);
    std::copy(v.begin() + static_cast<int64_t>(a - t.offset), v.begin() + static_cast<int64_t>(b - t.offset), dst + (a - begin));
  }
}

}  // namespace longctx::model
