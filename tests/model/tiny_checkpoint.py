"""A LLaMA checkpoint of random weights for a given config.json dict, written as safetensors with
no torch: for tests that need a model the engine loads, not one whose outputs mean anything."""
import json
import struct

import numpy as np

# A small LLaMA config.json: 2 layers, hidden 32, grouped-query attention (4 heads, 2 KV heads).
LLAMA = {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 32, "intermediate_size": 48,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def weights(c, rng):
    d, hd = c["hidden_size"], c["hidden_size"] // c["num_attention_heads"]
    H, KV, I, V = c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"], c["vocab_size"]
    w = {"model.embed_tokens.weight": rng.normal(0, 0.1, (V, d)), "model.norm.weight": np.ones(d), "lm_head.weight": rng.normal(0, 0.1, (V, d))}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.update({p + "input_layernorm.weight": np.ones(d), p + "post_attention_layernorm.weight": np.ones(d),
                  p + "self_attn.q_proj.weight": rng.normal(0, 0.1, (H * hd, d)),
                  p + "self_attn.k_proj.weight": rng.normal(0, 0.1, (KV * hd, d)),
                  p + "self_attn.v_proj.weight": rng.normal(0, 0.1, (KV * hd, d)),
                  p + "self_attn.o_proj.weight": rng.normal(0, 0.1, (d, H * hd)),
                  p + "mlp.gate_proj.weight": rng.normal(0, 0.1, (I, d)), p + "mlp.up_proj.weight": rng.normal(0, 0.1, (I, d)),
                  p + "mlp.down_proj.weight": rng.normal(0, 0.1, (d, I))})
    return w
