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

    # Every value is checked before any stage runs: one line naming the file and the key, exit 1,
    # and no stage output (the out folder is not even made).
    def bad_value(label, key, edit):
        c = json.load(open(config(J("bad-run"))))
        edit(c)
        path = J("bad-value.json")
        json.dump(c, open(path, "w"))
        r = run("prepare", path)
        err = r.stderr.decode()
        check(f"bad config value ({label}): exit 1, one line naming the file and {key}, nothing written",
              r.returncode == 1 and err.count("\n") == 1 and path in err and key in err and not os.path.exists(J("bad-run")), err)

    bad_value("seq_len 0", "pack.seq_len", lambda c: c["pack"].update(seq_len=0))
    bad_value("seq_len \"0K\"", "pack.seq_len", lambda c: c["pack"].update(seq_len="0K"))
    bad_value("threads -1", "threads", lambda c: c.update(threads=-1))
    bad_value("threads 1.5", "threads", lambda c: c.update(threads=1.5))
    bad_value("a negative size", "mix.tokens", lambda c: c["mix"].update(tokens=-5))
    bad_value("a negative size as text", "mix.tokens", lambda c: c["mix"].update(tokens="-5K"))
    bad_value("a non-integer size", "mix.long_threshold", lambda c: c["mix"].update(long_threshold=1.5))
    bad_value("a non-integer size as text", "mix.tokens", lambda c: c["mix"].update(tokens="1.3K"))
    bad_value("a size with an unknown suffix", "pack.seq_len", lambda c: c["pack"].update(seq_len="16X"))
    bad_value("an unknown key", "pack.seqlen", lambda c: c["pack"].update(seqlen="16K"))
    bad_value("an unknown top-level key", "outt", lambda c: c.update(outt="x"))
    bad_value("a string where a number belongs", "mix.keep_short", lambda c: c["mix"].update(keep_short="0.1"))
    bad_value("a number where a string belongs", "ingest.text_field", lambda c: c["ingest"].update(text_field=3))
    bad_value("a string where a bool belongs", "ingest.bos", lambda c: c["ingest"].update(bos="yes"))
    bad_value("keep_short out of range", "mix.keep_short", lambda c: c["mix"].update(keep_short=1.5))
    bad_value("max_repeat 0", "mix.max_repeat", lambda c: c["mix"].update(max_repeat=0))
    bad_value("a negative seed", "mix.seed", lambda c: c["mix"].update(seed=-1))
    bad_value("an unknown strategy", "mix.strategy", lambda c: c["mix"].update(strategy="per_source"))
    bad_value("cut:0", "mix.strategy", lambda c: c["mix"].update(strategy="cut:0"))
    bad_value("domain shares not summing to 1", "mix.domain_shares", lambda c: c["mix"].update(domain_shares="Book=0.5,Web=0.2"))
    bad_value("an unknown pack format", "pack.format", lambda c: c["pack"].update(format="parquet"))
    bad_value("align_docs without pad", "pack.align_docs", lambda c: c["pack"].update(align_docs=True))
    bad_value("a negative pad", "pack.pad", lambda c: c["pack"].update(pad=-2))
    bad_value("a negative checkpoint interval", "ingest.checkpoint_seconds", lambda c: c["ingest"].update(checkpoint_seconds=-1))
    bad_value("an empty input list", "ingest.inputs", lambda c: c["ingest"].update(inputs=[]))
    bad_value("eos without megatron-docs", "--eos", lambda c: c["pack"].update(eos=2))
    bad_value("batch_sequences with megatron-docs", "--batch-sequences", lambda c: c["pack"].update(format="megatron-docs", batch_sequences=4))
    bad_value("shard_sequences not a multiple of batch_sequences", "--shard-sequences",
              lambda c: c["pack"].update(format="llmc", batch_sequences=4, shard_sequences=6))
    bad_value("a negative eos", "pack.eos", lambda c: c["pack"].update(format="megatron-docs", eos=-3))

    # The Megatron document layout from prepare: no seq_len, an EOS after every document.
    docs_cfg = json.load(open(config(J("docs-run"))))
    docs_cfg["pack"] = {"format": "megatron-docs", "eos": 2}
    json.dump(docs_cfg, open(J("docs-run.json"), "w"))
    r = run("prepare", J("docs-run.json"))
    m = json.load(open(J("docs-run", "packed", "manifest.json"))) if r.returncode == 0 else {}
    check("prepare with pack format megatron-docs and eos: a verified document dataset",
          r.returncode == 0 and m.get("layout") == "megatron-docs" and m.get("eos_id") == 2
          and run("verify", J("docs-run", "packed")).returncode == 0, r.stderr.decode())
    r = run("prepare", J("docs-run.json"))
    check("prepare megatron-docs rerun: complete stages verified and kept", r.returncode == 0, r.stderr.decode())

    # One size grammar: the same text gives the same number in stats, mix, pack and prepare
    # (K = 1024, M = 10^6, Mi = 1024^2), read back from each command's JSON.
    sizes = config(J("sizes"), strategy="original", tokens="50K", long_threshold="1M")
    c = json.load(open(sizes))
    c["pack"]["seq_len"] = "3K"
    json.dump(c, open(sizes, "w"))
    r = run("prepare", sizes)
    check("prepare with sizes 1M and 3K exits 0", r.returncode == 0, r.stderr.decode())
    store = J("run", "store")
    got = {}
    for text, want in (("1M", 1_000_000), ("3K", 3072), ("1Mi", 1_048_576), ("1.5K", 1536), ("2048", 2048)):
        s = run("stats", store, "--json", "--long-threshold", text)
        m = run("mix", store, "--strategy", "original", "--tokens", "50K", "--seed", "1", "--long-threshold", text, "--out",
                J("p-" + text), "-q")
        p = run("pack", J("run", "plan"), "--seq-len", text, "--format", "flat", "--pad", "0", "--out", J("k-" + text), "-q")
        nums = (json.loads(s.stdout)["long_threshold"] if s.returncode == 0 else s.stderr.decode(),
                json.load(open(J("p-" + text, "plan.json")))["options"]["long_threshold"] if m.returncode == 0 else m.stderr.decode(),
                json.load(open(J("k-" + text, "manifest.json")))["seq_len"] if p.returncode == 0 else p.stderr.decode())
        check(f"size {text}: stats, mix and pack all read {want}", nums == (want, want, want), nums)
    pj = json.load(open(J("sizes", "plan", "plan.json")))["options"]["long_threshold"]
    kj = json.load(open(J("sizes", "packed", "manifest.json")))["seq_len"] if r.returncode == 0 else None
    check("size 1M / 3K: prepare reads 1000000 and 3072 (as stats, mix and pack)", (pj, kj) == (1_000_000, 3072), (pj, kj))
    r = run("stats", store, "--json", "--bins", "0,4K,1M,1Mi")
    labels = list(json.loads(r.stdout)["all"]["bins"]) if r.returncode == 0 else r.stderr.decode()
    check("stats bin labels read back in the same grammar (1M = 10^6, 1Mi = 1024K)", labels == ["0-4K", "4K-1M", "1M-1024K", "1024K+"],
          labels)

print("FAILED: " + ", ".join(failures) if failures else "all prepare checks passed")
sys.exit(1 if failures else 0)
