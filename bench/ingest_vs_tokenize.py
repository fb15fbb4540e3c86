#!/usr/bin/python3
"""Ingest speed and memory, against `longctx tokenize` on the same text, same run.

usage: bench/ingest_vs_tokenize.py [--build build] [--runs 5] [--copies 8] [--memory-gb 1.0]

Input: the default sample corpus (scripts/make_sample_corpus.py: SlimPajama-style .jsonl.zst, four
domains) repeated --copies times, as .jsonl.zst for ingest and as plain .jsonl for tokenize (the
same text). Both commands run as a user runs them (2 threads, tokenizer load included), wall
clock, back to back in each repetition; the table shows medians of throughput (text bytes per
second) and of the per-repetition ratio ingest / tokenize. The issue's target: ingest of .jsonl.zst
at >= 70% of tokenize's throughput.

Memory: one ingest of at least --memory-gb GB of text (the sample repeated, as .jsonl.zst) under
/usr/bin/time -v; prints the peak resident set size. Target: under 1 GB whatever the input size.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BUILD = arg("--build", os.path.join(ROOT, "build"))
RUNS = int(arg("--runs", 5))
COPIES = int(arg("--copies", 8))
MEMORY_GB = float(arg("--memory-gb", 1.0))
WORK = os.path.join(BUILD, "bench")
LONGCTX = os.path.join(BUILD, "longctx")
SAMPLE = os.path.join(ROOT, "out/sample/slimpajama_sample.jsonl.zst")


def sample_text():
    if not os.path.exists(SAMPLE):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts/make_sample_corpus.py"), ROOT, SAMPLE], check=True)
    return subprocess.run(["zstd", "-dc", SAMPLE], capture_output=True, check=True).stdout


def write_copies(data, copies, path, compress):
    if os.path.exists(path):
        return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        if compress:
            p = subprocess.Popen(["zstd", "-q", "-c", "-T2"], stdin=subprocess.PIPE, stdout=f)
            for _ in range(copies):
                p.stdin.write(data)
            p.stdin.close()
            p.wait()
        else:
            for _ in range(copies):
                f.write(data)
    os.rename(tmp, path)


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr.decode()}")
    return dt


def main():
    os.makedirs(WORK, exist_ok=True)
    data = sample_text()
    plain = os.path.join(WORK, f"sample_x{COPIES}.jsonl")
    zst = os.path.join(WORK, f"sample_x{COPIES}.jsonl.zst")
    write_copies(data, COPIES, plain, False)
    write_copies(data, COPIES, zst, True)
    # Text bytes = the same for both commands; measured as the JSONL size (the "text" fields are
    # nearly all of it, and the ratio does not depend on the choice).
    mb = os.path.getsize(plain) / 1e6
    store = os.path.join(WORK, "ingest_store")
    print(f"input: sample corpus x{COPIES}: {mb:.1f} MB of JSONL ({os.path.getsize(zst) / 1e6:.1f} MB as .jsonl.zst); "
          f"{RUNS} repetitions, 2 threads, wall clock incl. tokenizer load")
    print(f"{'tokenizer':<9} {'tokenize MB/s':>14} {'ingest MB/s':>12} {'ingest/tokenize':>16}")
    for name in ("llama2", "llama3"):
        tok = os.path.join(ROOT, "data/tokenizers", name, "tokenizer.json")
        t_tok, t_ing, ratios = [], [], []
        for _ in range(RUNS):
            a = timed([LONGCTX, "tokenize", "-q", "--threads", "2", "--tokenizer", tok, "--out", "/dev/null", plain])
            shutil.rmtree(store, ignore_errors=True)
            b = timed([LONGCTX, "ingest", "-q", "--threads", "2", "--tokenizer", tok, "--out", store, zst])
            t_tok.append(mb / a)
            t_ing.append(mb / b)
            ratios.append(a / b)
        print(f"{name:<9} {statistics.median(t_tok):>14.1f} {statistics.median(t_ing):>12.1f} {statistics.median(ratios):>15.2f}x"
              f"   (ratios {min(ratios):.2f}-{max(ratios):.2f})")
    shutil.rmtree(store, ignore_errors=True)

    if MEMORY_GB > 0:
        copies = int(MEMORY_GB * 1e9 / len(data)) + 1
        big = os.path.join(WORK, f"sample_x{copies}.jsonl.zst")
        write_copies(data, copies, big, True)
        tok = os.path.join(ROOT, "data/tokenizers/llama3/tokenizer.json")
        r = subprocess.run(["/usr/bin/time", "-v", LONGCTX, "ingest", "--threads", "2", "--tokenizer", tok, "--out", store, big],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", r.stderr).group(1)
        summary = [l for l in r.stderr.splitlines() if l.startswith("ingest:")][0]
        print(f"memory: ingest (llama3, 2 threads) of {copies * len(data) / 1e9:.2f} GB of JSONL "
              f"({os.path.getsize(big) / 1e9:.2f} GB .jsonl.zst): peak RSS {rss / 1024:.0f} MB, wall {wall}")
        print(f"  {summary}")
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
