#!/usr/bin/python3
"""mix's memory at scale: a synthetic store of --docs documents (default 50M; ~9 GB of disk,
made once under --work), planned with `mix` (a quarter of the store's tokens) per-source and original while
/proc/PID/status is sampled every 20 ms. Peak RssAnon is what mix allocates (its memory-mapped
index and sidecar are page cache, RssFile, and are reported apart). Prints bytes per document;
then packs each plan (megatron, 64K) and prints pack's bytes per planned entry.

usage: bench/mix_memory.py [--build build] [--docs 50000000] [--work /tmp/longctx-mixmem] [--keep]
"""
import argparse
import os
import shutil
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--docs", type=int, default=50_000_000)
ap.add_argument("--work", default="/tmp/longctx-mixmem")
ap.add_argument("--keep", action="store_true", help="keep the store for the next run")
a = ap.parse_args()
store = os.path.join(a.work, f"store-{a.docs}")
if not os.path.exists(os.path.join(store, "manifest.json")):
    # 1% long documents (5K-9K tokens), the rest 3-12 tokens: many documents, few tokens.
    na, nb = a.docs * 3 // 5, a.docs - a.docs * 3 // 5
    subprocess.run([os.path.join(a.build, "tests", "make_synthetic_store"), store, "5", f"A:{na}:0.01:3-12:5000-9000",
                    f"B:{nb}:0.01:3-12:5000-9000"], check=True)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peak_mem import peak as sample  # noqa: E402


def peak(cmd):
    r = sample(cmd, whole_tree=False)
    if r["rc"] != 0:
        raise SystemExit(f"{cmd}: exit {r['rc']}")
    return r["anon_bytes"], r["file_bytes"], r["seconds"]


import json  # noqa: E402
tokens = json.load(open(os.path.join(store, "manifest.json")))["tokens"] // 4  # per-source keeps long documents and 10% of the rest
print(f"mix over {a.docs:,} documents (--tokens {tokens:,}, a quarter of the store):")
print(f"{'strategy':12} {'seconds':>8} {'RssAnon MB':>11} {'bytes/doc':>10} {'RssFile MB':>11} {'entries':>12}")
packed = []
for strategy in ("per-source", "original"):
    plan = os.path.join(a.work, "plan-" + strategy)
    shutil.rmtree(plan, ignore_errors=True)
    anon, file_, secs = peak([os.path.join(a.build, "longctx"), "mix", store, "--strategy", strategy, "--tokens", str(tokens), "--seed", "1",
                              "-o", plan, "-q"])
    entries = os.path.getsize(os.path.join(plan, "entries.bin")) // 16
    print(f"{strategy:12} {secs:8.1f} {anon / 2**20:11.0f} {anon / a.docs:10.1f} {file_ / 2**20:11.0f} {entries:12,}")
    # pack of the same plan: what it holds is per planned entry (the entries, their shuffled order).
    out = os.path.join(a.work, "packed-" + strategy)
    shutil.rmtree(out, ignore_errors=True)
    panon, pfile, psecs = peak([os.path.join(a.build, "longctx"), "pack", plan, "--format", "megatron", "--seq-len", "64K", "-o", out,
                                "-q"])
    packed.append((strategy, psecs, panon, pfile, entries))
    shutil.rmtree(out)
    shutil.rmtree(plan)
print("pack megatron, L = 64K, of those plans:")
print(f"{'plan':12} {'seconds':>8} {'RssAnon MB':>11} {'bytes/entry':>12} {'RssFile MB':>11}")
for strategy, secs, anon, file_, entries in packed:
    print(f"{strategy:12} {secs:8.1f} {anon / 2**20:11.0f} {anon / entries:12.1f} {file_ / 2**20:11.0f}")
if not a.keep:
    shutil.rmtree(a.work)
