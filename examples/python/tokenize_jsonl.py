#!/usr/bin/python3
"""Tokenize a JSONL corpus from Python with longctx's encode_batch (all cores, the GIL released):
the ids Hugging Face tokenizers would give, at the C++ tokenizer's speed.

    /usr/bin/python3 examples/python/tokenize_jsonl.py --tokenizer tokenizer.json corpus.jsonl[.zst] \\
        --out ids.npy [--field text] [--batch 1024] [--threads 0]

Writes every document's ids back to back (uint16 when the vocabulary fits, else int32) in OUT and
the document boundaries in OUT.offsets.npy (int64, documents + 1), and prints documents, tokens and
MB/s. `.zst` input is read through the zstd tool.
"""
import argparse
import io
import json
import subprocess
import sys
import time

import numpy as np

import longctx


def lines(path):
    if path.endswith(".zst"):
        p = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        yield from io.TextIOWrapper(p.stdout, encoding="utf-8")
        if p.wait() != 0:
            sys.exit(f"{path}: zstd failed")
    else:
        with open(path, encoding="utf-8") as f:
            yield from f


def batches(path, field, size):
    texts = []
    for n, line in enumerate(lines(path), 1):
        if not line.strip():
            continue
        try:
            texts.append(json.loads(line)[field])
        except (ValueError, KeyError, TypeError):
            sys.exit(f"{path}:{n}: expected a JSON object with a string field \"{field}\"")
        if len(texts) == size:
            yield texts
            texts = []
    if texts:
        yield texts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--field", default="text")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    a = ap.parse_args()
    tok = longctx.Tokenizer.from_file(a.tokenizer)
    dtype = np.uint16 if tok.vocab_size < 65500 else np.int32
    chunks, lengths, nbytes, t0 = [], [], 0, time.time()
    for texts in batches(a.input, a.field, a.batch):
        nbytes += sum(len(t.encode("utf-8")) for t in texts)
        for e in tok.encode_batch(texts, threads=a.threads):
            chunks.append(np.asarray(e.ids, dtype=dtype))
            lengths.append(len(e.ids))
    dt = time.time() - t0
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype)
    np.save(a.out, ids)
    np.save(a.out.removesuffix(".npy") + ".offsets.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    print(f"{len(lengths)} documents, {len(ids)} tokens, {nbytes / 1e6 / dt:.1f} MB/s", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except longctx.Error as e:
        sys.exit(f"tokenize_jsonl.py: {e}")
