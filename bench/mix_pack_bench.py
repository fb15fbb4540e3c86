#!/usr/bin/python3
"""Planning and packing speed on synthetic stores (tests/mix/make_synthetic_store), against a
numpy packer doing the same gather-and-cut in the same run.

usage: bench/mix_pack_bench.py [--build build] [--runs 3]

- Planning: `longctx mix --strategy per-source` (and original) over a store of 10M documents.
  Target: under 10 s.
- Packing: `longctx pack` of a ~270M-token plan into 64K sequences, megatron / flat / llmc / jsonl,
  2 threads; throughput = bytes of tokens written per second (the token payload: 2 bytes each for
  this 32K vocabulary). Target: at least 300 MB/s. The peer: numpy reading the same store and plan
  (np.memmap, fancy indexing, np.concatenate, tofile) writing the same token stream as one flat
  file, no spans: what a Python user would write; it does not shuffle (we do), so it does less.
Medians of --runs; the machine is shared and noisy.
"""
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BUILD = arg("--build", os.path.join(ROOT, "build"))
RUNS = int(arg("--runs", 3))
WORK = os.path.join(BUILD, "bench", "mixpack")
LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")

NUMPY_PACKER = r"""
import json, struct, sys, numpy as np
store, plan, out, L = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
idx = open(store + "/data.idx", "rb").read()
s = struct.unpack_from("<Q", idx, 18)[0]
offsets = np.frombuffer(idx, dtype="<i8", count=s, offset=34 + 4 * s) // 2
data = np.memmap(store + "/data.bin", dtype="<u2", mode="r")
e = np.fromfile(plan + "/entries.bin", dtype=[("doc", "<u8"), ("start", "<u4"), ("length", "<u4")])
parts = [data[o + st:o + st + ln] for o, st, ln in zip(offsets[e["doc"]], e["start"].astype(np.int64), e["length"].astype(np.int64))]
flat = np.concatenate(parts)
n = (len(flat) - 1) // L
flat[: n * L].tofile(out)
"""


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return time.perf_counter() - t0


def store(name, *spec):
    path = os.path.join(WORK, name)
    if not os.path.exists(os.path.join(path, "manifest.json")):
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([SYNTH, path, "1", *spec], check=True)
    return path


def main():
    os.makedirs(WORK, exist_ok=True)
    # 10M documents of 2-40 tokens in four domains.
    many = store("docs10m", "A:5000000:0.1:2-20:21-40", "B:3000000:0.3:2-20:21-40", "C:1500000:0.5:2-20:21-40", "D:500000:0.2:2-20:21-40")
    n_docs = json.load(open(os.path.join(many, "manifest.json")))["documents"]
    plan = os.path.join(WORK, "plan10m")
    for strategy, tokens in (("per-source", "20M"), ("original", "100M")):
        ts = []
        for _ in range(RUNS):
            shutil.rmtree(plan, ignore_errors=True)
            ts.append(timed([LONGCTX, "mix", many, "--strategy", strategy, "--tokens", tokens, "--seed", "1", "--long-threshold", "20",
                             "--out", plan, "-q"]))
        print(f"plan {strategy:<10} over {n_docs / 1e6:.0f}M documents ({tokens} tokens): median {statistics.median(ts):.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in ts)})")

    # ~270M tokens in documents of 1K-8K tokens, packed into 64K sequences.
    big = store("docs270m", "A:40000:0.5:1000-4096:4097-8192", "B:20000:0.5:1000-4096:4097-8192")
    plan = os.path.join(WORK, "plan270m")
    if not os.path.exists(os.path.join(plan, "plan.json")):
        subprocess.run([LONGCTX, "mix", big, "--strategy", "original", "--tokens", "250M", "--seed", "1", "--out", plan, "-q"], check=True)
    planned = json.load(open(os.path.join(plan, "plan.json")))["tokens"]
    L = 65536
    payload = (planned - 1) // L * L * 2
    print(f"pack: {planned / 1e6:.0f}M planned tokens -> {(planned - 1) // L} sequences of 64K; payload {payload / 1e6:.0f} MB; "
          f"{RUNS} runs, 2 threads")
    out = os.path.join(WORK, "packed")
    results = {}
    for fmt in ("megatron", "flat", "llmc", "jsonl"):
        ts = []
        for _ in range(RUNS if fmt != "jsonl" else 1):
            shutil.rmtree(out, ignore_errors=True)
            ts.append(timed([LONGCTX, "pack", plan, "--seq-len", "64K", "--format", fmt, "--out", out, "--threads", "2", "-q"]))
        results[fmt] = statistics.median(ts)
    tn = []
    for _ in range(RUNS):
        tn.append(timed(["/usr/bin/python3", "-c", NUMPY_PACKER, big, plan, os.path.join(WORK, "numpy.flat"), str(L)]))
    os.remove(os.path.join(WORK, "numpy.flat"))
    shutil.rmtree(out, ignore_errors=True)
    numpy_s = statistics.median(tn)
    print(f"{'layout':<10} {'seconds':>8} {'MB/s of tokens':>15} {'vs numpy':>9}")
    for fmt, t in results.items():
        print(f"{fmt:<10} {t:>8.2f} {payload / 1e6 / t:>15.0f} {numpy_s / t:>8.2f}x")
    print(f"{'numpy':<10} {numpy_s:>8.2f} {payload / 1e6 / numpy_s:>15.0f} {'1.00':>8}x   (gather + concatenate + tofile, no shuffle, no spans)")


if __name__ == "__main__":
    main()
