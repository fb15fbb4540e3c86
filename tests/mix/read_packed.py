#!/usr/bin/python3
"""An independent reader of longctx packed outputs (Debian's python3-numpy), written from
docs/formats/packed.md and ../shared/FORMATS.md, not from our C++. Loads every layout (jsonl,
jsonl.zst via the zstd tool, megatron, llmc, flat) into one shape:

  read(dir) -> {"manifest": dict, "tokens": int array [S, L],
                "spans": [[(doc, doc_offset, start, end, domain_index), ...] per sequence],
                "labels": [int] (jsonl; llmc and megatron: the token after each shard's last
                sequence, one per shard, in "shard_labels"), "sources": [[(name, start, end)]] (jsonl only),
                "cu_seqlens": [array] per sequence (flat), "shard_cu": [(cu_seqlens, offsets)] (flat, version 2)}
and checks each layout's own structure on the way (headers, index sizes, offsets).
format_version 2 (current): span sidecar `part-K.spans` + `part-K.spans.offsets`; llmc and megatron
shards hold S*L + 1 tokens (megatron: one sequence per shard); flat's `part-K.cu_seqlens` (int32,
monotone over the shard) + `part-K.cu_seqlens.offsets` (int64, S + 1). Version 1 is still read.

read_docs(dir) reads a `megatron-docs` output: {"manifest", "documents": [int array], "spans"}.
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "store"))
import read_megatron  # noqa: E402

SPAN = np.dtype([("doc", "<u8"), ("doc_offset", "<u4"), ("start", "<u4"), ("end", "<u4"), ("domain", "<u2"), ("reserved", "<u2")])


def read(d):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    assert m["format"] == "longctx-packed"
    L = m["seq_len"]
    dt = np.dtype("<u2") if m["token_dtype"] == "uint16" else np.dtype("<i4")
    layout = m["layout"]
    assert layout != "megatron-docs", "use read_docs"
    v2 = m.get("format_version", 1) >= 2
    extra = 1 if v2 and layout in ("megatron", "llmc") else 0
    toks, spans, labels, sources, cus, shard_labels, shard_cu = [], [], [], [], [], [], []
    for sh in m["shards"]:
        base = os.path.join(d, sh["name"])
        n = sh["sequences"]
        sidx, srec = read_spans(base, v2)
        assert len(sidx) == n + 1 and sidx[0] == 0 and sidx[-1] == len(srec)
        assert np.all(srec["reserved"] == 0)
        for s in range(n):
            spans.append([tuple(int(x) for x in r) for r in srec[sidx[s]:sidx[s + 1]][["doc", "doc_offset", "start", "end", "domain"]]])
        if layout == "megatron" and v2:
            got = read_megatron.read(base)
            assert got["dtype"] == m["token_dtype"] and len(got["sequences"]) == 1 and len(got["sequences"][0]) == n * L + 1
            flat_tokens = np.array(got["sequences"][0], dtype=np.int64)
            t = flat_tokens[:n * L].reshape(n, L)
            shard_labels.append(int(flat_tokens[-1]))
        elif layout == "megatron":
            got = read_megatron.read(base)
            assert got["dtype"] == m["token_dtype"] and len(got["sequences"]) == n
            assert all(len(x) == L for x in got["sequences"])
            t = np.array(got["sequences"], dtype=np.int64).reshape(n, L)
        elif layout == "llmc":
            raw = np.fromfile(base + ".bin", dtype=np.uint8)
            header = raw[:1024].view("<i4")
            if dt.itemsize == 2:
                assert header[0] == 20240520 and header[1] == 1, header[:3]
            else:
                assert header[0] == 20240801 and header[1] == 7, header[:3]
            assert header[2] == n * L + extra and len(raw) == 1024 + (n * L + extra) * dt.itemsize
            all_t = raw[1024:].view(dt).astype(np.int64)
            t = all_t[:n * L].reshape(n, L)
            if extra:
                shard_labels.append(int(all_t[-1]))
        elif layout == "flat" and v2:
            t = np.fromfile(base + ".tokens", dtype=dt).astype(np.int64).reshape(n, L)
            cu = np.fromfile(base + ".cu_seqlens", dtype="<i4")
            off = np.fromfile(base + ".cu_seqlens.offsets", dtype="<i8")
            assert len(off) == n + 1 and off[0] == 0 and off[-1] == len(cu) - 1
            assert np.all(np.diff(cu) > 0) and np.array_equal(cu[off], np.arange(n + 1) * L), "cu_seqlens"
            for s in range(n):
                cus.append(cu[off[s]:off[s + 1] + 1] - s * L)
            shard_cu.append((cu, off))
        elif layout == "flat":
            t = np.fromfile(base + ".tokens", dtype=dt).astype(np.int64).reshape(n, L)
            cu = np.fromfile(base + ".cu_seqlens.bin", dtype="<i4")
            ci = np.fromfile(base + ".cu_seqlens.idx", dtype="<i8")
            assert len(ci) == n + 1 and ci[-1] == len(cu)
            for s in range(n):
                c = cu[ci[s]:ci[s + 1]]
                assert c[0] == 0 and c[-1] == L and np.all(np.diff(c) > 0), c
                cus.append(c)
        else:
            path = base + (".jsonl.zst" if layout == "jsonl.zst" else ".jsonl")
            data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout if layout == "jsonl.zst" else open(path, "rb").read()
            rows = [json.loads(x) for x in data.decode().splitlines()]
            assert len(rows) == n
            for r in rows:
                assert list(r) == ["input_ids", "labels", "source"], list(r)
                assert len(r["input_ids"]) == L and isinstance(r["labels"], int)
                labels.append(r["labels"])
                sources.append([(x["source"], x["start"], x["end"]) for x in r["source"]])
            t = np.array([r["input_ids"] for r in rows], dtype=np.int64).reshape(n, L)
        toks.append(t)
    tokens = np.concatenate(toks) if toks else np.zeros((0, L), dtype=np.int64)
    assert tokens.shape[0] == m["sequences"]
    return {"manifest": m, "tokens": tokens, "spans": spans, "labels": labels, "sources": sources, "cu_seqlens": cus,
            "shard_labels": shard_labels, "shard_cu": shard_cu}


def read_spans(base, v2):
    sidx = np.fromfile(base + (".spans.offsets" if v2 else ".spans.idx"), dtype="<i8")
    srec = np.fromfile(base + (".spans" if v2 else ".spans.bin"), dtype=SPAN)
    return sidx, srec


def read_docs(d):
    """A `megatron-docs` output: one Megatron document per planned entry (EOS-terminated when the
    manifest's eos_id is set), in plan order, and one span per document."""
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    assert m["format"] == "longctx-packed" and m["layout"] == "megatron-docs"
    docs, spans = [], []
    for sh in m["shards"]:
        base = os.path.join(d, sh["name"])
        n = sh["sequences"]
        sidx, srec = read_spans(base, True)
        assert len(sidx) == n + 1 and sidx[-1] == len(srec) == n
        got = read_megatron.read(base)
        assert got["dtype"] == m["token_dtype"] and len(got["sequences"]) == n
        docs += [np.array(x, dtype=np.int64) for x in got["sequences"]]
        spans += [tuple(int(x) for x in r) for r in srec[["doc", "doc_offset", "start", "end", "domain"]]]
    return {"manifest": m, "documents": docs, "spans": spans}
