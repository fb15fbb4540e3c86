#!/usr/bin/python3
"""An independent reader of longctx stores (standard library only), written from
docs/formats/store.md, not from our C++: reads manifest.json, the Megatron files (through
read_megatron.py) and the docs.bin sidecar, checks that they agree with each other, and computes
the per-domain statistics that `longctx stats --json` must print.

usage: read_store.py STORE   prints a summary as JSON
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import read_megatron  # noqa: E402

PERCENTILES = (25, 50, 75, 90, 95, 99)


def read(store):
    with open(os.path.join(store, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    mega = read_megatron.read(os.path.join(store, "data"))
    seqs = mega["sequences"]
    assert mega["doc_idx"] == list(range(len(seqs) + 1)), "one sequence per document"
    assert mega["dtype"] == manifest["token_dtype"], (mega["dtype"], manifest["token_dtype"])
    with open(os.path.join(store, "docs.bin"), "rb") as f:
        raw = f.read()
    assert len(raw) == 24 * len(seqs), f"docs.bin has {len(raw)} bytes for {len(seqs)} documents"
    docs = []
    for i in range(len(seqs)):
        line, inp, chars, domain, reserved, reserved2 = struct.unpack_from("<QIIHHI", raw, 24 * i)
        assert reserved == 0 and reserved2 == 0
        assert inp < len(manifest["inputs"]) and domain < len(manifest["domains"])
        docs.append({"line": line, "input": inp, "domain": domain, "chars": chars})
    # Counts in the manifest agree with the files.
    assert manifest["documents"] == len(seqs)
    assert manifest["tokens"] == sum(len(s) for s in seqs)
    for d, dom in enumerate(manifest["domains"]):
        mine = [i for i, doc in enumerate(docs) if doc["domain"] == d]
        assert dom["documents"] == len(mine), dom
        assert dom["tokens"] == sum(len(seqs[i]) for i in mine), dom
    for k, inp in enumerate(manifest["inputs"]):
        mine = [i for i, doc in enumerate(docs) if doc["input"] == k]
        assert inp["documents"] == len(mine) and inp["tokens"] == sum(len(seqs[i]) for i in mine), inp
    # Documents are in input order, lines ascending inside an input.
    keys = [(doc["input"], doc["line"]) for doc in docs]
    assert keys == sorted(keys), "documents out of input order"
    for name, f in manifest["files"].items():
        assert os.path.getsize(os.path.join(store, name)) == f["bytes"], name
    assert manifest["skipped"]["total"] == sum(manifest["skipped"]["reasons"].values())
    return {"manifest": manifest, "sequences": seqs, "docs": docs}


def parse_len(s):
    s = s.strip()
    if s.endswith("K"):
        return int(s[:-1]) * 1024
    if s.endswith("M"):
        return int(s[:-1]) * 1024 * 1024
    return int(s)


def stats(store_data, edges=(0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072), long_threshold=4096):
    """Per-domain statistics by their definitions (docs/formats/store.md), for comparison."""
    m = store_data["manifest"]
    lengths_by = {}
    for doc, seq in zip(store_data["docs"], store_data["sequences"]):
        lengths_by.setdefault(m["domains"][doc["domain"]]["name"], []).append(len(seq))
    lengths_by["all"] = [len(s) for s in store_data["sequences"]]
    out = {}
    for name, lens in lengths_by.items():
        lens = sorted(lens)
        total = sum(lens)
        pct = {}
        for p in PERCENTILES:
            cum = 0
            for n in lens:
                cum += n
                if cum * 100 >= p * total:
                    pct[f"p{p}"] = n
                    break
        pct["max"] = lens[-1]
        bins = [0] * len(edges)
        for n in lens:
            b = max(i for i, e in enumerate(edges) if n >= e)
            bins[b] += n
        out[name] = {"documents": len(lens), "tokens": total, "percentiles": pct,
                     "long_token_share": sum(n for n in lens if n > long_threshold) / total,
                     "bin_tokens": bins}
    return out


if __name__ == "__main__":
    d = read(sys.argv[1])
    print(json.dumps({"documents": len(d["sequences"]), "stats": stats(d)}, indent=1))
