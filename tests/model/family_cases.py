"""The per-family test cases that tests/model/test_model_reference.py and
tests/train/test_train_reference.py run against tests/model/torch_models.py: tiny models (GQA,
hidden 64) that turn on every option of docs/models.md.

Each case: name, family (a key of torch_models.ARCH), config (without "architectures"), and
- MODEL_CASES: dtype of the checkpoint, engine options ({"theta": X} -> --rope-theta X), and
  `matters`: config changes each of which must change the reference's logits (so the option is
  really exercised); 300 positions, 120 decoded token by token.
- GRAD_CASES: B, T, document masking.
- TRAIN_CASES: the configuration for 20 AdamW steps on the packed L = 64 data (vocab 32000).
"""

DROP = "__drop__"  # in a `matters` change: remove the key
ZERO_BIASES = "__zero_biases__"  # in a `matters` change: set every bias tensor to 0

MODEL_BASE = {"vocab_size": 512, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0}


def _factors(n, top):
    """n increasing positive factors from 1 to top."""
    return [round(1.0 + (top - 1.0) * (i / (n - 1)) ** 2, 4) for i in range(n)]


SHORT4, LONG4 = _factors(4, 1.25), _factors(4, 6.0)
SHORT8, LONG8 = _factors(8, 1.5), _factors(8, 9.0)

MODEL_CASES = [
    dict(name="llama-attention-mlp-bias", family="llama", dtype="f32", opts={},
         config={**MODEL_BASE, "attention_bias": True, "mlp_bias": True, "tie_word_embeddings": False},
         matters=[("attention_bias", {"attention_bias": False}), ("mlp_bias", {"mlp_bias": False})]),
    # Every layer slides: W = 100 < 300 positions, and the window crosses 256-key attention tiles.
    dict(name="mistral-window-100", family="mistral", dtype="bf16", opts={},
         config={**MODEL_BASE, "sliding_window": 100, "tie_word_embeddings": False},
         matters=[("sliding_window", {"sliding_window": None})]),
    # q/k/v biases; a sliding_window key that use_sliding_window false keeps off; tied.
    dict(name="qwen2-bias-tied-no-window", family="qwen2", dtype="f32", opts={},
         config={**MODEL_BASE, "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 32, "max_window_layers": 0},
         matters=[("q/k/v biases", {ZERO_BIASES: True}), ("use_sliding_window false", {"use_sliding_window": True})]),
    # use_sliding_window: layers 1 and 2 (>= max_window_layers) slide, layer 0 does not.
    dict(name="qwen2-sliding-layers", family="qwen2", dtype="f32", opts={},
         config={**MODEL_BASE, "num_hidden_layers": 3, "use_sliding_window": True, "sliding_window": 80, "max_window_layers": 1,
                 "tie_word_embeddings": False},
         matters=[("use_sliding_window", {"use_sliding_window": False}), ("max_window_layers", {"max_window_layers": 2})]),
    # q/k RMSNorm per head, attention_bias (q, k, v, o), head_dim absent -> 128 (not hidden / heads).
    dict(name="qwen3-qk-norm-bias-hd128", family="qwen3", dtype="f32", opts={},
         config={**MODEL_BASE, "attention_bias": True, "tie_word_embeddings": False},
         matters=[("attention_bias", {"attention_bias": False})]),
    # Sandwich norms, GeGLU, x sqrt(64), query_pre_attn_scalar 24 != head_dim 32, soft-caps that clip
    # (raw scores reach ~10 against a cap of 4; raw logits ~40 against 15), layers 0 and 2 slide (W 48).
    dict(name="gemma2-softcap-windows", family="gemma2", dtype="bf16", opts={},
         config={**MODEL_BASE, "num_hidden_layers": 4, "head_dim": 32, "query_pre_attn_scalar": 24, "attn_logit_softcapping": 4.0,
                 "final_logit_softcapping": 15.0, "sliding_window": 48, "hidden_activation": "gelu_pytorch_tanh"},
         matters=[("attn_logit_softcapping", {"attn_logit_softcapping": None}),
                  ("final_logit_softcapping", {"final_logit_softcapping": None}),
                  ("query_pre_attn_scalar", {"query_pre_attn_scalar": 32}),
                  ("alternating windows", {"layer_types": ["full_attention"] * 4})]),
    # sliding_window_pattern 2 (layers 0, 2 local; 1, 3 global), local base 10000 vs global 1e6 with
    # linear scaling on the globals only, q/k norms (1 + w), tied by default, default activation.
    dict(name="gemma3-pattern-local-rope", family="gemma3", dtype="f32", opts={},
         config={**MODEL_BASE, "num_hidden_layers": 4, "head_dim": 32, "query_pre_attn_scalar": 32, "sliding_window_pattern": 2,
                 "sliding_window": 40, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
                 "rope_scaling": {"rope_type": "linear", "factor": 4.0}},
         matters=[("rope_local_base_freq", {"rope_local_base_freq": 1000000.0}), ("rope_scaling on globals", {"rope_scaling": None}),
                  ("sliding_window_pattern", {"sliding_window_pattern": 4})]),
    # layer_types (full, sliding, sliding: no pattern gives it), gelu_new, both soft-caps, and
    # --rope-theta 50000, which changes the global layer's base only.
    dict(name="gemma3-layer-types-theta", family="gemma3", dtype="f16", opts={"theta": 50000.0},
         config={**MODEL_BASE, "num_hidden_layers": 3, "head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 24,
                 "layer_types": ["full_attention", "sliding_attention", "sliding_attention"], "rope_local_base_freq": 20000.0,
                 "hidden_activation": "gelu_new", "attn_logit_softcapping": 2.0, "final_logit_softcapping": 20.0},
         matters=[("layer_types", {"layer_types": DROP}), ("rope_local_base_freq", {"rope_local_base_freq": 50000.0})]),
    # Fused qkv / gate_up, LongRoPE with orig 64 < 300 (factor 256/64 = 4, attention factor
    # sqrt(1 + ln 4 / ln 64)), partial rotary 0.5 (rotary_dim 8 of head_dim 16).
    dict(name="phi3-longrope-partial", family="phi3", dtype="f32", opts={},
         config={**MODEL_BASE, "max_position_embeddings": 256, "original_max_position_embeddings": 64, "partial_rotary_factor": 0.5,
                 "rope_scaling": {"type": "longrope", "short_factor": SHORT4, "long_factor": LONG4}, "sliding_window": None,
                 "tie_word_embeddings": False},
         matters=[("long_factor", {"rope_scaling": {"type": "longrope", "short_factor": SHORT4, "long_factor": SHORT4}}),
                  ("partial_rotary_factor", {"partial_rotary_factor": 1.0,
                                             "rope_scaling": {"type": "longrope", "short_factor": SHORT4 * 2, "long_factor": LONG4 * 2}})]),
    # "su" (LongRoPE's old name) with an explicit attention_factor, full rotary, every layer sliding (W 90).
    dict(name="phi3-su-window-90", family="phi3", dtype="bf16", opts={},
         config={**MODEL_BASE, "max_position_embeddings": 512, "original_max_position_embeddings": 64, "sliding_window": 90,
                 "rope_scaling": {"type": "su", "short_factor": SHORT8, "long_factor": LONG8, "attention_factor": 1.2},
                 "tie_word_embeddings": False},
         matters=[("sliding_window", {"sliding_window": None}),
                  ("attention_factor", {"rope_scaling": {"type": "su", "short_factor": SHORT8, "long_factor": LONG8}})]),
]

GRAD_BASE = {"vocab_size": 300, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0}
B_GRAD, T_GRAD = 2, 150
GRAD_CASES = [
    dict(name="llama-biases", family="llama", config={**GRAD_BASE, "attention_bias": True, "mlp_bias": True}, masked=False),
    dict(name="mistral-window-60", family="mistral", config={**GRAD_BASE, "sliding_window": 60}, masked=False),
    dict(name="qwen2-sliding-layer-1", family="qwen2",
         config={**GRAD_BASE, "use_sliding_window": True, "sliding_window": 50, "max_window_layers": 1, "tie_word_embeddings": True},
         masked=False),
    dict(name="qwen3-qk-norm-bias-hd32", family="qwen3", config={**GRAD_BASE, "head_dim": 32, "attention_bias": True}, masked=False),
    # Documents, windows and soft-caps together.
    dict(name="gemma2-doc-mask", family="gemma2",
         config={**GRAD_BASE, "head_dim": 32, "query_pre_attn_scalar": 24, "attn_logit_softcapping": 4.0, "final_logit_softcapping": 15.0,
                 "sliding_window": 40}, masked=True),
    dict(name="gemma3-local-global", family="gemma3",
         config={**GRAD_BASE, "num_hidden_layers": 3, "head_dim": 16, "query_pre_attn_scalar": 20, "sliding_window_pattern": 3,
                 "sliding_window": 50, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
                 "rope_scaling": {"rope_type": "linear", "factor": 8.0}}, masked=False),
    # T = 150 > orig 64: the long factors at every position.
    dict(name="phi3-longrope-long-partial", family="phi3",
         config={**GRAD_BASE, "max_position_embeddings": 256, "original_max_position_embeddings": 64, "partial_rotary_factor": 0.5,
                 "rope_scaling": {"type": "longrope", "short_factor": SHORT4, "long_factor": LONG4}}, masked=False),
    # T = 150 <= orig 200: the short factors; every layer slides (W 70).
    dict(name="phi3-longrope-short-window", family="phi3",
         config={**GRAD_BASE, "max_position_embeddings": 800, "original_max_position_embeddings": 200, "sliding_window": 70,
                 "rope_scaling": {"type": "longrope", "short_factor": SHORT8, "long_factor": LONG8}}, masked=False),
]

TRAIN_BASE = {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
              "tie_word_embeddings": False}
# Sequences of L = 64: windows of 24 and LongRoPE orig 32 bite; with these weights (scale 0.08) raw
# attention scores reach ~1.4 and raw logits ~12, so the Gemma 2 caps of 1 and 5 clip.
TRAIN_CASES = [
    dict(name="llama-biases", family="llama", config={**TRAIN_BASE, "attention_bias": True, "mlp_bias": True}),
    dict(name="mistral-window", family="mistral", config={**TRAIN_BASE, "sliding_window": 24}),
    dict(name="qwen2-sliding", family="qwen2",
         config={**TRAIN_BASE, "use_sliding_window": True, "sliding_window": 24, "max_window_layers": 1}),
    dict(name="qwen3", family="qwen3", config={**TRAIN_BASE, "head_dim": 16, "attention_bias": True}),
    dict(name="gemma2", family="gemma2",
         config={**TRAIN_BASE, "head_dim": 16, "query_pre_attn_scalar": 12, "attn_logit_softcapping": 1.0, "final_logit_softcapping": 5.0,
                 "sliding_window": 24, "tie_word_embeddings": True}),
    dict(name="gemma3", family="gemma3",
         config={**TRAIN_BASE, "head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window_pattern": 2, "sliding_window": 24,
                 "rope_local_base_freq": 10000.0, "rope_theta": 1000000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0},
                 "tie_word_embeddings": True}),
    dict(name="phi3", family="phi3",
         config={**TRAIN_BASE, "max_position_embeddings": 128, "original_max_position_embeddings": 32, "partial_rotary_factor": 0.5,
                 "sliding_window": 24,
                 "rope_scaling": {"type": "longrope", "short_factor": _factors(2, 1.5), "long_factor": _factors(2, 5.0)}}),
]


def apply_changes(config, weights, changes):
    """(config, weights) with a `matters` change applied."""
    out = dict(config)
    w = dict(weights)
    for k, v in changes.items():
        if k == ZERO_BIASES:
            w = {n: t * 0 if n.endswith(".bias") else t for n, t in w.items()}
        elif v == DROP:
            out.pop(k, None)
        else:
            out[k] = v
    return out, w
