#!/usr/bin/python3
"""`longctx ingest` / `merge` / `stats` as a user meets them, checked by independent means:

- every stored document's tokens equal Hugging Face tokenizers' ids for its text (tests/oracle/hf.mjs),
  read back with an independent stdlib reader (tests/store/read_store.py);
- the store is byte-identical for --threads 1 and 2, for 2 MPI ranks, for 2 array tasks merged,
  and for runs killed at checkpoints (and at random times) and rerun;
- bad lines are skipped and counted with file:line (fatal with --strict); truncated .zst/.gz stop
  with one line and leave no complete-looking store; a 50 MB document is handled;
- `stats --json` equals the statistics computed from the store by their definitions.

usage: test_ingest_cli.py ROOT BUILD   (BUILD/oracle/corpus.jsonl comes from the corpus fixture)
"""
import fcntl
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/store"))
import read_store  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
TOK = {n: os.path.join(ROOT, "data/tokenizers", n, "tokenizer.json") for n in ("llama2", "llama3")}
HF = ["node", os.path.join(ROOT, "tests/oracle/hf.mjs")]
CORPUS = os.path.join(BUILD, "oracle", "corpus.jsonl")
STORE_FILES = ("data.bin", "data.idx", "docs.bin", "manifest.json")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




def run(*args, env=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, env=env)


def files_of(store):
    out = {}
    for f in STORE_FILES:
        p = os.path.join(store, f)
        out[f] = open(p, "rb").read() if os.path.exists(p) else None
    return out


def same_store(name, a, b):
    fa, fb = files_of(a), files_of(b)
    diff = [f for f in STORE_FILES if fa[f] != fb[f] or fa[f] is None]
    check(name, not diff, f"files differ or are missing: {diff}")


def expect_error(name, args, message, store=None, env=None):
    r = run(*args, env=env)
    err = r.stderr.decode()
    one_line = err.count("\n") == 1 and err.endswith("\n")
    ok = r.returncode == 1 and one_line and message in err
    if store is not None:
        ok = ok and not os.path.exists(os.path.join(store, "manifest.json"))
    check(name, ok, f"rc={r.returncode} stderr={err!r}")


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    rng = random.Random(20240215)
    with open(CORPUS, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    texts = [t for t in texts if t]
    domains = ["RedPajamaC4", "RedPajamaBook", "RedPajamaGithub", "RedPajamaArXiv"]

    # Three JSONL inputs (plain, zstd with two frames, gzip) and a folder of text files. Bad lines
    # are mixed into the plain one; what we expect (texts in order, skips with file:line) is kept.
    expected_texts, expected_domains, expected_skips = [], [], []
    thirds = [texts[i::3] for i in range(3)]
    bad_lines = [
        (b'{"text": "unterminated', "invalid JSON"),
        (b'{"meta": {"redpajama_set_name": "RedPajamaC4"}}', 'no "text" field'),
        (b'{"text": 42}', '"text" is not a string'),
        (b'{"text": "caf\xe9 latin-1"}', "invalid UTF-8"),
        (b"", "blank line"),
        (b'{"text": ""}', "empty text"),
        (b'{"text": "ok", "meta": {"redpajama_set_name": 7}}', "domain is not a string"),
        (b'["text", "an array"]', "not a JSON object"),
    ]
    inputs = [J("a.jsonl"), J("b.jsonl.zst"), J("c.jsonl.gz")]
    for k, (path, part) in enumerate(zip(inputs, thirds)):
        lines = []
        for i, t in enumerate(part):
            if k == 0 and i % 97 == 5 and bad_lines:
                raw, reason = bad_lines.pop(0)
                lines.append(raw)
                expected_skips.append((path, len(lines), reason))
            rec = {"text": t}
            if i % 11 != 3:  # some documents have no domain field: domain "unknown"
                rec["meta"] = {"redpajama_set_name": domains[rng.randrange(len(domains))]}
            lines.append(json.dumps(rec, ensure_ascii=rng.random() < 0.5).encode())
            expected_texts.append(t)
            expected_domains.append(rec.get("meta", {}).get("redpajama_set_name", "unknown"))
        data = b"\n".join(lines) + b"\n"
        if path.endswith(".zst"):
            half = data.index(b"\n", len(data) // 2) + 1
            with open(path, "wb") as f:
                for chunk in (data[:half], data[half:]):
                    f.write(subprocess.run(["zstd", "-q", "-c"], input=chunk, capture_output=True, check=True).stdout)
        elif path.endswith(".gz"):
            with open(path, "wb") as f:
                f.write(gzip.compress(data, mtime=0))
        else:
            with open(path, "wb") as f:
                f.write(data)
    check("all bad-line kinds were placed", not bad_lines, bad_lines)
    folder = J("texts")
    docs_in_folder = {"books/moby.txt": "Call me Ishmael. " * 500, "code/hello.c": '#include <stdio.h>\nint main() { puts("hi"); }\n',
                      "code/zz.md": "# Notes\n\n* one\n* two\n"}
    for rel, t in docs_in_folder.items():
        os.makedirs(os.path.dirname(os.path.join(folder, rel)), exist_ok=True)
        with open(os.path.join(folder, rel), "w", encoding="utf-8") as f:
            f.write(t)
    os.makedirs(os.path.join(folder, ".hidden"))
    open(os.path.join(folder, ".hidden", "skip.txt"), "w").write("never read")
    open(os.path.join(folder, "books", "empty.txt"), "w").close()
    open(os.path.join(folder, "code", "latin1.txt"), "wb").write(b"caf\xe9\n")
    for rel in sorted(list(docs_in_folder) + ["books/empty.txt", "code/latin1.txt"]):
        path = os.path.join(folder, rel)
        if rel in docs_in_folder:
            expected_texts.append(docs_in_folder[rel])
            expected_domains.append(rel.split("/")[0])
        else:
            expected_skips.append((path, 0, "empty text" if "empty" in rel else "invalid UTF-8"))
    all_inputs = inputs + [folder]
    with open(J("expected.jsonl"), "w", encoding="utf-8") as f:
        for t in expected_texts:
            f.write(json.dumps({"text": t}) + "\n")

    # --- Hugging Face ids, through an independent reader, for a 16-bit and a 32-bit vocabulary.
    for name in ("llama2", "llama3"):
        store = J(f"store-{name}")
        r = run("ingest", "--threads", "2", "--tokenizer", TOK[name], "--out", store, *all_inputs)
        check(f"{name}: ingest exits 0", r.returncode == 0, r.stderr.decode())
        subprocess.run([*HF, "encode", TOK[name], J("expected.jsonl"), J(f"hf-{name}.ids"), "--plain-special"], check=True)
        with open(J(f"hf-{name}.ids")) as f:
            hf_ids = [json.loads(line) for line in f]
        data = read_store.read(store)
        m = data["manifest"]
        check(f"{name}: dtype", m["token_dtype"] == ("uint16" if name == "llama2" else "int32"), m["token_dtype"])
        check(f"{name}: document count", len(data["sequences"]) == len(hf_ids), (len(data["sequences"]), len(hf_ids)))
        bad = [i for i, (a, b) in enumerate(zip(data["sequences"], hf_ids)) if a != b]
        check(f"{name}: every document's tokens equal Hugging Face's ids", not bad, f"{len(bad)} differ, first {bad[:5]}")
        bad_chars = [i for i, (d, t) in enumerate(zip(data["docs"], expected_texts)) if d["chars"] != len(t)]
        check(f"{name}: chars per document = Python's len(text)", not bad_chars, bad_chars[:5])
        got_domains = [m["domains"][d["domain"]]["name"] for d in data["docs"]]
        check(f"{name}: domains (field, \"unknown\" when absent, folder names)", got_domains == expected_domains,
              [(i, a, b) for i, (a, b) in enumerate(zip(got_domains, expected_domains)) if a != b][:5])
        got_skips = [(s["input"], s["line"], s["reason"]) for s in m["skipped"]["lines"]]
        check(f"{name}: skipped lines listed with file:line and reason", got_skips == expected_skips, (got_skips, expected_skips))
        check(f"{name}: skip counts by reason", sum(m["skipped"]["reasons"].values()) == len(expected_skips), m["skipped"])
        paths = [i["path"] for i in m["inputs"]]
        check(f"{name}: inputs in order, folder expanded in byte order, hidden skipped",
              paths == inputs + [os.path.join(folder, p) for p in
                                 ["books/empty.txt", "books/moby.txt", "code/hello.c", "code/latin1.txt", "code/zz.md"]], paths)
        sizes_ok = all(i["bytes"] == os.path.getsize(i["path"]) for i in m["inputs"])
        xxh = shutil.which("xxhsum")
        check("xxhsum is installed (scripts/setup.sh installs xxhash)", xxh is not None)
        if xxh:
            hashes_ok = all(subprocess.run([xxh, "-H2", i["path"]], capture_output=True, text=True).stdout.split()[0] == i["xxh128"]
                            for i in m["inputs"])
            check(f"{name}: input hashes equal xxhsum -H2", hashes_ok)
        check(f"{name}: input sizes", sizes_ok)
        lines_a = open(inputs[0], "rb").read().count(b"\n")
        check(f"{name}: line count of an input", m["inputs"][0]["lines"] == lines_a, (m["inputs"][0]["lines"], lines_a))
        # stats --json against the definitions, computed here from the files.
        r = run("stats", "--json", store)
        check(f"{name}: stats --json exits 0", r.returncode == 0, r.stderr.decode())
        got = json.loads(r.stdout)
        want = read_store.stats(data)
        problems = []
        for dom, w in want.items():
            g = got["all"] if dom == "all" else got["domains"].get(dom)
            if g is None:
                problems.append(f"{dom} missing")
                continue
            if (g["documents"], g["tokens"]) != (w["documents"], w["tokens"]):
                problems.append(f"{dom} counts")
            if g["percentiles"] != w["percentiles"]:
                problems.append(f"{dom} percentiles {g['percentiles']} vs {w['percentiles']}")
            if abs(g["long_token_share"] - w["long_token_share"]) > 1e-12:
                problems.append(f"{dom} long share")
            shares = [w_ / w["tokens"] for w_ in w["bin_tokens"]]
            if any(abs(a - b) > 1e-12 for a, b in zip(g["bins"].values(), shares)) or len(g["bins"]) != len(shares):
                problems.append(f"{dom} bins")
        check(f"{name}: stats --json equals the statistics computed from the store", not problems, problems)
        check(f"{name}: stats totals", got["documents"] == len(hf_ids) and got["tokens"] == m["tokens"])

    # --- Byte-identical stores: threads, tasks + merge, MPI ranks, kill and resume (llama3: int32).
    ref = J("store-llama3")
    args = ["--tokenizer", TOK["llama3"], *all_inputs]
    r = run("ingest", "-q", "--threads", "1", "--out", J("t1"), *args)
    check("--threads 1 exits 0", r.returncode == 0, r.stderr.decode())
    same_store("--threads 1 and --threads 2 give byte-identical stores", J("t1"), ref)
    for tid in (1, 0):
        r = run("ingest", "-q", "--task-id", str(tid), "--num-tasks", "2", "--out", J("tasks"), *args)
        check(f"array task {tid} of 2 exits 0", r.returncode == 0, r.stderr.decode())
    check("array tasks write their stores under OUT/tasks", sorted(os.listdir(J("tasks", "tasks"))) == ["0-of-2", "1-of-2"])
    t0 = read_store.read(J("tasks", "tasks", "0-of-2"))["manifest"]
    t1 = read_store.read(J("tasks", "tasks", "1-of-2"))["manifest"]
    check("each task reads some inputs, together all once",
          len(t0["inputs"]) > 0 and len(t1["inputs"]) > 0 and
          sorted(i["index"] for i in t0["inputs"] + t1["inputs"]) == list(range(len(read_store.read(ref)["manifest"]["inputs"]))))
    expect_error("merge with a task missing", ["merge", "--out", J("bad-merge"), J("tasks", "tasks", "0-of-2")], "task 1 of 2 is missing",
                 store=J("bad-merge"))
    r = run("merge", J("tasks"))
    check("merge OUT exits 0", r.returncode == 0, r.stderr.decode())
    same_store("2 array tasks merged == one process", J("tasks"), ref)
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="3", SLURM_ARRAY_TASK_MIN="2", SLURM_ARRAY_TASK_COUNT="2")
    r = run("ingest", "-q", "--out", J("slurm"), *args, env=env)
    check("Slurm variables pick the task (ID - MIN of COUNT)", r.returncode == 0 and os.path.isdir(J("slurm", "tasks", "1-of-2")),
          r.stderr.decode())
    mpirun = shutil.which("mpirun")
    check("mpirun is installed (scripts/setup.sh installs openmpi-bin)", mpirun is not None)
    if mpirun:
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
        r = subprocess.run([mpirun, "-n", "2", LONGCTX, "ingest", "-q", "--threads", "1", "--out", J("mpi"), *args],
                           capture_output=True, env=env, timeout=600)
        check("mpirun -n 2 ingest exits 0", r.returncode == 0, r.stderr.decode()[-2000:])
        same_store("2 MPI ranks == one process", J("mpi"), ref)
        check("MPI run leaves no task stores behind", not os.path.exists(J("mpi", "tasks")))

    for kill_at in (1, 3, 8):
        out = J(f"killed-{kill_at}")
        env = dict(os.environ, LONGCTX_TEST_KILL_AFTER_CHECKPOINTS=str(kill_at))
        r = run("ingest", "-q", "--threads", "2", "--checkpoint-seconds", "0", "--out", out, *args, env=env)
        check(f"killed a few documents after checkpoint {kill_at}", r.returncode == -signal.SIGKILL and not os.path.exists(os.path.join(out, "manifest.json")),
              f"rc={r.returncode} {r.stderr.decode()}")
        r = run("ingest", "--threads", "1", "--checkpoint-seconds", "0", "--out", out, *args)
        check(f"rerun after kill {kill_at} resumes", r.returncode == 0 and b"(resumed)" in r.stderr, r.stderr.decode())
        same_store(f"killed at checkpoint {kill_at} and resumed == uninterrupted", out, ref)
    for attempt, delay in enumerate((0.15, 0.4)):
        out = J(f"timed-{attempt}")
        p = subprocess.Popen([LONGCTX, "ingest", "-q", "--checkpoint-seconds", "0", "--out", out, *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        r = run("ingest", "-q", "--out", out, *args)
        check(f"SIGKILL after {delay} s, rerun completes", r.returncode == 0, r.stderr.decode())
        same_store(f"SIGKILL after {delay} s and rerun == uninterrupted", out, ref)

    r = run("ingest", "--out", ref, *args)
    check("rerun on a complete store does nothing", r.returncode == 0 and b"already complete" in r.stderr, r.stderr.decode())
    expect_error("a complete store made with other arguments is refused", ["ingest", "--no-bos", "--out", ref, *args],
                 "already holds a store made with other arguments")
    partial = J("partial")
    env = dict(os.environ, LONGCTX_TEST_KILL_AFTER_CHECKPOINTS="1")
    run("ingest", "-q", "--checkpoint-seconds", "0", "--out", partial, *args, env=env)
    expect_error("an unfinished ingest with other arguments is refused", ["ingest", "--eos", "--out", partial, *args],
                 "unfinished ingest started with other arguments", store=partial)

    # --- Bad input.
    expect_error("--strict stops at the first bad line, naming file:line",
                 ["ingest", "--strict", "--tokenizer", TOK["llama2"], "--out", J("strict"), inputs[0]],
                 f"longctx: {inputs[0]}:{expected_skips[0][1]}: expected a JSON object, found invalid JSON", store=J("strict"))
    for tool, path in (("zstd", inputs[1]), ("gzip", inputs[2])):
        data = open(path, "rb").read()
        cut = J(f"cut-{os.path.basename(path)}")
        open(cut, "wb").write(data[: len(data) * 2 // 3])
        out = J(f"store-cut-{tool}")
        expect_error(f"truncated {tool} input: one line naming the file, no complete store",
                     ["ingest", "--tokenizer", TOK["llama2"], "--out", out, inputs[0], cut], f"longctx: {cut}: truncated {tool} data",
                     store=out)
        check(f"truncated {tool}: no store files in place", not any(os.path.exists(os.path.join(out, f)) for f in STORE_FILES))
    expect_error("missing input", ["ingest", "--tokenizer", TOK["llama2"], "--out", J("x"), J("nope.jsonl")],
                 f"longctx: {J('nope.jsonl')}: cannot read: no such file or folder")
    expect_error("bad --bins", ["stats", "--bins", "0,2K,1K", ref], "--bins 0,2K,1K: expected ascending edges")
    expect_error("stats on a folder that is not a store", ["stats", J("texts")], "not a complete longctx store")

    # --- One 50 MB document (one JSONL line): same ids as `longctx tokenize` (itself HF-checked).
    words = ["long", "context", "data", "engineering", "scales", "to", "128K", "tokens,", "and", "the", "needle", "is", "found."]
    big_text = " ".join(rng.choice(words) for _ in range(7_000_000))[: 50 * 1000 * 1000]
    with open(J("big.jsonl"), "w") as f:
        f.write(json.dumps({"text": big_text, "meta": {"redpajama_set_name": "RedPajamaBook"}}) + "\n")
    # A writer holds OUT/.partial/lock (flock) while it works; here the test holds it, so the
    # refusal is checked whatever the speed (a real first ingest of this document now ends in well
    # under a second, before a second process started after a fixed sleep would arrive).
    os.makedirs(J("big", ".partial"), exist_ok=True)
    with open(J("big", ".partial", "lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        expect_error("a second process writing the same store is refused",
                     ["ingest", "-q", "--tokenizer", TOK["llama2"], "--out", J("big"), J("big.jsonl")],
                     "another longctx process is writing this store")
    p = subprocess.run([LONGCTX, "ingest", "-q", "--tokenizer", TOK["llama2"], "--out", J("big"), J("big.jsonl")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check("a 50 MB document ingests (the lock released)", p.returncode == 0, p.stderr.decode())
    r2 = run("tokenize", "-q", "--tokenizer", TOK["llama2"], J("big.jsonl"))
    want = json.loads(r2.stdout)
    big = read_store.read(J("big"))
    check("the 50 MB document's tokens equal tokenize's", big["sequences"] == [want], f"{len(big['sequences'])} docs")
    del big, want, big_text

print("FAILED: " + ", ".join(failures) if failures else "all ingest checks passed")
sys.exit(1 if failures else 0)
