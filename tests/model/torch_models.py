#!/usr/bin/python3
"""Independent float64 PyTorch references for every architecture docs/models.md lists (LLaMA,
Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3, Phi-3), written from that contract and the published
Hugging Face semantics (modeling_llama / mistral / qwen2 / qwen3 / gemma2 / gemma3 / phi3 and
modeling_rope_utils; dynamic NTK as transformers 4.35), with plain torch ops. Shares nothing with
the C++ code but the checkpoint files.

- `Spec(config)`: config.json resolved with each family's defaults (docs/models.md).
- `Rope`: default / linear / dynamic / yarn / llama3 / longrope tables over the rotary dimension;
  LongRoPE picks short or long factors per forward call (`table(p0, n)`).
- `Model(dir, theta=None, pin=0)`: `reset()`, `forward(ids)` = one transformers forward with a KV
  cache (returns the logits of the new positions).
- `sequence_losses(config, weights, tokens[B, T], doc_start=None)`: the trainer's batched losses.
- `write_checkpoint(dir, family, config, seed, dtype, shards)`: a tiny random checkpoint with
  every tensor the config implies (config.json + safetensors in f32 / bf16 / f16).
"""
import json
import math
import os
import struct

import torch

ARCH = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM",
        "gemma2": "Gemma2ForCausalLM", "gemma3": "Gemma3ForCausalLM", "phi3": "Phi3ForCausalLM"}
FAMILY = {v: k for k, v in ARCH.items()}
GEMMA = ("gemma2", "gemma3")


def _get(c, key, default):
    v = c.get(key)
    return default if v is None else v


def family_of(config):
    return FAMILY[(config.get("architectures") or ["LlamaForCausalLM"])[0]]


def head_dim_of(config):
    fam = family_of(config)
    default = 256 if fam in GEMMA else 128 if fam == "qwen3" else config["hidden_size"] // config["num_attention_heads"]
    return _get(config, "head_dim", default)


def rotary_dim_of(config):
    hd = head_dim_of(config)
    if family_of(config) == "phi3":
        return int(hd * _get(config, "partial_rotary_factor", 1.0))
    return hd


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


class Spec:
    """config.json resolved with the family's defaults, as docs/models.md states them."""

    def __init__(self, c):
        self.c = c
        f = self.family = family_of(c)
        self.gemma = f in GEMMA
        self.V, self.D, self.I, self.L = c["vocab_size"], c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
        self.H = c["num_attention_heads"]
        self.KV = _get(c, "num_key_value_heads", self.H)
        self.hd = head_dim_of(c)
        self.rot = rotary_dim_of(c)
        self.eps = _get(c, "rms_norm_eps", 1e-5 if f == "phi3" else 1e-6)  # transformers' config classes
        self.tied = _get(c, "tie_word_embeddings", self.gemma)
        act = c.get("hidden_activation") or c.get("hidden_act") or ("gelu_pytorch_tanh" if self.gemma else "silu")
        assert act in (("gelu_pytorch_tanh", "gelu_new") if self.gemma else ("silu",)), act
        self.act = torch.nn.functional.silu if act == "silu" else gelu_tanh
        ab = bool(c.get("attention_bias")) and f in ("llama", "qwen3")
        self.qkv_bias = ab or f == "qwen2"
        self.o_bias = ab
        self.mlp_bias = bool(c.get("mlp_bias")) and f == "llama"
        self.qk_norm = f in ("qwen3", "gemma3")
        self.fused = f == "phi3"
        # Gemma: embeddings x float32(sqrt(hidden)); scores x query_pre_attn_scalar^-1/2; soft-capping
        # (transformers: an absent key takes the default, an explicit null turns capping off).
        self.embed_scale = torch.tensor(self.D ** 0.5, dtype=torch.float32).item() if self.gemma else None
        self.attn_scale = _get(c, "query_pre_attn_scalar", 256) ** -0.5 if self.gemma else None

        def cap(key, default):
            return c[key] if key in c else default

        self.attn_cap = cap("attn_logit_softcapping", 50.0 if f == "gemma2" else None) if self.gemma else None
        self.final_cap = cap("final_logit_softcapping", 30.0 if f == "gemma2" else None) if self.gemma else None
        # Sliding windows: W per layer (0 = full attention).
        L, W = self.L, c.get("sliding_window")
        if f in GEMMA and W is None:
            W = 4096
        if f == "mistral" and "sliding_window" not in c:
            W = 4096  # MistralConfig's default (an explicit null: no window)
        if f in ("qwen2", "qwen3"):  # an absent window is 4096, an explicit null none
            W = (c["sliding_window"] if "sliding_window" in c else 4096) if c.get("use_sliding_window") else None
        if f == "llama":
            sliding = [False] * L
        elif c.get("layer_types") is not None:
            sliding = [t == "sliding_attention" for t in c["layer_types"]]
            assert len(sliding) == L
        elif f in ("mistral", "phi3"):
            sliding = [True] * L
        elif f in ("qwen2", "qwen3"):
            sliding = [i >= _get(c, "max_window_layers", 28) for i in range(L)]
        elif f == "gemma2":
            sliding = [i % 2 == 0 for i in range(L)]
        else:
            sliding = [(i + 1) % _get(c, "sliding_window_pattern", 6) != 0 for i in range(L)]
        self.window = [W if (s and W) else 0 for s in sliding]
        # Gemma 3: sliding layers use the local table (rope_local_base_freq, default RoPE).
        self.local = [f == "gemma3" and s for s in sliding]
        self.local_theta = _get(c, "rope_local_base_freq", 10000.0)

    def norm(self, x, g):
        xh = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return (1 + g) * xh if self.gemma else g * xh

    def local_config(self):
        return {**self.c, "rope_theta": self.local_theta, "rope_scaling": None}

    def tensor_shapes(self):
        """Every tensor the config implies, with its shape (docs/models.md, "Tensor names")."""
        D, I, H, KV, hd = self.D, self.I, self.H, self.KV, self.hd
        t = {"model.embed_tokens.weight": [self.V, D], "model.norm.weight": [D]}
        if not self.tied:
            t["lm_head.weight"] = [self.V, D]
        for i in range(self.L):
            p = f"model.layers.{i}."
            t[p + "input_layernorm.weight"] = [D]
            t[p + "post_attention_layernorm.weight"] = [D]
            if self.gemma:
                t[p + "pre_feedforward_layernorm.weight"] = [D]
                t[p + "post_feedforward_layernorm.weight"] = [D]
            if self.fused:
                t[p + "self_attn.qkv_proj.weight"] = [(H + 2 * KV) * hd, D]
                t[p + "mlp.gate_up_proj.weight"] = [2 * I, D]
            else:
                t[p + "self_attn.q_proj.weight"] = [H * hd, D]
                t[p + "self_attn.k_proj.weight"] = [KV * hd, D]
                t[p + "self_attn.v_proj.weight"] = [KV * hd, D]
                t[p + "mlp.gate_proj.weight"] = [I, D]
                t[p + "mlp.up_proj.weight"] = [I, D]
            t[p + "self_attn.o_proj.weight"] = [D, H * hd]
            t[p + "mlp.down_proj.weight"] = [D, I]
            if self.qkv_bias:
                t[p + "self_attn.q_proj.bias"] = [H * hd]
                t[p + "self_attn.k_proj.bias"] = [KV * hd]
                t[p + "self_attn.v_proj.bias"] = [KV * hd]
            if self.o_bias:
                t[p + "self_attn.o_proj.bias"] = [D]
            if self.mlp_bias:
                t[p + "mlp.gate_proj.bias"] = [I]
                t[p + "mlp.up_proj.bias"] = [I]
                t[p + "mlp.down_proj.bias"] = [D]
            if self.qk_norm:
                t[p + "self_attn.q_norm.weight"] = [hd]
                t[p + "self_attn.k_norm.weight"] = [hd]
        return t


# --- Checkpoints -------------------------------------------------------------------------------

def write_checkpoint(d, family, config, seed, dtype="f32", shards=1, scale=0.15):
    """Small random values for every tensor: matrices N(0, scale) (embeddings 4x), RMSNorm gains
    1 + N(0, 0.1) (Gemma's 1 + w: w = N(0, 0.1)), biases N(0, scale). The draw order of a plain
    LLaMA is the original torch_llama writer's, so its checkpoints are byte-identical."""
    os.makedirs(d, exist_ok=True)
    full = {"architectures": [ARCH[family]], **config}
    s = Spec(full)
    g = torch.Generator().manual_seed(seed)
    V, D, I, H, KV, hd = s.V, s.D, s.I, s.H, s.KV, s.hd

    def randn(*shape):
        return torch.randn(*shape, generator=g)

    def gain(n):
        return 0.1 * randn(n) if s.gemma else 1 + 0.1 * randn(n)

    t = {"model.embed_tokens.weight": randn(V, D) * scale * 4, "model.norm.weight": gain(D)}
    if not s.tied:
        t["lm_head.weight"] = randn(V, D) * scale
    for i in range(s.L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = gain(D)
        t[p + "post_attention_layernorm.weight"] = gain(D)
        q, k, v = randn(H * hd, D) * scale, randn(KV * hd, D) * scale, randn(KV * hd, D) * scale
        t[p + "self_attn.o_proj.weight"] = randn(D, H * hd) * scale
        gate, up = randn(I, D) * scale, randn(I, D) * scale
        t[p + "mlp.down_proj.weight"] = randn(D, I) * scale
        if s.fused:
            t[p + "self_attn.qkv_proj.weight"] = torch.cat([q, k, v])
            t[p + "mlp.gate_up_proj.weight"] = torch.cat([gate, up])
        else:
            t[p + "self_attn.q_proj.weight"], t[p + "self_attn.k_proj.weight"], t[p + "self_attn.v_proj.weight"] = q, k, v
            t[p + "mlp.gate_proj.weight"], t[p + "mlp.up_proj.weight"] = gate, up
        if s.gemma:
            t[p + "pre_feedforward_layernorm.weight"] = gain(D)
            t[p + "post_feedforward_layernorm.weight"] = gain(D)
        if s.qkv_bias:
            t[p + "self_attn.q_proj.bias"] = randn(H * hd) * scale
            t[p + "self_attn.k_proj.bias"] = randn(KV * hd) * scale
            t[p + "self_attn.v_proj.bias"] = randn(KV * hd) * scale
        if s.o_bias:
            t[p + "self_attn.o_proj.bias"] = randn(D) * scale
        if s.mlp_bias:
            t[p + "mlp.gate_proj.bias"] = randn(I) * scale
            t[p + "mlp.up_proj.bias"] = randn(I) * scale
            t[p + "mlp.down_proj.bias"] = randn(D) * scale
        if s.qk_norm:
            t[p + "self_attn.q_norm.weight"] = gain(hd)
            t[p + "self_attn.k_norm.weight"] = gain(hd)
    shapes = s.tensor_shapes()
    assert sorted(shapes) == sorted(t) and all(list(t[k].shape) == shapes[k] for k in t)
    save_safetensors(d, t, dtype, shards)
    json.dump(full, open(os.path.join(d, "config.json"), "w"), indent=1)


def save_safetensors(d, t, dtype="f32", shards=1):
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


def load(d):
    """(config, {name: float64 tensor})."""
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


# --- RoPE --------------------------------------------------------------------------------------

def rope_kind(config):
    rs = config.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    return "longrope" if kind == "su" else kind


def inv_freq_for(config, base, dim):
    """modeling_rope_utils: default / linear / yarn / llama3 inverse frequencies over `dim` rotary
    dimensions (float64), the attention factor, and the kind."""
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    rs = config.get("rope_scaling") or {}
    kind = rope_kind(config)
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


def longrope_params(config, base, dim):
    """(orig, attention factor, short inv_freq, long inv_freq) as docs/models.md / transformers' Phi-3."""
    rs = config["rope_scaling"]
    if config.get("original_max_position_embeddings") is not None or family_of(config) == "phi3":
        orig = config.get("original_max_position_embeddings") or 4096  # Phi3Config's default
        factor = config["max_position_embeddings"] / orig
    else:
        orig = rs.get("original_max_position_embeddings") or config["max_position_embeddings"]
        factor = rs.get("factor") or config["max_position_embeddings"] / orig
    attention = rs.get("attention_factor")
    if attention is None:
        attention = 1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(orig))
    pw = base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    short = 1.0 / (torch.tensor(rs["short_factor"], dtype=torch.float64) * pw)
    long = 1.0 / (torch.tensor(rs["long_factor"], dtype=torch.float64) * pw)
    assert len(short) == len(long) == dim // 2
    return orig, attention, short, long


class Rope:
    """cos/sin [positions, rotary_dim / 2] for one table. Dynamic NTK as transformers 4.35: the base
    grows with the sequence once past max_position_embeddings and the table is rebuilt when a
    longer sequence is seen (pinned: built once for `pin` positions). LongRoPE: per forward call,
    the long factors iff the call's last position + 1 exceeds orig (`table`)."""

    def __init__(self, config, theta=None, pin=0, dim=None):
        self.c = config
        self.base = theta or _get(config, "rope_theta", 1e6 if family_of(config) == "gemma3" else 10000.0)
        self.dim = dim or rotary_dim_of(config)
        self.pin = pin
        self.maxpos = _get(config, "max_position_embeddings", 2048)
        self.factor = (config.get("rope_scaling") or {}).get("factor", 1.0)
        self.cached = 0
        if rope_kind(config) == "longrope":
            self.kind = "longrope"
            self.orig, self.attn, self.short, self.long = longrope_params(config, self.base, self.dim)
            return
        self.inv, self.attn, self.kind = inv_freq_for(config, self.base, self.dim)
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
        if self.kind == "longrope":  # the table a forward call of n positions from 0 uses
            self.cos, self.sin = self.table(0, n)
            self.cached = n
            return
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

    def table(self, p0, n):
        """cos, sin of positions p0 .. p0 + n - 1 for one forward call appending n positions to p0."""
        if self.kind == "longrope":
            inv = self.long if p0 + n > self.orig else self.short
            f = torch.outer(torch.arange(p0, p0 + n, dtype=torch.float64), inv)
            return torch.cos(f) * self.attn, torch.sin(f) * self.attn
        self.ensure(p0 + n)
        return self.cos[p0:p0 + n], self.sin[p0:p0 + n]


def rotate(x, cos, sin):
    """Rotate-half RoPE on the first 2 * cos.shape[-1] dimensions: x * cos + rotate_half(x) * sin with
    rotate_half(x) = cat(-x2, x1); the remaining dimensions pass through (partial rotary)."""
    r = 2 * cos.shape[-1]
    if r < x.shape[-1]:
        return torch.cat([rotate(x[..., :r], cos, sin), x[..., r:]], -1)
    h = x.shape[-1] // 2
    c = torch.cat([cos, cos], -1)
    s = torch.cat([sin, sin], -1)
    rh = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * c + rh * s


# --- The layer stack ---------------------------------------------------------------------------

def run(s, w, tokens, p0, tables, cache=None, doc_start=None, stats=None):
    """tokens [B, n] at positions p0 .. p0 + n - 1 (cache: per-layer [k, v] lists of earlier
    positions, extended in place); tables: {"global": (cos, sin), "local": (cos, sin)} for those
    positions; doc_start [B, n]: keys before it are masked. Returns the final-norm hidden states."""
    B, n = tokens.shape
    H, KV, hd = s.H, s.KV, s.hd
    x = w["model.embed_tokens.weight"][tokens]
    if s.gemma:
        x = x * s.embed_scale
    qpos = torch.arange(p0, p0 + n)[:, None]
    kpos = torch.arange(p0 + n)[None, :]
    doc = None if doc_start is None else (kpos[None] < doc_start[:, :, None])[:, None]  # [B, 1, n, keys]

    def lin(h, name, bias):
        y = h @ w[name + ".weight"].T
        return y + w[name + ".bias"] if bias else y

    for i in range(s.L):
        p = f"model.layers.{i}."
        h = s.norm(x, w[p + "input_layernorm.weight"])
        if s.fused:
            qkv = h @ w[p + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv.split([H * hd, KV * hd, KV * hd], -1)
        else:
            q = lin(h, p + "self_attn.q_proj", s.qkv_bias)
            k = lin(h, p + "self_attn.k_proj", s.qkv_bias)
            v = lin(h, p + "self_attn.v_proj", s.qkv_bias)
        q = q.view(B, n, H, hd).transpose(1, 2)
        k = k.view(B, n, KV, hd).transpose(1, 2)
        v = v.view(B, n, KV, hd).transpose(1, 2)
        if s.qk_norm:
            q, k = s.norm(q, w[p + "self_attn.q_norm.weight"]), s.norm(k, w[p + "self_attn.k_norm.weight"])
        cos, sin = tables["local" if s.local[i] else "global"]
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is not None:
            if cache[i] is not None:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
        kk = k.repeat_interleave(H // KV, 1)
        vv = v.repeat_interleave(H // KV, 1)
        sc = q @ kk.transpose(-1, -2)
        sc = sc * s.attn_scale if s.gemma else sc / math.sqrt(hd)
        if s.attn_cap is not None:
            if stats is not None:
                stats["max_score"] = max(stats.get("max_score", 0.0), float(sc.detach().abs().max()))
            sc = s.attn_cap * torch.tanh(sc / s.attn_cap)
        mask = kpos > qpos
        if s.window[i]:
            mask = mask | (kpos <= qpos - s.window[i])
        mask = mask[None, None]
        if doc is not None:
            mask = mask | doc
        sc = sc.masked_fill(mask, float("-inf"))
        o = torch.softmax(sc, -1) @ vv
        a = lin(o.transpose(1, 2).reshape(B, n, H * hd), p + "self_attn.o_proj", s.o_bias)
        if s.gemma:
            a = s.norm(a, w[p + "post_attention_layernorm.weight"])
        x = x + a
        h = s.norm(x, w[p + ("pre_feedforward_layernorm.weight" if s.gemma else "post_attention_layernorm.weight")])
        if s.fused:
            gate, up = (h @ w[p + "mlp.gate_up_proj.weight"].T).split([s.I, s.I], -1)
        else:
            gate, up = lin(h, p + "mlp.gate_proj", s.mlp_bias), lin(h, p + "mlp.up_proj", s.mlp_bias)
        m = lin(s.act(gate) * up, p + "mlp.down_proj", s.mlp_bias)
        if s.gemma:
            m = s.norm(m, w[p + "post_feedforward_layernorm.weight"])
        x = x + m
    return s.norm(x, w["model.norm.weight"])


def head(s, w, x, stats=None):
    """Logits of final-norm hidden states (final soft-capping included)."""
    out = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = x @ out.T
    if s.final_cap is not None:
        if stats is not None:
            stats["max_logit"] = max(stats.get("max_logit", 0.0), float(logits.detach().abs().max()))
        logits = s.final_cap * torch.tanh(logits / s.final_cap)
    return logits


class Model:
    """One model with transformers' KV-cache semantics: each forward(ids) call is one transformers
    forward appending ids (dynamic NTK table rebuilt as the sequence grows; LongRoPE factors chosen
    per call; cached keys keep the rotation they were computed with)."""

    def __init__(self, d, theta=None, pin=0, config=None, weights=None):
        self.c, self.w = load(d) if d is not None else (None, None)
        self.c, self.w = config or self.c, weights or self.w  # (a changed config or weights, for checks)
        self.s = Spec(self.c)
        self.theta, self.pin = theta, pin
        self.stats = {}
        self.reset()

    def reset(self):
        # A fresh table per sequence, as a freshly loaded transformers model has (its dynamic-NTK
        # table otherwise stays at the longest length seen so far).
        self.rope = Rope(self.c, self.theta, self.pin)
        self.local = Rope(self.s.local_config()) if any(self.s.local) else None
        self.cache = [None] * self.s.L
        self.n = 0

    def forward(self, ids):
        """Appends ids (one call = one transformers forward with a cache); returns [n, V] logits."""
        n, p0 = len(ids), self.n
        tables = {"global": self.rope.table(p0, n)}
        if self.local is not None:
            tables["local"] = self.local.table(p0, n)
        x = run(self.s, self.w, torch.tensor([list(map(int, ids))]), p0, tables, self.cache, stats=self.stats)
        self.n += n
        return head(self.s, self.w, x[0], self.stats)


def sequence_losses(c, w, tokens, doc_start=None):
    """The trainer's computation. tokens: LongTensor [B, T] (RoPE positions 0 .. T - 1 in every
    sequence; LongRoPE long iff T > orig; dynamic NTK for T); doc_start: [B, T] first position of
    each position's document, or None. Returns the B sequence losses (mean cross-entropy of the
    T - 1 next-token predictions, after final soft-capping)."""
    s = Spec(c)
    B, T = tokens.shape
    tables = {"global": Rope(c).table(0, T)}
    if any(s.local):
        tables["local"] = Rope(s.local_config()).table(0, T)
    x = run(s, w, tokens, 0, tables, doc_start=doc_start)
    logits = head(s, w, x[:, :-1])
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), reduction="none")
    return ce.view(B, T - 1).mean(1)
