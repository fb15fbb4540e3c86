#!/usr/bin/python3
"""Two builds of `longctx tokenize` on the same input, one thread, alternating in one run: medians
of MB/s (the throughput `tokenize` reports, tokenizer load excluded) and the ratio NEW / OLD. For
a change to the encoder or the pipeline: build the commit before it in another folder (as
bench/compare_builds.py says) and compare. Build both the same way: `make build` (in each
worktree) makes the tokenize path profile-guided, a plain `cmake` build does not, and that
alone moves LLaMA-3 by 2-4% (README, "Speed", eighth session); `LONGCTX_PGO=0 make build` for
both compares without profiles. The machine is shared and drifts, so the builds
alternate and only medians and their ratio are meant to be read.

  /usr/bin/python3 bench/tokenize_ab.py OLD_BUILD NEW_BUILD [--families llama2,llama3] [--reps 9]
                                        [--input build/bench/mixed.jsonl]

Each build gets its own copy of the tokenizer file: the load cache beside it is keyed by the
build, so a shared file would be rebuilt from JSON at every switch. The input defaults to the
bench corpus (bench/make_bench_corpus.py, written by bench/tokenizer_vs_hf.py).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("old")
ap.add_argument("new")
ap.add_argument("--families", default="llama2,llama3")
ap.add_argument("--reps", type=int, default=9, help="alternations of the two builds")
ap.add_argument("--input", default=os.path.join(ROOT, "build/bench/mixed.jsonl"))
args = ap.parse_args()


def mb_per_s(exe, tok):
    r = subprocess.run([exe, "tokenize", "--threads", "1", "--tokenizer", tok, "--out", "/dev/null", args.input],
                       capture_output=True, text=True, check=True)
    return float(re.search(r"([0-9.]+) MB/s", r.stderr).group(1))


with tempfile.TemporaryDirectory() as tmp:
    print(f"{args.input}, one thread, {args.reps} alternations; MB/s medians (min-max); new/old: the ratio of "
          f"the medians, and the median of the ratios within each alternation (the machine's speed drifts in "
          f"phases longer than one alternation, which the second discounts)")
    print(f"{'tokenizer':11} {'old':>20} {'new':>20} {'new/old':>8} {'paired':>7}")
    for family in args.families.split(","):
        runs = {}
        for name, build in (("old", args.old), ("new", args.new)):
            os.makedirs(os.path.join(tmp, family, name))
            tok = os.path.join(tmp, family, name, "tokenizer.json")
            shutil.copy(os.path.join(ROOT, "data/tokenizers", family, "tokenizer.json"), tok)
            runs[name] = (os.path.join(build, "longctx"), tok, [])
            mb_per_s(*runs[name][:2])  # writes this build's load cache; not counted
        for _ in range(args.reps):
            for exe, tok, got in runs.values():
                got.append(mb_per_s(exe, tok))
        o, n = runs["old"][2], runs["new"][2]
        print(f"{family:11} {statistics.median(o):8.1f} ({min(o):.1f}-{max(o):.1f}) {statistics.median(n):8.1f} "
              f"({min(n):.1f}-{max(n):.1f}) {statistics.median(n) / statistics.median(o):7.3f}x "
              f"{statistics.median(b / a for a, b in zip(o, n)):6.3f}x")
