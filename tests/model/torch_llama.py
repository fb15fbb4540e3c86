#!/usr/bin/python3
"""An independent LLaMA reference in PyTorch (Debian's python3-torch), written from the
transformers modeling code's semantics (LlamaForCausalLM, rotate-half RoPE, the rope_scaling
variants of modeling_rope_utils / transformers 4.35 dynamic NTK), computing in float64 from the
checkpoint's weights. Also writes tiny random checkpoints (config.json + model.safetensors in
f32, bf16 or f16) with the standard library and torch only.
"""
import json
import math
import os
import struct

import torch


def write_checkpoint(d, config, seed, dtype="f32", scale=0.15, shards=1):
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    V, D, I = config["vocab_size"], config["hidden_size"], config["intermediate_size"]
    H, KV = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    hd = config.get("head_dim") or D // H
    t = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) * scale * 4,
         "model.norm.weight": 1 + 0.1 * torch.randn(D, generator=g)}
    if not config.get("tie_word_embeddings", False):
        t["lm_head.weight"] = torch.randn(V, D, generator=g) * scale
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=g)
        t[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=g)
        t[p + "self_attn.q_proj.weight"] = torch.randn(H * hd, D, generator=g) * scale
        t[p + "self_attn.k_proj.weight"] = torch.randn(KV * hd, D, generator=g) * scale
        t[p + "self_attn.v_proj.weight"] = torch.randn(KV * hd, D, generator=g) * scale
        t[p + "self_attn.o_proj.weight"] = torch.randn(D, H * hd, generator=g) * scale
        t[p + "mlp.gate_proj.weight"] = torch.randn(I, D, generator=g) * scale
        t[p + "mlp.up_proj.weight"] = torch.randn(I, D, generator=g) * scale
        t[p + "mlp.down_proj.weight"] = torch.randn(D, I, generator=g) * scale
    tdtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dtype]
    name = {"f32": "F32", "bf16": "BF16", "f16": "F16"}[dtype]
    names = sorted(t)
    weight_map = {}
    for part in range(shards):
        fname = "model.safetensors" if shards == 1 else f"model-{part + 1:05d}-of-{shards:05d}.safetensors"
        header, blobs, off = {}, [], 0
        for k in names[part::shards]:
            v = t[k].to(tdtype).contiguous()
            raw = (v.view(torch.int16) if dtype != "f32" else v).numpy().tobytes()
            header[k] = {"dtype": name, "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
            blobs.append(raw)
            off += len(raw)
            weight_map[k] = fname
        header["__metadata__"] = {"format": "pt"}
        h = json.dumps(header).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        with open(os.path.join(d, fname), "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    if shards > 1:
        json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    json.dump({"architectures": ["LlamaForCausalLM"], **config}, open(os.path.join(d, "config.json"), "w"), indent=1)


def load(d):
    config = json.load(open(os.path.join(d, "config.json")))
    index = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    w = {}
    for fname in files:
        raw = open(os.path.join(d, fname), "rb").read()
        n = struct.unpack_from("<Q", raw)[0]
        header = json.loads(raw[8:8 + n])
        for k, v in header.items():
            if k == "__metadata__":
                continue
            a, b = v["data_offsets"]
            buf = bytearray(raw[8 + n + a:8 + n + b])
            if v["dtype"] == "F32":
                x = torch.frombuffer(buf, dtype=torch.float32)
            else:
                x = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16 if v["dtype"] == "BF16" else torch.float16)
            w[k] = x.reshape(v["shape"]).to(torch.float64)
    return config, w


def inv_freq_for(config, base, dim):
    """modeling_rope_utils: default / linear / yarn / llama3 inverse frequencies (float64)."""
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    rs = config.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    attention = 1.0
    if kind == "yarn":
        factor = rs["factor"]
        orig = rs.get("original_max_position_embeddings") or config["max_position_embeddings"]
        attention = rs.get("attention_factor") or (0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0)
        beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr_dim(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low, high = max(math.floor(corr_dim(beta_fast)), 0), min(math.ceil(corr_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low), 0, 1)
        extra = 1 - ramp
        pos = base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        inv = (1.0 / (factor * pos)) * (1 - extra) + (1.0 / pos) * extra
    elif kind == "llama3":
        factor, lf, hf, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_wl, high_wl = old / lf, old / hf
        wl = 2 * math.pi / inv
        out = torch.where(wl > low_wl, inv / factor, inv)
        smooth = (old / wl - lf) / (hf - lf)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wl < high_wl) * ~(wl > low_wl)
        inv = torch.where(medium, smoothed, out)
    return inv, attention, kind


class Rope:
    """cos/sin per position; dynamic NTK as transformers 4.35 (base grows with the sequence once
    past max_position_embeddings; the table is rebuilt when a longer sequence is seen)."""

    def __init__(self, config, theta=None, pin=0):
        self.c = config
        self.base = theta or config.get("rope_theta", 10000.0)
        self.dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        self.inv, self.attn, self.kind = inv_freq_for(config, self.base, self.dim)
        self.pin = pin
        self.maxpos = config["max_position_embeddings"]
        self.factor = (config.get("rope_scaling") or {}).get("factor", 1.0)
        self.cached = 0
        if self.kind == "dynamic" and pin > self.maxpos:
            self.build(pin, self.ntk_base(pin))
        else:
            self.build(max(self.maxpos, pin), self.base)

    def ntk_base(self, n):
        return self.base * ((self.factor * n / self.maxpos) - (self.factor - 1)) ** (self.dim / (self.dim - 2))

    def build(self, n, base):
        if self.kind == "dynamic":
            self.inv = 1.0 / (base ** (torch.arange(0, self.dim, 2, dtype=torch.float64) / self.dim))
        t = torch.arange(n, dtype=torch.float64)
        if self.kind == "linear":
            t = t / self.factor
        f = torch.outer(t, self.inv)
        self.cos, self.sin = torch.cos(f) * self.attn, torch.sin(f) * self.attn
        self.cached = n

    def ensure(self, n):
        if n <= self.cached:
            return
        if self.kind == "dynamic" and not self.pin:
            self.build(n, self.ntk_base(n))
        elif self.kind == "dynamic":
            t = torch.arange(n, dtype=torch.float64)
            f = torch.outer(t, self.inv)
            self.cos = torch.cat([self.cos, torch.cos(f[self.cached:]) * self.attn])
            self.sin = torch.cat([self.sin, torch.sin(f[self.cached:]) * self.attn])
            self.cached = n
        else:
            self.build(n, self.base)


def rotate(x, cos, sin):
    """q * cos + rotate_half(q) * sin with rotate_half(x) = cat(-x2, x1)."""
    h = x.shape[-1] // 2
    c = torch.cat([cos, cos], -1)
    s = torch.cat([sin, sin], -1)
    rh = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * c + rh * s


class Llama:
    def __init__(self, d, theta=None, pin=0):
        self.c, self.w = load(d)
        c = self.c
        self.H, self.KV = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c.get("head_dim") or c["hidden_size"] // self.H
        self.theta, self.pin = theta, pin
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.reset()

    def reset(self):
        # A fresh table per sequence, as a freshly loaded transformers model has (its dynamic-NTK
        # table otherwise stays at the longest length seen so far).
        self.rope = Rope(self.c, self.theta, self.pin)
        self.k = [None] * self.c["num_hidden_layers"]
        self.v = [None] * self.c["num_hidden_layers"]
        self.n = 0

    def norm(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, ids):
        """Appends ids (one call = one transformers forward with a cache); returns [n, V] logits."""
        w, H, KV, hd = self.w, self.H, self.KV, self.hd
        n, p0 = len(ids), self.n
        self.rope.ensure(p0 + n)
        cos, sin = self.rope.cos[p0:p0 + n], self.rope.sin[p0:p0 + n]
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        for i in range(self.c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(n, H, hd).transpose(0, 1)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            self.k[i] = k if self.k[i] is None else torch.cat([self.k[i], k], 1)
            self.v[i] = v if self.v[i] is None else torch.cat([self.v[i], v], 1)
            kk = self.k[i].repeat_interleave(H // KV, 0)
            vv = self.v[i].repeat_interleave(H // KV, 0)
            s = q @ kk.transpose(1, 2) / math.sqrt(hd)
            qpos = torch.arange(p0, p0 + n)[:, None]
            kpos = torch.arange(p0 + n)[None, :]
            s = s.masked_fill(kpos > qpos, float("-inf"))
            o = torch.softmax(s, -1) @ vv
            x = x + o.transpose(0, 1).reshape(n, H * hd) @ w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = h @ w[p + "mlp.gate_proj.weight"].T
            u = h @ w[p + "mlp.up_proj.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
        self.n += n
        x = self.norm(x, w["model.norm.weight"])
        out = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        return x @ out.T
