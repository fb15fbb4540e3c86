#!/usr/bin/python3
"""Two builds of longctx side by side on the LLaMA shapes: engine prefill and decode
(bench_model) and training tokens/s (longctx train), interleaved repetitions in one run, medians
and the ratio NEW / OLD. The regression check of a refactor: build the commit before it in another
folder (git worktree add /tmp/old HEAD~N && cmake -S /tmp/old -B /tmp/old/build && cmake --build
/tmp/old/build --target longctx bench_model) and compare.

  /usr/bin/python3 bench/compare_builds.py OLD_BUILD NEW_BUILD [--reps 5] [--threads 2]

Shapes: bench_model's built-in 15M LLaMA (prefill 2,048 tokens, decode 256 after 16), and
bench/train_vs_torch.py's training shapes: 4.4M at T = 256 (16 sequences a step) and 15M at
T = 2048 (2 a step).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("old")
ap.add_argument("new")
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()


def config(d, layers, heads, inter, T):
    return {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": d, "intermediate_size": inter,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": heads, "max_position_embeddings": T,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True}


SHAPES = {"4M": (config(128, 2, 4, 256, 256), 256, 16, 5), "15M": (config(288, 6, 6, 768, 2048), 2048, 2, 4)}


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)}: {r.stderr}")
    return r.stdout


def engine(build):
    out = sh(os.path.join(build, "bench", "bench_model"), "--threads", str(args.threads), "--memory-context", "0")
    prefill = float(re.search(r"prefill 2048 tokens: ([\d.]+) GFLOP/s", out).group(1))
    decode = float(re.search(r"decode: ([\d.]+) tokens/s", out).group(1))
    return prefill, decode


def train(build, shape, tmp, data):
    c, T, B, steps = SHAPES[shape]
    cfg, out, log = (os.path.join(tmp, x) for x in ("config.json", "run", "run.log"))
    json.dump(c, open(cfg, "w"))
    sh("rm", "-rf", out, log)
    sh(os.path.join(build, "longctx"), "train", "--data", data, "--config", cfg, "--out", out, "--log", log, "--steps", str(steps),
       "--batch-tokens", str(B * T), "--threads", str(args.threads), "--quiet")
    rows = [json.loads(x) for x in open(log)]
    return statistics.median(x["tokens_per_s"] for x in rows[1:])


with tempfile.TemporaryDirectory() as tmp:
    new = args.new
    sh(os.path.join(new, "tests", "make_synthetic_store"), os.path.join(tmp, "store"), "1", "A:3000:0.5:50-2000:2001-20000")
    sh(os.path.join(new, "longctx"), "mix", os.path.join(tmp, "store"), "--strategy", "original", "--tokens", "300K", "--seed", "1",
       "-o", os.path.join(tmp, "plan"), "-q")
    data = {}
    for T in (256, 2048):
        data[T] = os.path.join(tmp, f"packed-{T}")
        sh(os.path.join(new, "longctx"), "pack", os.path.join(tmp, "plan"), "--seq-len", str(T), "--format", "flat", "--out", data[T], "-q")
    res = {b: {"prefill GFLOP/s": [], "decode tok/s": [], "train 4M T=256 tok/s": [], "train 15M T=2048 tok/s": []} for b in ("old", "new")}
    for rep in range(args.reps):
        for name, build in (("old", args.old), ("new", args.new)) if rep % 2 == 0 else (("new", args.new), ("old", args.old)):
            p, d = engine(build)
            res[name]["prefill GFLOP/s"].append(p)
            res[name]["decode tok/s"].append(d)
            res[name]["train 4M T=256 tok/s"].append(train(build, "4M", tmp, data[256]))
            res[name]["train 15M T=2048 tok/s"].append(train(build, "15M", tmp, data[2048]))
    print(f"threads {args.threads}, {args.reps} interleaved repetitions, medians")
    print(f"{'':26} {'old':>9} {'new':>9} {'new/old':>8}")
    for k in res["old"]:
        o, n = statistics.median(res["old"][k]), statistics.median(res["new"][k])
        print(f"{k:26} {o:9.1f} {n:9.1f} {n / o:8.3f}")
