#!/usr/bin/python3
"""Memory per document (issue 15, item 3): ingest, stats, mix and pack on corpora of many small
documents, at two sizes, with every process's peak anonymous memory (RssAnon: what it allocated;
memory-mapped inputs are page cache and not counted) sampled from /proc every 2 ms (bench/peak_mem.py). What a command
needs per document is the slope between the two sizes, so the fixed cost (tokenizer, buffers,
threads) drops out:

- mix: at most 32 bytes a document, what README states (per-source and original);
- ingest and stats stream: at most 4 bytes a document (a per-document array of offsets or lengths
  would be 8 or more; what sampling misses of short peaks, a few MB, is under 3 bytes a document
  at these sizes);
- pack reads the plan's entries (16 bytes each) and keeps an order over them: at most 32 bytes a
  planned entry, for an original plan of half the store and a per-source plan.

And the commands finish under a data-size limit (`prlimit --data`): OpenBLAS, which longctx links
for its model code, used to start a worker thread that allocated 128 MB at load and retried
forever when that failed, so every command hung at exit.

Skipped (exit 77) in sanitizer builds, whose shadow memory and quarantine make RSS meaningless.
usage: test_memory_per_doc.py ROOT BUILD [--sanitized]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
if "--sanitized" in sys.argv[3:]:
    print("skipped: RSS is not meaningful under sanitizers")
    sys.exit(77)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from checklist import check, failures  # noqa: E402
from peak_mem import peak  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
TOKENIZER = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")
SMALL, LARGE = 200_000, 3_000_000


def peak_anon(cmd):
    """(peak RssAnon of the process in bytes, seconds); fails the test on a non-zero exit. Its
    threads share the one figure; the commands here start no processes."""
    r = peak(cmd, interval=0.002, whole_tree=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {r['rc']}: {r['proc'].stderr.read().decode(errors='replace')}")
    return r["anon_bytes"], r["seconds"]


def slope(name, cmd_for, docs_for, bound):
    """cmd_for(size) -> argv; docs_for(size) -> the count the bound is per. Checks the slope."""
    (a0, t0), (a1, t1) = peak_anon(cmd_for(SMALL)), peak_anon(cmd_for(LARGE))
    n0, n1 = docs_for(SMALL), docs_for(LARGE)
    per = (a1 - a0) / (n1 - n0)
    print(f"  {name}: {n0:,} -> {a0 / 2**20:.1f} MB ({t0:.1f} s), {n1:,} -> {a1 / 2**20:.1f} MB ({t1:.1f} s): "
          f"{per:.2f} bytes each", flush=True)
    check(f"{name}: {per:.2f} bytes each (at most {bound})", per <= bound, f"{a0} -> {a1} bytes")


with tempfile.TemporaryDirectory(prefix="longctx-mem-") as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    words = ["the", "of", "river", "data", "x = 1;", "Über", "naïve", "42", "model", "context"]
    for n in (SMALL, LARGE):
        # JSONL of n tiny documents (1-3 words) in two domains, for ingest.
        block = "".join(json.dumps({"text": " ".join(words[(i * 7 + k) % len(words)] for k in range(1 + i % 3)),
                                    "meta": {"redpajama_set_name": "AB"[i % 2]}}) + "\n" for i in range(100))
        with open(J(f"c{n}.jsonl"), "w") as f:
            f.write(block * (n // 100))
        # A store of n documents: 1% of 500-900 tokens, the rest 3-12 tokens.
        subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), J(f"s{n}"), "3", f"A:{n // 2}:0.01:3-12:500-900",
                        f"B:{n - n // 2}:0.01:3-12:500-900"], check=True, stdout=subprocess.DEVNULL)
    tokens = {n: json.load(open(J(f"s{n}", "manifest.json")))["tokens"] for n in (SMALL, LARGE)}

    print("peak anonymous memory per document (slope between two sizes):")

    def ingest(n):
        shutil.rmtree(J(f"i{n}"), ignore_errors=True)
        return [LONGCTX, "ingest", J(f"c{n}.jsonl"), "--tokenizer", TOKENIZER, "-o", J(f"i{n}"), "--threads", "2", "-q"]

    slope("ingest (2 threads)", ingest, lambda n: n, 4)
    slope("stats", lambda n: [LONGCTX, "stats", J(f"s{n}"), "--json"], lambda n: n, 4)

    def mix(strategy):
        # per-source keeps a tenth of these "short" documents; original is asked for half the
        # store, so that pack below has a plan of many entries.
        def cmd(n):
            shutil.rmtree(J(f"p-{strategy}-{n}"), ignore_errors=True)
            part = 20 if strategy == "per-source" else 2
            return [LONGCTX, "mix", J(f"s{n}"), "--strategy", strategy, "--tokens", str(tokens[n] // part), "--seed", "1",
                    "-o", J(f"p-{strategy}-{n}"), "-q"]
        return cmd

    for strategy in ("per-source", "original"):
        slope(f"mix {strategy}", mix(strategy), lambda n: n, 32)

    def entries(strategy):
        return lambda n: os.path.getsize(J(f"p-{strategy}-{n}", "entries.bin")) // 16

    def pack(strategy):
        def cmd(n):
            shutil.rmtree(J(f"k-{strategy}-{n}"), ignore_errors=True)
            return [LONGCTX, "pack", J(f"p-{strategy}-{n}"), "--seq-len", "8K", "--format", "megatron", "-o",
                    J(f"k-{strategy}-{n}"), "--threads", "2", "-q"]
        return cmd

    for strategy in ("per-source", "original"):
        slope(f"pack megatron ({strategy} plan, per planned entry)", pack(strategy), entries(strategy), 32)

    # Under a data-size limit far below OpenBLAS's 128 MB buffer: finishes (it hung before).
    limit = 96 << 20
    for name, argv in [("stats", [LONGCTX, "stats", J(f"s{SMALL}"), "--json"]),
                       ("mix", mix("per-source")(SMALL))]:
        try:
            r = subprocess.run(["prlimit", f"--data={limit}", *argv], capture_output=True, timeout=120)
            check(f"{name} under a {limit >> 20} MB data limit exits 0", r.returncode == 0, r.stderr.decode()[-500:])
        except subprocess.TimeoutExpired:
            check(f"{name} under a {limit >> 20} MB data limit finishes", False, "still running after 120 s")

sys.exit(1 if failures else 0)
