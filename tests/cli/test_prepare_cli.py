#!/usr/bin/python3
"""`longctx prepare CONFIG`: the whole pipeline from one file, resumable.

- a run writes store, plan, packed output, stats.json, report.json and report.html, and `verify`
  accepts each output; report.json carries the plan's Figure-2 numbers;
- rerunning the same config changes nothing (every file byte-identical) and says so;
- a run killed inside ingest and rerun ends byte-identical to an uninterrupted one;
- an unknown key, or a stage made with other settings, stops with one line and exit 1.

usage: test_prepare_cli.py ROOT BUILD   (BUILD/oracle/corpus.jsonl comes from the corpus fixture)
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
LONGCTX = os.path.join(BUILD, "longctx")
CORPUS = os.path.join(BUILD, "oracle", "corpus.jsonl")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




def run(*args, env=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, env=env)


def snapshot(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = open(p, "rb").read()
    return out


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    with open(CORPUS, encoding="utf-8") as f, open(J("in.jsonl"), "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            t = json.loads(line)["text"]
            if t:
                g.write(json.dumps({"text": t, "meta": {"redpajama_set_name": ["Book", "Web", "Code"][i % 3]}}) + "\n")

    def config(out, **mix):
        c = {"out": out, "threads": 2,
             "ingest": {"tokenizer": os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json"), "inputs": [J("in.jsonl")],
                        "checkpoint_seconds": 0},
             "mix": {"strategy": "per-source", "tokens": "500K", "seed": 3, "max_repeat": 20, **mix},
             "pack": {"seq_len": "16K", "format": "jsonl.zst"}}
        path = J(os.path.basename(out) + ".json")
        json.dump(c, open(path, "w"))
        return path

    cfg = config(J("run"))
    r = run("prepare", cfg)
    check("prepare exits 0", r.returncode == 0, r.stderr.decode())
    for part in ("store", "plan", "packed"):
        v = run("verify", J("run", part))
        check(f"verify {part}", v.returncode == 0, v.stderr.decode())
    for f in ("stats.json", "report.json", "report.html"):
        check(f"{f} written", os.path.getsize(J("run", f)) > 0)
    plan = json.load(open(J("run", "plan", "plan.json")))
    rep = json.load(open(J("run", "report.json")))
    check("report.json carries the plan's Figure-2 numbers", rep["figure2"] == plan["figure2"])
    check("report.html holds the Figure-2 charts", open(J("run", "report.html")).read().count('class="figure2"') == 2)
    before = snapshot(J("run"))
    r = run("prepare", cfg)
    check("rerun exits 0 and reports the stages done", r.returncode == 0 and b"is complete" in r.stderr and b"up to date" in r.stderr,
          r.stderr.decode())
    check("rerun changes no byte", snapshot(J("run")) == before)

    cfg2 = config(J("killed"))
    env = dict(os.environ, LONGCTX_TEST_KILL_AFTER_CHECKPOINTS="3")
    r = run("prepare", cfg2, env=env)
    check("prepare killed inside ingest", r.returncode == -signal.SIGKILL and not os.path.exists(J("killed", "plan")), r.returncode)
    r = run("prepare", cfg2)
    check("rerun after the kill exits 0", r.returncode == 0, r.stderr.decode())
    a, b = snapshot(J("run")), snapshot(J("killed"))
    same = all(a[k] == b.get(k) for k in a if k.startswith(("store/", "plan/entries", "packed/part", "stats")))
    check("killed and resumed == uninterrupted (store, plan entries, packed shards, stats)", same and len(a) == len(b),
          sorted(set(a) ^ set(b)))

    bad = json.load(open(cfg))
    bad["mix"]["strateggy"] = "global"
    json.dump(bad, open(J("bad.json"), "w"))
    r = run("prepare", J("bad.json"))
    err = r.stderr.decode()
    check("unknown config key: one line naming it", r.returncode == 1 and err.count("\n") == 1 and "mix.strateggy" in err, err)
    r = run("prepare", config(J("run"), seed=4))
    err = r.stderr.decode()
    check("changed mix settings: the old plan is refused, not overwritten",
          r.returncode == 1 and "holds a plan made with other settings" in err and snapshot(J("run")) == before, err)

print("FAILED: " + ", ".join(failures) if failures else "all prepare checks passed")
sys.exit(1 if failures else 0)
