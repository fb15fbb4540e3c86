#!/usr/bin/python3
"""What each architecture costs relative to LLaMA at the same size, side by side in one run.

  /usr/bin/python3 bench/arch_cost.py [--build build] [--families llama,gemma2,...] [--reps 3]
                                      [--threads 2] [--train-steps 6] [--json-out FILE]

Every family gets a random model of llama2.c's 15M shape (hidden 288, 6 layers, 6 heads, 6 KV
heads, intermediate 768, vocabulary 32,000, max_position_embeddings 4096, untied embeddings for
all, so that only the architecture differs) with its own features switched on as its released
checkpoints have them (docs/models.md):

  llama         plain
  mistral       sliding_window 4096 (every layer; no effect at 2K tokens)
  mistral-w512  sliding_window 512 (what the window saves at 2K)
  qwen2         q/k/v biases
  qwen3         q/k RMSNorm, head_dim 48
  gemma2        head_dim 48, query_pre_attn_scalar 48, attention soft-cap 50, final soft-cap 30,
                sliding_window 512 on even layers, GeGLU, sandwich norms, 1 + w norms, embeddings x sqrt(d)
  gemma3        Gemma 2's norms and GeGLU, q/k norms, sliding_window 512 with sliding_window_pattern 6
                (layers 0-4 slide, 5 is global), rope_local_base_freq 10000, rope_theta 1e6, no soft-caps
  phi3          fused qkv_proj and gate_up_proj, LongRoPE (original_max_position_embeddings 1024,
                short/long factor lists of 24: prefill of 2048 uses the long factors)

Each config is first checked (`bench_model --config X --check`: the parser and the weight layout
accept it). Then, for --reps repetitions, families interleaved within each repetition (the order
rotates from one repetition to the next):
- engine: `bench_model --config X --json --memory-context 0`: prefill of 2,048 tokens (best of 3,
  tokens/s) and decode (256 tokens after a 16-token prompt, tokens/s);
- training: `longctx train --config X --data PACKED --steps 6 --batch-tokens 8192` on flat packed
  sequences of 2,048 tokens (a synthetic store -> `longctx mix` -> `longctx pack --format flat`, as
  tests/train/test_train_reference.py makes them; 4 sequences a step); tokens/s = the steps after
  the first (their tokens over their time, from the log's tokens_per_s).
The table gives each family's medians over the repetitions and each as a ratio to LLaMA's median
(llama is always measured: it is added to --families when missing). About 1 minute per family
and repetition on 2 cores (training dominates); `make bench` runs the default (8 families x 3).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BASE = {"vocab_size": 32000, "hidden_size": 288, "intermediate_size": 768, "num_hidden_layers": 6, "num_attention_heads": 6,
        "num_key_value_heads": 6, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": False}

# LongRoPE factor lists of rotary_dim / 2 = 24 entries, shaped like Phi-3's (short near 1, long rising).
PHI3_SHORT = [round(1.0 + 0.05 * i / 23, 4) for i in range(24)]
PHI3_LONG = [round(1.0 + 15.0 * (i / 23) ** 2, 4) for i in range(24)]

FAMILIES = {
    "llama": {"architectures": ["LlamaForCausalLM"]},
    "mistral": {"architectures": ["MistralForCausalLM"], "sliding_window": 4096},
    "mistral-w512": {"architectures": ["MistralForCausalLM"], "sliding_window": 512},
    "qwen2": {"architectures": ["Qwen2ForCausalLM"], "use_sliding_window": False},
    "qwen3": {"architectures": ["Qwen3ForCausalLM"], "head_dim": 48, "attention_bias": False, "use_sliding_window": False},
    "gemma2": {"architectures": ["Gemma2ForCausalLM"], "head_dim": 48, "query_pre_attn_scalar": 48, "attn_logit_softcapping": 50.0,
               "final_logit_softcapping": 30.0, "sliding_window": 512, "hidden_activation": "gelu_pytorch_tanh"},
    "gemma3": {"architectures": ["Gemma3ForCausalLM"], "head_dim": 48, "query_pre_attn_scalar": 48, "sliding_window": 512,
               "sliding_window_pattern": 6, "rope_local_base_freq": 10000.0, "rope_theta": 1000000.0,
               "attn_logit_softcapping": None, "final_logit_softcapping": None, "hidden_activation": "gelu_pytorch_tanh"},
    "phi3": {"architectures": ["Phi3ForCausalLM"], "original_max_position_embeddings": 1024,
             "rope_scaling": {"type": "longrope", "short_factor": PHI3_SHORT, "long_factor": PHI3_LONG}},
}

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--build", default=os.path.join(ROOT, "build"))
ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated, from: " + ", ".join(FAMILIES))
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2, help="threads for both the engine and the trainer")
ap.add_argument("--train-steps", type=int, default=6, help="optimizer steps of 8,192 tokens per training run (at least 2)")
ap.add_argument("--json-out", help="write every run's numbers here")
args = ap.parse_args()

families = [f.strip() for f in args.families.split(",") if f.strip()]
unknown = [f for f in families if f not in FAMILIES]
if unknown:
    sys.exit(f"arch_cost: unknown families {unknown} (known: {', '.join(FAMILIES)})")
if "llama" not in families:
    families.insert(0, "llama")
if args.train_steps < 2:
    sys.exit("arch_cost: --train-steps must be at least 2 (the first step is not timed)")

BENCH = os.path.join(args.build, "bench", "bench_model")
LONGCTX = os.path.join(args.build, "longctx")
SYNTH = os.path.join(args.build, "tests", "make_synthetic_store")
for exe in (BENCH, LONGCTX, SYNTH):
    if not os.access(exe, os.X_OK):
        sys.exit(f"arch_cost: {exe} is missing (cmake --build {args.build} --target bench_model longctx make_synthetic_store)")

SEQ, BATCH = 2048, 4


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"arch_cost: {what} failed (exit {r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r


def train_tokens_per_s(log):
    """The steps after the first: their tokens over their time (from each line's tokens_per_s)."""
    lines = [json.loads(x) for x in open(log).read().splitlines() if x.strip()]
    later = lines[1:]
    if not later:
        sys.exit(f"arch_cost: {log} has {len(lines)} step(s); need at least 2")
    tokens = [x.get("tokens", BATCH * SEQ) for x in later]
    return sum(tokens) / sum(t / x["tokens_per_s"] for t, x in zip(tokens, later))


with tempfile.TemporaryDirectory(prefix="arch_cost.") as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731

    # --- Configs, each checked by the engine's parser and weight layout.
    print(f"arch_cost: {len(families)} families x {args.reps} reps, {args.threads} threads; checking configs", file=sys.stderr)
    configs = {}
    for f in families:
        path = J(f + ".config.json")
        with open(path, "w") as out:
            json.dump({**BASE, **FAMILIES[f]}, out, indent=1)
        info = json.loads(run([BENCH, "--config", path, "--check", "--json"], f"{f}: config check").stdout)
        print(f"  {f:13s} {info['architecture']:19s} {info['parameters'] / 1e6:6.2f}M params, head_dim {info['head_dim']}, "
              f"window {info['sliding_window']} layers {info['layers']}, rope {info['rope_scaling']}", file=sys.stderr)
        configs[f] = path

    # --- Packed training data: 2,048-token flat sequences, enough for every step's 4 sequences.
    need = args.train_steps * BATCH
    run([SYNTH, J("store"), "7", "A:300:0.3:50-500:1000-4000", "B:300:0.5:50-500:1000-4000"], "make_synthetic_store")
    run([LONGCTX, "mix", J("store"), "--strategy", "original", "--tokens", str((need + 2) * SEQ), "--seed", "5", "-o", J("plan"), "-q"],
        "longctx mix")
    run([LONGCTX, "pack", J("plan"), "--seq-len", str(SEQ), "--format", "flat", "--out", J("packed"), "-q"], "longctx pack")
    have = json.load(open(J("packed", "manifest.json")))["sequences"]
    if have < need:
        sys.exit(f"arch_cost: packed {have} sequences of {SEQ}, fewer than the {need} the training runs read")

    results = {f: {"prefill": [], "decode": [], "train": []} for f in families}
    raw = []
    for rep in range(args.reps):
        order = families[rep % len(families):] + families[:rep % len(families)]
        for f in order:
            t0 = time.time()
            eng = json.loads(run([BENCH, "--config", configs[f], "--json", "--memory-context", "0", "--threads", str(args.threads)],
                                 f"{f}: bench_model").stdout.strip().splitlines()[-1])
            out, log = J("train-" + f), J("train-" + f + ".log")
            run([LONGCTX, "train", "--config", configs[f], "--data", J("packed"), "--steps", str(args.train_steps),
                 "--batch-tokens", str(BATCH * SEQ), "--threads", str(args.threads), "--log", log, "--quiet", "--out", out],
                f"{f}: longctx train")
            tps = train_tokens_per_s(log)
            shutil.rmtree(out, ignore_errors=True)
            os.remove(log)
            results[f]["prefill"].append(eng["prefill_tokens_per_s"])
            results[f]["decode"].append(eng["decode_tokens_per_s"])
            results[f]["train"].append(tps)
            raw.append({"rep": rep, "family": f, "engine": eng, "train_tokens_per_s": tps})
            print(f"  rep {rep + 1}/{args.reps} {f:13s} prefill {eng['prefill_tokens_per_s']:7.0f} tok/s  decode "
                  f"{eng['decode_tokens_per_s']:6.1f} tok/s  train {tps:7.0f} tok/s  ({time.time() - t0:.0f} s)", file=sys.stderr)

med = {f: {k: statistics.median(v) for k, v in r.items()} for f, r in results.items()}
ref = med["llama"]
print(f"\narchitecture cost at llama2.c's 15M shape, T = {SEQ}; {args.threads} threads; medians of {args.reps} interleaved rep(s)")
print(f"{'family':13s} {'prefill tok/s':>13s} {'x llama':>7s} {'decode tok/s':>12s} {'x llama':>7s} {'train tok/s':>11s} {'x llama':>7s}")
for f in families:
    m = med[f]
    print(f"{f:13s} {m['prefill']:13.0f} {m['prefill'] / ref['prefill']:7.2f} {m['decode']:12.1f} {m['decode'] / ref['decode']:7.2f} "
          f"{m['train']:11.0f} {m['train'] / ref['train']:7.2f}")
if args.json_out:
    with open(args.json_out, "w") as out:
        json.dump({"families": families, "reps": args.reps, "threads": args.threads, "train_steps": args.train_steps,
                   "medians": med, "runs": raw}, out, indent=1)
