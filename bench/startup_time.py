#!/usr/bin/python3
"""Process start-up of two builds of longctx side by side: `longctx --version` and `longctx
tokenize` of a one-line file (tokenizer load from the load cache, the line, exit), the two builds
alternating in one run, medians of wall time per process and the ratio OLD / NEW. For changes to
what every command pays before its work starts (linking, loading, re-execution).

  /usr/bin/python3 bench/startup_time.py OLD_BUILD NEW_BUILD [--family llama3] [--reps 7] [--runs 20]

Build OLD from the commit before the change in another folder, as bench/compare_builds.py says.
Each build gets its own copy of the tokenizer file: the load cache beside it is keyed by the
build, so a shared file would be rebuilt from JSON at every switch (what a user never sees).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("old")
ap.add_argument("new")
ap.add_argument("--family", default="llama3")
ap.add_argument("--reps", type=int, default=7, help="alternations of the two builds")
ap.add_argument("--runs", type=int, default=20, help="processes per measurement")
args = ap.parse_args()


def per_process(cmd, runs):
    t0 = time.perf_counter()
    for _ in range(runs):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t0) / runs * 1e3


with tempfile.TemporaryDirectory() as tmp:
    line = os.path.join(tmp, "one.jsonl")
    with open(line, "w") as f:
        f.write('{"text": "hello world, one line"}\n')
    cmds = {}
    for name, build in (("old", args.old), ("new", args.new)):
        os.makedirs(os.path.join(tmp, name))
        tok = os.path.join(tmp, name, "tokenizer.json")
        shutil.copy(os.path.join(ROOT, "data/tokenizers", args.family, "tokenizer.json"), tok)
        exe = os.path.join(build, "longctx")
        cmds[name] = {"--version": [exe, "--version"],
                      "tokenize": [exe, "tokenize", "-q", "--threads", "1", "--tokenizer", tok, "-o", "/dev/null", line]}
        subprocess.run(cmds[name]["tokenize"], check=True)  # writes this build's load cache
    times = {(n, w): [] for n in cmds for w in cmds[n]}
    for _ in range(args.reps):
        for n in cmds:
            for w, cmd in cmds[n].items():
                times[(n, w)].append(per_process(cmd, args.runs))
    print(f"{args.reps} alternations of {args.runs} processes each; ms per process, medians (min-max)")
    print(f"{'command':22} {'old':>18} {'new':>18} {'old/new':>8}")
    for w in cmds["old"]:
        o, n = times[("old", w)], times[("new", w)]
        label = w if w == "--version" else f"tokenize ({args.family})"
        print(f"{label:22} {statistics.median(o):7.1f} ({min(o):.1f}-{max(o):.1f}) {statistics.median(n):7.1f} "
              f"({min(n):.1f}-{max(n):.1f}) {statistics.median(o) / statistics.median(n):7.2f}x")
