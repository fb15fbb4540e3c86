#!/usr/bin/python3
"""Released models' config.json files (tests/model/real_configs/, provenance in SOURCES.md), each
as published: `bench_model --describe --config FILE` must accept it (exit 0, nothing on stderr)
and resolve what the architecture implies (family features, head and rotary dimensions, which
layers slide and how far, scales, soft-caps, RoPE type and bases, eps, tying), and the weight
layout must hold the model's published parameter count (the safetensors totals the Hugging Face
API reports, also in keras-hub presets and GGUF metadata). The smallest ones also go through
`bench_model --check` (the random model built for real). Every file in real_configs/ must have
an expectation here, so a new file cannot pass unchecked.

usage: test_real_configs.py ROOT BUILD
"""
import json
import math
import os
import subprocess
import tempfile
import sys

ROOT, BUILD = sys.argv[1:3]
BENCH = os.path.join(BUILD, "bench", "bench_model")
CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_configs")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402

# What each family implies (transformers' modeling_<family>.py): biases, norms, projections.
FAMILY = {
    "llama": dict(qk_norm=False, norm_plus_one=False, sandwich_norms=False, fused_qkv=False, activation="silu"),
    "mistral": dict(qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False, norm_plus_one=False,
                    sandwich_norms=False, fused_qkv=False, fused_gate_up=False, activation="silu", embed_scale=1.0),
    "qwen2": dict(qkv_bias=True, o_bias=False, mlp_bias=False, qk_norm=False, norm_plus_one=False,
                  sandwich_norms=False, fused_qkv=False, fused_gate_up=False, activation="silu", embed_scale=1.0),
    "qwen3": dict(qk_norm=True, norm_plus_one=False, sandwich_norms=False, fused_qkv=False, fused_gate_up=False,
                  mlp_bias=False, activation="silu", embed_scale=1.0),
    "gemma2": dict(qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False, norm_plus_one=True, sandwich_norms=True,
                   fused_qkv=False, fused_gate_up=False, activation="gelu_pytorch_tanh"),
    "gemma3": dict(qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=True, norm_plus_one=True, sandwich_norms=True,
                   fused_qkv=False, fused_gate_up=False, activation="gelu_pytorch_tanh"),
    "phi3": dict(qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False, norm_plus_one=False, sandwich_norms=False,
                 fused_qkv=True, fused_gate_up=True, activation="silu", embed_scale=1.0),
}

F, S = "F", "S"
# Per file: the family, what the parser must resolve (from the config and transformers' defaults),
# and the published parameter count. Layer strings: S = sliding layer, F = full attention.
EXPECT = {
    "llama-2-7b-hf.json": dict(family="llama", params=6738415616, head_dim=128, rotary_dim=128, layer_sliding=F * 32,
                               sliding_window=0, rope_type="none", rope_theta=10000.0,  # no rope_theta key: LlamaConfig's default
                               rms_norm_eps=1e-5, tie_word_embeddings=False, qkv_bias=False, o_bias=False,
                               eos_token_ids=[2]),
    "llama-3.1-8b.json": dict(family="llama", params=8030261248, head_dim=128, rotary_dim=128, layer_sliding=F * 32,
                              sliding_window=0, rope_type="llama3", rope_factor=8.0,
                              rope_original_max_position_embeddings=8192, rope_low_freq_factor=1.0,
                              rope_high_freq_factor=4.0, rope_theta=500000.0, rms_norm_eps=1e-5,
                              tie_word_embeddings=False, eos_token_ids=[128001]),
    "llama-3.1-8b-instruct.json": dict(family="llama", params=8030261248, head_dim=128, layer_sliding=F * 32,
                                       rope_type="llama3", rope_factor=8.0, tie_word_embeddings=False,
                                       eos_token_ids=[128001, 128008, 128009]),
    "llama-3.2-1b.json": dict(family="llama", params=1235814400, head_dim=64, rotary_dim=64, layer_sliding=F * 16,
                              sliding_window=0, rope_type="llama3", rope_factor=32.0,
                              rope_original_max_position_embeddings=8192, rope_theta=500000.0,
                              tie_word_embeddings=True, qkv_bias=False, o_bias=False, mlp_bias=False),
    "mistral-7b-v0.1.json": dict(family="mistral", params=7241732096, head_dim=128, rotary_dim=128,
                                 layer_sliding=S * 32, sliding_window=4096, rope_type="none", rope_theta=10000.0,
                                 rms_norm_eps=1e-5, tie_word_embeddings=False),
    "mistral-7b-instruct-v0.3.json": dict(family="mistral", params=7248023552, head_dim=128, layer_sliding=F * 32,
                                          sliding_window=0, rope_theta=1e6, tie_word_embeddings=False),
    # head_dim 128 given, not hidden / heads = 160.
    "mistral-nemo-base-2407.json": dict(family="mistral", params=12247782400, head_dim=128, rotary_dim=128,
                                        layer_sliding=F * 40, sliding_window=0, rope_theta=1e6,
                                        attn_scale=1 / math.sqrt(128)),
    # use_sliding_window false: no layer slides although sliding_window is a number.
    "qwen2.5-0.5b.json": dict(family="qwen2", params=494032768, head_dim=64, rotary_dim=64, layer_sliding=F * 24,
                              sliding_window=0, rope_type="none", rope_theta=1e6, rms_norm_eps=1e-6,
                              tie_word_embeddings=True),
    "qwen2.5-7b.json": dict(family="qwen2", params=7615616512, head_dim=128, layer_sliding=F * 28, sliding_window=0,
                            rope_theta=1e6, tie_word_embeddings=False),
    "qwen3-4b.json": dict(family="qwen3", params=4022468096, head_dim=128, rotary_dim=128, layer_sliding=F * 36,
                          sliding_window=0, rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=True,
                          qkv_bias=False, o_bias=False),
    "qwen3-8b.json": dict(family="qwen3", params=8190735360, head_dim=128, layer_sliding=F * 36, sliding_window=0,
                          rope_theta=1e6, tie_word_embeddings=False, qkv_bias=False, o_bias=False),
    # Gemma 2: even layers slide (4096), query_pre_attn_scalar 256, caps 50 / 30, embeddings x sqrt(2304).
    "gemma-2-2b.json": dict(family="gemma2", params=2614341888, head_dim=256, rotary_dim=256,
                            layer_sliding=(S + F) * 13, sliding_window=4096, attn_scale=1 / 16, attn_softcap=50.0,
                            final_softcap=30.0, embed_scale=math.sqrt(2304), rope_type="none", rope_theta=10000.0,
                            rope_local_theta=0.0, rms_norm_eps=1e-6, tie_word_embeddings=True),
    # sliding_window_size (an unread key of the first release) next to sliding_window.
    "gemma-2-9b.json": dict(family="gemma2", params=9241705984, head_dim=256, layer_sliding=(S + F) * 21,
                            sliding_window=4096, attn_scale=1 / 16, attn_softcap=50.0, final_softcap=30.0,
                            embed_scale=math.sqrt(3584), tie_word_embeddings=True),
    # Gemma 3: 5 local layers then 1 global (pattern 6), window 512, local base 10000, global 1e6,
    # caps null: none.
    "gemma-3-1b-it.json": dict(family="gemma3", params=999885952, head_dim=256, rotary_dim=256,
                               layer_sliding=(S * 5 + F) * 4 + S * 2, sliding_window=512, attn_scale=1 / 16,
                               attn_softcap=0.0, final_softcap=0.0, embed_scale=math.sqrt(1152), rope_type="none",
                               rope_theta=1e6, rope_local_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
                               eos_token_ids=[1, 106]),
    # Phi-3 mini 4k: every layer slides (2047), no rope scaling.
    "phi-3-mini-4k-instruct.json": dict(family="phi3", params=3821079552, head_dim=96, rotary_dim=96,
                                        layer_sliding=S * 32, sliding_window=2047, rope_type="none",
                                        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False),
    # Phi-3.5 mini: LongRoPE, orig 4096 (top level), factor 131072 / 4096 = 32, 48 factors each.
    "phi-3.5-mini-instruct.json": dict(family="phi3", params=3821079552, head_dim=96, rotary_dim=96,
                                       layer_sliding=S * 32, sliding_window=262144, rope_type="longrope",
                                       rope_factor=32.0, rope_original_max_position_embeddings=4096,
                                       rope_short_factors=48, rope_long_factors=48, tie_word_embeddings=False),
    # Phi-4 mini: partial_rotary_factor 0.75 of head_dim 128 = 96, tied, LongRoPE over 96 dims.
    "phi-4-mini-instruct.json": dict(family="phi3", params=3836021760, head_dim=128, rotary_dim=96,
                                     layer_sliding=S * 32, sliding_window=262144, rope_type="longrope",
                                     rope_factor=32.0, rope_original_max_position_embeddings=4096,
                                     rope_short_factors=48, rope_long_factors=48, attn_scale=1 / math.sqrt(128),
                                     tie_word_embeddings=True, eos_token_ids=[199999]),
}
CHECK_BELOW = 700_000_000  # --check allocates the whole model in float32: only the small ones


def independent_count(c, family):
    """The parameter count from config.json alone (transformers' module list), not from longctx."""
    d, V, L, I = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"], c["intermediate_size"]
    H = c["num_attention_heads"]
    KV = c.get("num_key_value_heads") or H
    hd = c.get("head_dim") or d // H
    gemma = family in ("gemma2", "gemma3")
    tied = c.get("tie_word_embeddings", gemma)
    per = d * H * hd + 2 * d * KV * hd + H * hd * d + 3 * d * I + (4 if gemma else 2) * d
    if family == "qwen2":
        per += H * hd + 2 * KV * hd
    if family in ("llama", "qwen3") and c.get("attention_bias"):
        per += H * hd + 2 * KV * hd + d
    if family == "llama" and c.get("mlp_bias"):
        per += 2 * I + d
    if family in ("qwen3", "gemma3"):
        per += 2 * hd
    return per * L + (1 if tied else 2) * V * d + d


def close(a, b):
    return a == b if isinstance(b, (str, list, bool)) else abs(a - b) <= 1e-6 * max(1.0, abs(b))


def to_rope_parameters(cfg, family):
    """The config as transformers 5 writes it: rope_theta / rope_scaling (and Gemma 3's
    rope_local_base_freq) folded into rope_parameters."""
    c = dict(cfg)
    theta = c.pop("rope_theta", None)
    scaling = c.pop("rope_scaling", None) or {}
    scaling = {("rope_type" if k == "type" else k): v for k, v in scaling.items()}
    main = {"rope_type": "default", **scaling}
    if theta is not None:
        main["rope_theta"] = theta
    if family == "gemma3":
        local = {"rope_type": "default", "rope_theta": c.pop("rope_local_base_freq", 10000.0)}
        c["rope_parameters"] = {"full_attention": main, "sliding_attention": local}
    else:
        c["rope_parameters"] = main
    return c


TMP = tempfile.mkdtemp()
files = sorted(f for f in os.listdir(CONFIGS) if f.endswith(".json"))
check("every real config has an expectation", set(files) == set(EXPECT),
      f"no expectation: {sorted(set(files) - set(EXPECT))}; no file: {sorted(set(EXPECT) - set(files))}")
families = set()
for name in files:
    path = os.path.join(CONFIGS, name)
    exp = dict(EXPECT.get(name, {}))
    with open(path) as fh:
        cfg = json.load(fh)
    r = subprocess.run([BENCH, "--describe", "--config", path], capture_output=True, text=True, timeout=120)
    ok = r.returncode == 0 and r.stderr == ""
    check(f"{name}: accepted", ok, f"rc {r.returncode}: {r.stderr.strip()}")
    if not ok or not exp:
        continue
    got = json.loads(r.stdout)
    family = exp.pop("family")
    families.add(family)
    want = dict(FAMILY[family])
    want.update(exp)
    params = want.pop("params")
    want["family"] = family
    want["architecture"] = cfg["architectures"][0]
    for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"):
        want[key] = cfg[key]
    want["num_key_value_heads"] = cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    want.setdefault("attn_scale", 1 / math.sqrt(want["head_dim"]))
    wrong = {k: (got.get(k), v) for k, v in want.items() if k not in got or not close(got[k], v)}
    check(f"{name}: resolves as {family}", not wrong, "; ".join(f"{k}: got {g!r}, want {w!r}" for k, (g, w) in wrong.items()))
    check(f"{name}: {params:,} parameters (published)", got["parameters"] == params, f"layout has {got['parameters']:,}")
    check(f"{name}: the layout's count is the config's module list", got["parameters"] == independent_count(cfg, family),
          f"layout {got['parameters']:,}, config {independent_count(cfg, family):,}")
    # transformers 5 re-saves RoPE as rope_parameters (per layer type for Gemma 3): the same model.
    v5 = to_rope_parameters(cfg, family)
    v5_path = os.path.join(TMP, name)
    with open(v5_path, "w") as fh:
        json.dump(v5, fh)
    r5 = subprocess.run([BENCH, "--describe", "--config", v5_path], capture_output=True, text=True, timeout=120)
    same = r5.returncode == 0 and json.loads(r5.stdout) == got
    check(f"{name}: the transformers 5 form (rope_parameters) resolves the same", same, r5.stderr.strip() or r5.stdout)
    if params < CHECK_BELOW:
        r = subprocess.run([BENCH, "--check", "--config", path], capture_output=True, text=True, timeout=600)
        check(f"{name}: bench_model --check builds it", r.returncode == 0 and r.stderr == "", f"rc {r.returncode}: {r.stderr.strip()}")
check("every family has a real config", families == set(FAMILY), f"missing: {sorted(set(FAMILY) - families)}")
sys.exit(1 if failures else 0)
