#!/usr/bin/python3
"""Training speed: `longctx train` against PyTorch (Debian's python3-torch, float32, the same
LLaMA shape written as transformers' modeling code computes it: materialised causal attention,
full-vocabulary cross-entropy, torch.optim.AdamW), same model shape, same sequence length and
batch, same thread count, interleaved repetitions in one run; medians and the ratio.

  4.4M parameters (d 128, 2 layers, vocab 32,000, tied) at T = 256, 16 sequences per step
  15.2M parameters (llama2.c's 15M shape: d 288, 6 layers, 6 heads) at T = 2048, 2 per step
and the peak memory of one step at T = 8192 (15M shape, 1 sequence; torch's with --peer-8k).

llm.c's CPU trainer (train_gpt2.c) is quoted from the issue, not run here (it is not a Debian
or npm package): about 615 tokens/s (1,436 with OpenBLAS GEMMs) at 4.3M parameters and T = 256.

usage: bench/train_vs_torch.py BUILD [--reps N] [--threads N]   (run with /usr/bin/python3)
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--skip-8k", action="store_true", help="skip the T=8192 memory run")
ap.add_argument("--peer-8k", action="store_true", help="run torch at T=8192 too (materialised attention: ~17 GB, minutes)")
ap.add_argument("--peer-child", help=argparse.SUPPRESS)
args = ap.parse_args()


def config(d, layers, heads, inter, T):
    return {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": d, "intermediate_size": inter,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": heads, "max_position_embeddings": T,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True}


SHAPES = {"4M": (config(128, 2, 4, 256, 256), 256, 16, 5), "15M": (config(288, 6, 6, 768, 2048), 2048, 2, 4),
          "15M-8K": (config(288, 6, 6, 768, 8192), 8192, 1, 2)}


def peer(shape, data_dir, threads):
    """The PyTorch peer, in a child process (its own peak RSS): tokens/s per step after the first."""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c, T, B, steps = SHAPES[shape]
    d, H, L, V, I = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"], c["vocab_size"], c["intermediate_size"]
    hd = d // H
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    f = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    cos, sin = torch.cat([f.cos(), f.cos()], -1), torch.cat([f.sin(), f.sin()], -1)
    p = {"embed": torch.randn(V, d) * 0.02, "norm": torch.ones(d)}
    for i in range(L):
        p.update({f"{i}.n1": torch.ones(d), f"{i}.n2": torch.ones(d), f"{i}.wq": torch.randn(d, d) * 0.02, f"{i}.wk": torch.randn(d, d) * 0.02,
                  f"{i}.wv": torch.randn(d, d) * 0.02, f"{i}.wo": torch.randn(d, d) * 0.02, f"{i}.wg": torch.randn(I, d) * 0.02,
                  f"{i}.wu": torch.randn(I, d) * 0.02, f"{i}.wd": torch.randn(d, I) * 0.02})
    for v in p.values():
        v.requires_grad_(True)
    opt = torch.optim.AdamW(list(p.values()), lr=1e-3)
    mask = torch.full((T, T), float("-inf")).triu(1)

    def norm(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    def rot(x):
        h = x.shape[-1] // 2
        return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin

    tokens = torch.from_numpy(np.fromfile(os.path.join(data_dir, "part-00000.tokens"), dtype="<u2").astype(np.int64)).view(-1, T)
    rates = []
    for step in range(steps):
        t0 = time.perf_counter()
        toks = tokens[(step * B) % len(tokens):][:B]
        x = p["embed"][toks]
        for i in range(L):
            h = norm(x, p[f"{i}.n1"])
            q = rot((h @ p[f"{i}.wq"].T).view(B, T, H, hd).transpose(1, 2))
            k = rot((h @ p[f"{i}.wk"].T).view(B, T, H, hd).transpose(1, 2))
            v = (h @ p[f"{i}.wv"].T).view(B, T, H, hd).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
            x = x + a.transpose(1, 2).reshape(B, T, d) @ p[f"{i}.wo"].T
            h = norm(x, p[f"{i}.n2"])
            x = x + (torch.nn.functional.silu(h @ p[f"{i}.wg"].T) * (h @ p[f"{i}.wu"].T)) @ p[f"{i}.wd"].T
        logits = norm(x, p["norm"])[:, :-1] @ p["embed"].T
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), toks[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
        opt.step()
        rates.append(B * T / (time.perf_counter() - t0))
    print(json.dumps({"rates": rates[1:], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if args.peer_child:
    shape, data_dir = args.peer_child.split(",")
    peer(shape, data_dir, args.threads)
    sys.exit(0)

LONGCTX = os.path.join(args.build, "longctx")
SYNTH = os.path.join(args.build, "tests", "make_synthetic_store")


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)}: {r.stderr}")
    return r


def ours(shape, tmp, data_dir):
    c, T, B, steps = SHAPES[shape]
    cfg = os.path.join(tmp, f"{shape}.json")
    json.dump(c, open(cfg, "w"))
    out, log = os.path.join(tmp, f"run-{shape}"), os.path.join(tmp, f"{shape}.log")
    subprocess.run(["rm", "-rf", out])
    r = subprocess.run(["/usr/bin/time", "-f", "%M", LONGCTX, "train", "--data", data_dir, "--config", cfg, "--out", out, "--log", log,
                        "--batch-tokens", str(B * T), "--steps", str(steps), "--lr", "1e-3", "--threads", str(args.threads),
                        "--quiet"], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"longctx train: {r.stderr}")
    rows = [json.loads(x) for x in open(log)]
    return {"rates": [x["tokens_per_s"] for x in rows[1:]], "peak_rss_mb": int(r.stderr.strip().splitlines()[-1]) / 1024}


def peer_env():
    """torch gets the OpenBLAS kernels longctx picks (src/model/blas.cpp): on a VM that hides the CPU
    model OpenBLAS falls back to Prescott kernels, 2-5x slower GEMMs, which would flatter us."""
    flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
    env = dict(os.environ, OPENBLAS_THREAD_TIMEOUT="4")
    if {"avx512f", "avx512bw", "avx512vl"} <= set(flags):
        env.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    elif {"avx2", "fma"} <= set(flags):
        env.setdefault("OPENBLAS_CORETYPE", "Haswell")
    return env


def theirs(shape, data_dir):
    r = subprocess.run(["/usr/bin/python3", __file__, args.build, "--threads", str(args.threads), "--peer-child", f"{shape},{data_dir}"],
                       capture_output=True, text=True, env=peer_env())
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"}
    return json.loads(r.stdout)


with tempfile.TemporaryDirectory() as tmp:
    # Data: random ids (speed does not depend on them), packed flat at each length.
    sh(SYNTH, os.path.join(tmp, "store"), "1", "A:3000:0.5:50-2000:2001-20000")
    sh(LONGCTX, "mix", os.path.join(tmp, "store"), "--strategy", "original", "--tokens", "600K", "--seed", "1", "-o", os.path.join(tmp, "plan"), "-q")
    data = {}
    for T in (256, 2048, 8192):
        data[T] = os.path.join(tmp, f"packed-{T}")
        sh(LONGCTX, "pack", os.path.join(tmp, "plan"), "--seq-len", str(T), "--format", "flat", "--out", data[T], "-q")
    print(f"threads {args.threads}, {args.reps} interleaved repetitions; tokens/s = median over steps after the first")
    print(f"{'shape':8} {'T':>5} {'batch':>5} {'longctx tok/s':>14} {'torch tok/s':>12} {'ratio':>6}")
    for shape in ("4M", "15M"):
        c, T, B, _ = SHAPES[shape]
        a, b = [], []
        for _ in range(args.reps):
            a.append(statistics.median(ours(shape, tmp, data[T])["rates"]))
            t = theirs(shape, data[T])
            if "error" not in t:
                b.append(statistics.median(t["rates"]))
        ma, mb = statistics.median(a), (statistics.median(b) if b else float("nan"))
        print(f"{shape:8} {T:5d} {B:5d} {ma:14.0f} {mb:12.0f} {ma / mb:6.2f}   (longctx runs {[round(x) for x in a]}, torch {[round(x) for x in b]})",
              flush=True)
        if shape == "4M":
            print(f"         llm.c CPU (issue's figures): 615 tok/s plain, 1436 with OpenBLAS -> longctx {ma / 615:.1f}x / {ma / 1436:.1f}x")
    if args.skip_8k:
        sys.exit(0)
    o = ours("15M-8K", tmp, data[8192])
    t = theirs("15M-8K", data[8192]) if args.peer_8k else {"error": "not run (--peer-8k; it peaked at ~17 GB here)"}
    print(f"T=8192, 15M shape, 1 sequence per step: longctx peak RSS {o['peak_rss_mb']:.0f} MB, {statistics.median(o['rates']):.0f} tok/s; "
          + (f"torch peak RSS {t['peak_rss_mb']:.0f} MB, {statistics.median(t['rates']):.0f} tok/s" if "error" not in t else f"torch: {t['error']}"))
