#!/usr/bin/python3
"""bench/scale.sh's correctness check on a random sample, with readers written from docs/formats
(numpy, memory-mapped: the files are tens of GB) rather than our C++:

- 40 random packed sequences of the megatron output: every span's tokens equal the store's
  document tokens at the span's offset (spans sidecar + Megatron .idx/.bin of store and shards);
- the documents those spans come from, and 40 more random store documents: their tokens equal
  a direct `longctx tokenize` of their source lines (docs.bin gives input file and line).

usage: scale_check.py BUILD CORPUS STORE MEGATRON_OUT TOKENIZER   (prints one table row per check)
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

BUILD, CORPUS, STORE, PACKED, TOK = sys.argv[1:6]
rng = np.random.default_rng(7)
SPAN = np.dtype([("doc", "<u8"), ("doc_offset", "<u4"), ("start", "<u4"), ("end", "<u4"), ("domain", "<u2"), ("reserved", "<u2")])
DOC = np.dtype([("line", "<u8"), ("input", "<u4"), ("chars", "<u4"), ("domain", "<u2"), ("r1", "<u2"), ("r2", "<u4")])


def megatron(prefix):
    """(tokens memmap, sizes, byte pointers) of a Megatron indexed dataset (docs/formats/megatron.md)."""
    raw = np.memmap(prefix + ".idx", dtype=np.uint8, mode="r")
    assert bytes(raw[:9]) == b"MMIDIDX\x00\x00"
    dt = {8: np.dtype("<u2"), 4: np.dtype("<i4")}[int(raw[17])]
    S = int(raw[18:26].view("<u8")[0])
    sizes = np.asarray(raw[34:34 + 4 * S].view("<i4"))
    ptr = np.asarray(raw[34 + 4 * S:34 + 12 * S].view("<i8"))
    return np.memmap(prefix + ".bin", dtype=dt, mode="r"), sizes, ptr


def row(name, ok, detail):
    print(f"| check: {name} | {detail} | | {'ok' if ok else 'FAILED'} | | |", flush=True)
    return ok


store_tok, sizes, ptr = megatron(os.path.join(STORE, "data"))
width = store_tok.dtype.itemsize
manifest = json.load(open(os.path.join(PACKED, "manifest.json")))
L = manifest["seq_len"]
shards = manifest["shards"]
# Packed sequences against the store.
starts = np.cumsum([0] + [sh["sequences"] for sh in shards])
picked = np.sort(rng.choice(starts[-1], size=min(40, int(starts[-1])), replace=False))
bad, docs_seen = 0, set()
for g in picked.tolist():
    k = int(np.searchsorted(starts, g, side="right") - 1)
    s = g - int(starts[k])
    base = os.path.join(PACKED, shards[k]["name"])
    tok, _, _ = megatron(base)
    off = np.fromfile(base + ".spans.offsets", dtype="<i8")
    spans = np.memmap(base + ".spans", dtype=SPAN, mode="r")[off[s]:off[s + 1]]
    seq = tok[s * L:(s + 1) * L]
    for sp in spans:
        d, o, a, b = int(sp["doc"]), int(sp["doc_offset"]), int(sp["start"]), int(sp["end"])
        docs_seen.add(d)
        first = int(ptr[d]) // width + o
        bad += not np.array_equal(seq[a:b], store_tok[first:first + (b - a)])
ok = row("packed = store", bad == 0, f"{len(picked)} random megatron sequences, {bad} spans differ")

# Store documents against a direct tokenization of their source lines.
docs = np.memmap(os.path.join(STORE, "docs.bin"), dtype=DOC, mode="r")
smanifest = json.load(open(os.path.join(STORE, "manifest.json")))
sample = sorted(docs_seen | set(rng.choice(len(docs), size=min(40, len(docs)), replace=False).tolist()))
by_input = {}
for d in sample:
    by_input.setdefault(int(docs["input"][d]), []).append((int(docs["line"][d]), d))
lines, order = [], []
for inp, items in sorted(by_input.items()):
    want = {ln: d for ln, d in items}
    path = smanifest["inputs"][inp]["path"]
    p = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
    for n, line in enumerate(p.stdout, 1):
        if n in want:
            lines.append(line)
            order.append(want.pop(n))
            if not want:
                break
    p.kill()
    p.wait()
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "lines.jsonl")
    with open(src, "wb") as f:
        f.writelines(lines)
    subprocess.run([os.path.join(BUILD, "longctx"), "tokenize", "--tokenizer", TOK, src, "-o", os.path.join(tmp, "ids.jsonl")], check=True)
    ids = [json.loads(x) for x in open(os.path.join(tmp, "ids.jsonl"))]
bad = sum(not np.array_equal(np.asarray(ids[i]), np.asarray(store_tok[int(ptr[d]) // width:int(ptr[d]) // width + int(sizes[d])]))
          for i, d in enumerate(order))
ok &= row("store = tokenize(source line)", bad == 0 and len(order) == len(sample), f"{len(sample)} documents, {bad} differ")
sys.exit(0 if ok else 1)
