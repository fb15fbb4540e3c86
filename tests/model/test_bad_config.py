#!/usr/bin/python3
"""Bad config.json files and mis-shaped checkpoints are refused, never crash: each bad config,
one case at a time, through `longctx generate`, `eval-loss` and `train --config`: exit 1, exactly
one line on stderr naming the file and the key, no signal, no "internal error", nothing written.
Then tensors with the right number of elements but the wrong shape, through `generate` and
`train --init`: refused naming the tensor. No torch needed (safetensors written here).

usage: test_bad_config.py ROOT BUILD
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402
from tiny_checkpoint import LLAMA, weights, write_safetensors  # noqa: E402

BASE = LLAMA
DROP = object()  # a key removed from the config

# (case, changes to BASE, the key the one line must name)
CASES = [
    ("zero heads", {"num_attention_heads": 0}, "num_attention_heads"),
    ("heads not dividing hidden", {"num_attention_heads": 3, "num_key_value_heads": 3}, "num_attention_heads"),
    ("kv heads not dividing heads", {"num_key_value_heads": 3}, "num_key_value_heads"),
    ("zero kv heads", {"num_key_value_heads": 0}, "num_key_value_heads"),
    ("negative vocab", {"vocab_size": -5}, "vocab_size"),
    ("negative intermediate", {"intermediate_size": -48}, "intermediate_size"),
    ("negative layers", {"num_hidden_layers": -2}, "num_hidden_layers"),
    ("zero layers", {"num_hidden_layers": 0}, "num_hidden_layers"),
    ("negative hidden", {"hidden_size": -32}, "hidden_size"),
    ("negative max_position_embeddings", {"max_position_embeddings": -1}, "max_position_embeddings"),
    ("string hidden", {"hidden_size": "32"}, "hidden_size"),
    ("string vocab", {"vocab_size": "32000"}, "vocab_size"),
    ("float intermediate", {"intermediate_size": 48.0}, "intermediate_size"),
    ("fractional layers", {"num_hidden_layers": 2.5}, "num_hidden_layers"),
    ("boolean heads", {"num_attention_heads": True}, "num_attention_heads"),
    ("null vocab", {"vocab_size": None}, "vocab_size"),
    ("missing hidden", {"hidden_size": DROP}, "hidden_size"),
    ("zero head_dim", {"head_dim": 0}, "head_dim"),
    ("odd head_dim", {"head_dim": 7}, "head_dim"),
    ("odd derived head dimension", {"hidden_size": 36}, "num_attention_heads"),
    ("eps 0", {"rms_norm_eps": 0}, "rms_norm_eps"),
    ("eps negative", {"rms_norm_eps": -1e-5}, "rms_norm_eps"),
    ("eps string", {"rms_norm_eps": "1e-5"}, "rms_norm_eps"),
    ("theta -1", {"rope_theta": -1}, "rope_theta"),
    ("theta 0", {"rope_theta": 0}, "rope_theta"),
    ("rope_scaling factor 0", {"rope_scaling": {"type": "linear", "factor": 0}}, "rope_scaling.factor"),
    ("rope_scaling factor -2", {"rope_scaling": {"type": "dynamic", "factor": -2.0}}, "rope_scaling.factor"),
    ("rope_scaling factor string", {"rope_scaling": {"type": "linear", "factor": "4"}}, "rope_scaling.factor"),
    ("rope_scaling not an object", {"rope_scaling": 4}, "rope_scaling"),
    ("llama3 low_freq_factor 0", {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 0,
                                                   "original_max_position_embeddings": 64}}, "rope_scaling.low_freq_factor"),
    ("yarn beta_fast negative", {"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "beta_fast": -32}}, "rope_scaling.beta_fast"),
    ("tie_word_embeddings string", {"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
    ("negative eos id", {"eos_token_id": -1}, "eos_token_id"),
    ("huge hidden", {"hidden_size": 1 << 30}, "hidden_size"),
    ("huge heads", {"num_attention_heads": 1 << 40}, "num_attention_heads"),
    ("huge layers", {"num_hidden_layers": 10 ** 12}, "num_hidden_layers"),
    ("size past 2^64", {"vocab_size": 10 ** 30}, "vocab_size"),
    ("hidden x vocab past 2^40", {"hidden_size": 65536, "num_attention_heads": 512, "num_key_value_heads": 512,
                                  "vocab_size": 1 << 25}, "vocab_size"),
    ("hidden x intermediate past 2^40", {"hidden_size": 1 << 20, "num_attention_heads": 8192, "num_key_value_heads": 8192,
                                         "vocab_size": 16, "intermediate_size": 1 << 21}, "intermediate_size"),
    ("attention matrix past 2^40", {"hidden_size": 1024, "head_dim": 1 << 16, "num_attention_heads": 1 << 16,
                                    "num_key_value_heads": 1}, "head_dim"),
    ("parameters past 2^40", {"hidden_size": 8192, "num_attention_heads": 64, "num_key_value_heads": 8, "intermediate_size": 1 << 22,
                              "num_hidden_layers": 1 << 16}, "num_hidden_layers"),
    # The other architectures' keys (docs/models.md): each bad value named on one line.
    ("layer_types wrong length", {"architectures": ["MistralForCausalLM"], "sliding_window": 16,
                                  "layer_types": ["sliding_attention"] * 3}, "layer_types"),
    ("layer_types wrong value", {"architectures": ["Qwen2ForCausalLM"], "use_sliding_window": True, "sliding_window": 16,
                                 "layer_types": ["sliding_attention", "local"]}, "layer_types"),
    ("sliding_window 0", {"architectures": ["MistralForCausalLM"], "sliding_window": 0}, "sliding_window"),
    ("sliding_window negative", {"architectures": ["MistralForCausalLM"], "sliding_window": -16}, "sliding_window"),
    ("sliding_window string", {"architectures": ["MistralForCausalLM"], "sliding_window": "4096"}, "sliding_window"),
    ("sliding_window on LLaMA", {"sliding_window": 16}, "sliding_window"),
    ("query_pre_attn_scalar 0", {"architectures": ["Gemma2ForCausalLM"], "head_dim": 8, "query_pre_attn_scalar": 0},
     "query_pre_attn_scalar"),
    ("attn_logit_softcapping negative", {"architectures": ["Gemma2ForCausalLM"], "head_dim": 8, "attn_logit_softcapping": -50.0},
     "attn_logit_softcapping"),
    ("final_logit_softcapping string", {"architectures": ["Gemma3ForCausalLM"], "head_dim": 8, "final_logit_softcapping": "30"},
     "final_logit_softcapping"),
    ("partial_rotary_factor 0", {"architectures": ["Phi3ForCausalLM"], "partial_rotary_factor": 0}, "partial_rotary_factor"),
    ("partial_rotary_factor 1.5", {"architectures": ["Phi3ForCausalLM"], "partial_rotary_factor": 1.5}, "partial_rotary_factor"),
    ("partial_rotary_factor giving an odd rotary_dim", {"architectures": ["Phi3ForCausalLM"], "partial_rotary_factor": 0.375},
     "partial_rotary_factor"),
    ("partial_rotary_factor on LLaMA", {"partial_rotary_factor": 0.5}, "partial_rotary_factor"),
    ("longrope short_factor of the wrong length", {"architectures": ["Phi3ForCausalLM"], "original_max_position_embeddings": 64,
                                                   "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.0, 1.0],
                                                                    "long_factor": [1.0, 2.0, 3.0, 4.0]}}, "rope_scaling.short_factor"),
    ("longrope short_factor with a 0", {"architectures": ["Phi3ForCausalLM"], "original_max_position_embeddings": 64,
                                        "rope_scaling": {"type": "su", "short_factor": [1.0, 0, 1.0, 1.0],
                                                         "long_factor": [1.0, 2.0, 3.0, 4.0]}}, "rope_scaling.short_factor"),
    ("longrope without factors", {"architectures": ["Phi3ForCausalLM"], "rope_scaling": {"type": "longrope"}}, "rope_scaling.short_factor"),
    ("longrope long_factor not an array", {"rope_scaling": {"rope_type": "longrope", "short_factor": [1.0] * 4, "long_factor": 2.0}},
     "rope_scaling.long_factor"),
    ("rope_scaling mscale", {"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "mscale": 1.0}}, "rope_scaling.mscale"),
    ("linear rope_scaling on Phi-3", {"architectures": ["Phi3ForCausalLM"], "rope_scaling": {"type": "linear", "factor": 2.0}},
     "rope_scaling.type"),
    ("Qwen2 use_mrope", {"architectures": ["Qwen2ForCausalLM"], "use_mrope": True}, "use_mrope"),
    ("unknown architecture", {"architectures": ["FalconForCausalLM"]}, "architectures"),
    ("Gemma3ForConditionalGeneration", {"architectures": ["Gemma3ForConditionalGeneration"]}, "architectures"),
    ("hidden_act gelu on LLaMA", {"hidden_act": "gelu"}, "hidden_act"),
    ("hidden_activation relu on Gemma2", {"architectures": ["Gemma2ForCausalLM"], "head_dim": 8, "hidden_activation": "relu"},
     "hidden_activation"),
    ("attention_bias on Gemma3", {"architectures": ["Gemma3ForCausalLM"], "head_dim": 8, "attention_bias": True}, "attention_bias"),
]


def write_config(path, changes):
    c = dict(BASE)
    for k, v in changes.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    with open(path, "w") as f:
        json.dump(c, f)


def no_crash(r):
    return r.returncode >= 0 and r.returncode not in (3, 134, 136, 139) and "internal error" not in r.stderr


def one_line(r, *needles):
    lines = r.stderr.splitlines()
    return r.returncode == 1 and len(lines) == 1 and r.stderr.endswith("\n") and all(n in lines[0] for n in needles)


def run(*args):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True, timeout=300)


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    # Packed training data (LLaMA-2 ids, below BASE's 32,000) and a valid checkpoint: the base the
    # bad cases change one key of must itself work.
    with open(J("in.jsonl"), "w") as f:
        for i in range(100):
            f.write(json.dumps({"text": f"Document {i}: the quick brown fox jumps over the lazy dog. " * 6}) + "\n")
    r = run("ingest", "--tokenizer", os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json"), "--out", J("store"), "--domain", "A",
            J("in.jsonl"))
    check("ingest the training text", r.returncode == 0, r.stderr)
    r = run("mix", J("store"), "--strategy", "original", "--tokens", "2K", "--seed", "1", "-o", J("plan"), "-q")
    check("mix", r.returncode == 0, r.stderr)
    r = run("pack", J("plan"), "--seq-len", "32", "--format", "flat", "--out", J("packed"), "-q")
    check("pack flat L=32", r.returncode == 0, r.stderr)
    good = J("good")
    os.makedirs(good)
    write_config(J("good", "config.json"), {})
    rng = np.random.default_rng(3)
    w = weights(BASE, rng)
    write_safetensors(J("good", "model.safetensors"), w)
    r = run("generate", "--model", good, "--prompt-ids", "1,2,3", "--max-new-tokens", "4", "--json", "--ignore-eos")
    check("the base config and checkpoint work (generate)", r.returncode == 0, r.stderr)
    r = run("train", "--data", J("packed"), "--config", J("good", "config.json"), "--out", J("good-run"), "--steps", "1",
            "--batch-tokens", "64", "--threads", "1", "--quiet")
    check("the base config works (train --config, one step)", r.returncode == 0 and os.path.exists(J("good-run", "config.json")), r.stderr)
    r = run("train", "--data", J("packed"), "--init", good, "--out", J("good-init"), "--steps", "1", "--batch-tokens", "64",
            "--threads", "1", "--quiet")
    check("the base checkpoint works (train --init, one step)", r.returncode == 0, r.stderr)

    # --- One bad key at a time.
    model = J("bad-model")
    os.makedirs(model)
    cfg = J("bad-model", "config.json")
    write_safetensors(J("bad-model", "model.safetensors"), w)
    for name, changes, key in CASES:
        write_config(cfg, changes)
        r = run("generate", "--model", model, "--prompt-ids", "1,2,3", "--max-new-tokens", "2")
        check(f"{name}: generate exits 1 with one line naming {cfg} and {key}",
              no_crash(r) and one_line(r, cfg, key + ":"), (r.returncode, r.stderr))
        out = J("out-" + name.replace(" ", "-"))
        r = run("train", "--data", J("packed"), "--config", cfg, "--out", out, "--steps", "1", "--quiet")
        check(f"{name}: train --config exits 1 with one line naming the key, writes nothing",
              no_crash(r) and one_line(r, cfg, key + ":") and not os.path.exists(out), (r.returncode, r.stderr))
    # eval-loss and train --init read config.json the same way: a few cases through them too.
    BY_NAME = {case[0]: case for case in CASES}
    for name, changes, key in [CASES[0], CASES[4], CASES[10], CASES[20], CASES[24], BY_NAME["layer_types wrong length"],
                               BY_NAME["longrope short_factor with a 0"], BY_NAME["Gemma3ForConditionalGeneration"]]:
        write_config(cfg, changes)
        r = run("eval-loss", "--model", model, "--data", J("packed"))
        check(f"{name}: eval-loss exits 1 with one line naming {key}", no_crash(r) and one_line(r, cfg, key + ":"), (r.returncode, r.stderr))
        out = J("init-" + name.replace(" ", "-"))
        r = run("train", "--data", J("packed"), "--init", model, "--out", out, "--steps", "1", "--quiet")
        check(f"{name}: train --init exits 1 with one line naming {key}, writes nothing",
              no_crash(r) and one_line(r, cfg, key + ":") and not os.path.exists(out), (r.returncode, r.stderr))

    # Not JSON objects, not JSON.
    for name, text in [("an array", "[1, 2]"), ("a number", "7"), ("not JSON", "{\"vocab_size\": 32000,")]:
        with open(cfg, "w") as f:
            f.write(text)
        r = run("generate", "--model", model, "--prompt-ids", "1")
        check(f"config.json is {name}: generate exits 1 with one line", no_crash(r) and one_line(r, cfg), (r.returncode, r.stderr))
        r = run("train", "--data", J("packed"), "--config", cfg, "--out", J("out-json"), "--quiet")
        check(f"config.json is {name}: train exits 1 with one line", no_crash(r) and one_line(r, cfg) and not os.path.exists(J("out-json")),
              (r.returncode, r.stderr))

    # Within the limits but beyond this machine's memory (2^39 parameters, tied): train refuses
    # before allocating.
    write_config(cfg, {"hidden_size": 65536, "num_attention_heads": 512, "num_key_value_heads": 512, "vocab_size": 1 << 23,
                       "intermediate_size": 16, "num_hidden_layers": 1, "tie_word_embeddings": True})
    r = run("train", "--data", J("packed"), "--config", cfg, "--out", J("out-mem"), "--quiet")
    check("a model larger than memory: train exits 1 with one line naming the size", no_crash(r) and one_line(r, cfg, "GiB")
          and not os.path.exists(J("out-mem")), (r.returncode, r.stderr))

    # --- Tensors with the right element count and the wrong shape, refused by name.
    write_config(cfg, {})
    for tensor, shape in [("model.layers.1.mlp.gate_proj.weight", (32, 48)),     # transposed (48, 32)
                          ("model.layers.0.self_attn.k_proj.weight", (32, 16)),  # transposed (16, 32)
                          ("model.norm.weight", (1, 32)),
                          ("model.embed_tokens.weight", (32000 * 32,))]:
        bad = dict(w)
        bad[tensor] = w[tensor].reshape(shape)
        write_safetensors(J("bad-model", "model.safetensors"), bad)
        r = run("generate", "--model", model, "--prompt-ids", "1,2,3", "--max-new-tokens", "2")
        check(f"{tensor} shaped {list(shape)}: generate exits 1 with one line naming it",
              no_crash(r) and one_line(r, tensor, "shape"), (r.returncode, r.stderr))
        out = J("shape-" + tensor)
        r = run("train", "--data", J("packed"), "--init", model, "--out", out, "--steps", "1", "--quiet")
        check(f"{tensor} shaped {list(shape)}: train --init exits 1 with one line naming it, writes nothing",
              no_crash(r) and one_line(r, tensor, "shape") and not os.path.exists(out), (r.returncode, r.stderr))

print(f"{len(failures)} failure(s)" if failures else "all bad-config checks passed")
sys.exit(1 if failures else 0)
