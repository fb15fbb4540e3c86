#!/usr/bin/python3
"""The Python package's speed, measured side by side in one run:

1. encode_batch: longctx.Tokenizer.encode_batch(texts, threads=all cores) against Hugging Face
   tokenizers' encodeBatch (its official Node binding, Rust, all cores through rayon;
   tests/oracle/hf.mjs time-batch) on the same texts (bench/make_bench_corpus.py's ~10 MB of mixed
   real text), tokenizer load excluded on both sides, token totals checked equal. The Python
   side's time includes building the Encoding objects' id lists.
2. PackedDataset: a flat packed output of a synthetic store (random ids, short and long
   documents, 64K sequences), read once to warm the page cache, then served as batches of 8: by a
   DataLoader over items (longctx.collate; 0 and 2 workers), by PackedDataset.loader() (whole
   batches built in C++ on all cores), and by the peer — the numpy memmap reader a user would
   write (per item: uint16 -> int64, labels, position ids from the flat cu_seqlens). Reported as
   tokens/s and GB/s of the int64 input_ids delivered (the stored uint16 bytes are a quarter of
   that; labels and position_ids of the same size are produced alongside).

Medians of --runs repetitions, ratios taken within a repetition (the machine is shared and drifts).

usage: bench/python_package.py [--build build] [--families llama2,llama3] [--runs 3]
                               [--seq-len 65536] [--tokens 200M]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--families", default="llama2,llama3")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seq-len", default="65536")
ap.add_argument("--docs", type=int, default=8000, help="synthetic documents per domain (2 domains)")
a = ap.parse_args()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(a.build)
sys.path.insert(0, os.path.join(BUILD, "python"))
import longctx  # noqa: E402
import torch  # noqa: E402

WORK = os.path.join(BUILD, "bench-data")
os.makedirs(WORK, exist_ok=True)
mixed = os.path.join(WORK, "mixed.jsonl")
if not os.path.exists(mixed):
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench/make_bench_corpus.py"), ROOT, mixed], check=True)
texts = [json.loads(line)["text"] for line in open(mixed, encoding="utf-8")]
nbytes = sum(len(t.encode("utf-8")) for t in texts)
threads = os.cpu_count()
print(f"encode_batch: {len(texts)} texts, {nbytes / 1e6:.1f} MB, {threads} threads both sides")
print(f"{'family':8} {'longctx MB/s':>13} {'HF MB/s':>9} {'ratio':>7}")
for fam in a.families.split(","):
    path = os.path.join(ROOT, "data/tokenizers", fam, "tokenizer.json")
    tok = longctx.Tokenizer.from_file(path)
    ours, theirs, ratios = [], [], []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        encs = tok.encode_batch(texts, threads=threads)
        s_ours = time.perf_counter() - t0
        n_ours = sum(len(e) for e in encs)
        r = subprocess.run(["node", os.path.join(ROOT, "tests/oracle/hf.mjs"), "time-batch", path, mixed], capture_output=True, text=True,
                           check=True, cwd=ROOT)
        h = json.loads(r.stdout)
        if h["tokens"] != n_ours:
            print(f"  {fam}: token totals differ: longctx {n_ours}, HF {h['tokens']}")
        ours.append(nbytes / s_ours / 1e6)
        theirs.append(h["bytes"] / h["seconds"] / 1e6)
        ratios.append(ours[-1] / theirs[-1])
    print(f"{fam:8} {statistics.median(ours):13.1f} {statistics.median(theirs):9.1f} {statistics.median(ratios):6.1f}x")

with tempfile.TemporaryDirectory(dir=WORK) as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), J("store"), "7", f"A:{a.docs}:0.3:100-4000:4001-60000",
                    f"B:{a.docs}:0.1:100-4000:4001-60000"], check=True, capture_output=True)
    total = longctx.Store(J("store")).stats()["tokens"]
    longctx.mix(J("store"), strategy="original", tokens=total, seed=1, out=J("plan"), quiet=True)
    longctx.pack(J("plan"), seq_len=a.seq_len, format="flat", out=J("packed"), quiet=True)
    ds = longctx.PackedDataset(J("packed"))
    n_tok = len(ds) * ds.seq_len
    for f in os.listdir(J("packed")):  # warm the page cache
        with open(J("packed", f), "rb") as fh:
            while fh.read(1 << 24):
                pass
    print(f"\nPackedDataset: {len(ds)} sequences of {ds.seq_len} ({n_tok / 1e6:.0f}M tokens, flat, uint16), batch 8, page cache warm")
    print("GB/s of the int64 input_ids delivered (labels and position_ids are made too); peer = numpy memmap + per-item numpy")

    class NumpyPeer(torch.utils.data.Dataset):
        """What a user writes without longctx: np.memmap of the flat shards, cu_seqlens from the
        sidecar files, per item input_ids/labels/position_ids by numpy (HF-style labels)."""

        def __init__(self, d):
            m = json.load(open(os.path.join(d, "manifest.json")))
            self.L = m["seq_len"]
            self.items = []
            for sh in m["shards"]:
                base = os.path.join(d, sh["name"])
                tok = np.memmap(base + ".tokens", dtype=np.uint16, mode="r").reshape(-1, self.L)
                cu = np.fromfile(base + ".cu_seqlens", dtype=np.int32)
                off = np.fromfile(base + ".cu_seqlens.offsets", dtype=np.int64)
                self.items += [(tok, cu, off, s) for s in range(sh["sequences"])]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            tok, cu, off, s = self.items[i]
            ids = torch.from_numpy(tok[s].astype(np.int64))
            c = cu[off[s]:off[s + 1] + 1] - s * self.L
            starts = np.repeat(c[:-1], np.diff(c))
            pos = torch.from_numpy(np.arange(self.L, dtype=np.int64) - starts)
            return {"input_ids": ids, "labels": ids.clone(), "position_ids": pos, "cu_seqlens": torch.from_numpy(c.astype(np.int32))}

    peer = NumpyPeer(J("packed"))
    ways = {
        "numpy peer, DataLoader(batch 8, collate), 0 workers": lambda: torch.utils.data.DataLoader(peer, batch_size=8, collate_fn=longctx.collate),
        "PackedDataset, DataLoader(batch 8, collate), 0 workers": lambda: torch.utils.data.DataLoader(ds, batch_size=8, collate_fn=longctx.collate),
        "PackedDataset, DataLoader(batch 8, collate), 2 workers": lambda: torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2,
                                                                                                    collate_fn=longctx.collate),
        f"PackedDataset.loader(8): batches in C++, {threads} threads": lambda: ds.loader(8),
    }
    rates = {k: [] for k in ways}
    for _ in range(a.runs):
        for name, make in ways.items():
            loader = make()
            t0 = time.perf_counter()
            seen = 0
            for batch in loader:
                seen += batch["input_ids"].numel()
            rates[name].append(seen / (time.perf_counter() - t0))
    base = statistics.median(rates[next(iter(ways))])
    print(f"{'':58} {'Mtokens/s':>10} {'GB/s':>6} {'vs peer':>8}")
    for name in ways:
        med = statistics.median(rates[name])
        print(f"{name:58} {med / 1e6:10.1f} {med * 8 / 1e9:6.2f} {med / base:7.1f}x")
