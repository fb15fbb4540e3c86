#!/usr/bin/python3
"""`train --data` and `eval-loss --data` read a bare .jsonl / .jsonl.zst file in the paper's
released schema (issue 20, item 4):

- pack --format jsonl (and jsonl.zst) writes the shards; training on the bare shard file gives
  the same log (step, loss, lr, grad_norm, tokens) as training on the pack folder, with and without
  --doc-mask (document boundaries come from the rows' spans);
- eval-loss on the bare file gives the pack folder's JSON except where documented: document
  lengths come from the spans ("length_source": "span"), so with one length bin every number is
  equal, and with several bins each domain's token total is;
- bad rows are one line `FILE:LINE: expected ..., found ...` and exit 1, for train and eval-loss.

usage: test_bare_jsonl.py ROOT BUILD
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")


def run(*args):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True)


def log_lines(path):
    keep = ("step", "loss", "lr", "grad_norm", "tokens")
    return [{k: d[k] for k in keep} for d in (json.loads(x) for x in open(path))]


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([SYNTH, J("store"), "7", "Book:40:0.5:5-40:60-200", "Web:120:0.1:5-30:41-90"], check=True, capture_output=True)
    r = run("mix", J("store"), "--strategy", "original", "--tokens", "5K", "--seed", "5", "-o", J("plan"), "-q")
    check("mix", r.returncode == 0, r.stderr)
    for fmt in ("jsonl", "jsonl.zst"):
        r = run("pack", J("plan"), "--seq-len", "64", "--format", fmt, "--out", J("packed-" + fmt), "--shard-sequences", "40", "-q")
        check(f"pack --format {fmt}", r.returncode == 0, r.stderr)
    # The bare files: the shards, concatenated in the manifest's order (zstd frames concatenate too).
    bare = {}
    for fmt in ("jsonl", "jsonl.zst"):
        man = json.load(open(J("packed-" + fmt, "manifest.json")))
        names = [f for sh in man["shards"] for f in sh["files"] if f.endswith("." + fmt)]
        check(f"{fmt}: several shards (the concatenation is tested)", len(names) > 1, names)
        bare[fmt] = J("all." + fmt)
        with open(bare[fmt], "wb") as out:
            for n in names:
                out.write(open(J("packed-" + fmt, n), "rb").read())
    single = glob.glob(J("packed-jsonl", "*.jsonl"))[0]  # one shard file, as the paper's release ships them

    config = {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
              "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
    json.dump(config, open(J("config.json"), "w"))
    common = ["--config", J("config.json"), "--steps", "3", "--batch-tokens", "256", "--lr", "1e-3", "--quiet", "--threads", "2"]
    for extra in ([], ["--doc-mask"]):
        tag = "doc-mask" if extra else "plain"
        logs = {}
        for name, data in (("dir", J("packed-jsonl")), ("bare", bare["jsonl"]), ("bare-zst", bare["jsonl.zst"])):
            out = J(f"t-{tag}-{name}")
            r = run("train", "--data", data, "--out", out, "--log", out + ".log", *common, *extra)
            check(f"train {tag} on {name} exits 0", r.returncode == 0, r.stderr)
            logs[name] = log_lines(out + ".log") if r.returncode == 0 else None
        check(f"train {tag}: the bare .jsonl file gives the pack folder's log", logs["bare"] == logs["dir"] and logs["dir"],
              (logs["bare"], logs["dir"]))
        check(f"train {tag}: the bare .jsonl.zst file gives the pack folder's log", logs["bare-zst"] == logs["dir"])
    r = run("train", "--data", single, "--out", J("t-single"), *common)
    check("train on one shard file as it is", r.returncode == 0, r.stderr)

    model = J("t-plain-dir")
    for bins in ("0", "0,16,64,128"):
        r_dir = run("eval-loss", "--model", model, "--data", J("packed-jsonl"), "--bins", bins, "--positions", "16,32", "--json")
        r_bare = run("eval-loss", "--model", model, "--data", bare["jsonl.zst"], "--bins", bins, "--positions", "16,32", "--json")
        check(f"eval-loss --bins {bins}: exits 0 on both", r_dir.returncode == 0 and r_bare.returncode == 0, r_dir.stderr + r_bare.stderr)
        if r_dir.returncode or r_bare.returncode:
            continue
        a, b = json.loads(r_dir.stdout), json.loads(r_bare.stdout)
        check(f"eval-loss --bins {bins}: length_source store (folder) / span (bare file)",
              a["length_source"] == "store" and b["length_source"] == "span", (a["length_source"], b["length_source"]))
        check(f"eval-loss --bins {bins}: the same loss, tokens, sequences and positions",
              all(a[k] == b[k] for k in ("loss", "tokens", "sequences", "positions")), (a, b))
        check(f"eval-loss --bins {bins}: the same domains", set(a["domains"]) == set(b["domains"]) == {"Book", "Web"}, (a, b))
        if bins == "0":
            check("eval-loss, one bin: per-domain results identical", a["domains"] == b["domains"], (a["domains"], b["domains"]))
        else:
            tot = lambda d: {k: sum(c["tokens"] for c in v.values()) for k, v in d["domains"].items()}  # noqa: E731
            check("eval-loss, several bins: each domain's token total identical", tot(a) == tot(b), (tot(a), tot(b)))
    r = run("eval-loss", "--help")
    check("eval-loss --help says what a bare file's bins mean", "span" in r.stdout and "jsonl" in r.stdout, r.stdout)

    # Bad rows: one line FILE:LINE: expected ..., found ...; exit 1.
    good = open(single).read().splitlines()
    row = json.loads(good[0])
    L = len(row["input_ids"])

    def variant(**kw):
        d = json.loads(good[0])
        d.update(kw)
        return json.dumps(d)

    cases = [
        ("a shorter row", [good[0], good[1], variant(input_ids=row["input_ids"][:-1])], 3, [f"{L} ids (as line 1)", f"found {L - 1} ids"]),
        ("a negative id", [good[0], variant(input_ids=[-3] + row["input_ids"][1:])], 2, ["input_ids[0]", "found -3"]),
        ("an id of 2^32", [variant(input_ids=row["input_ids"][:5] + [2**32] + row["input_ids"][6:])], 1, ["input_ids[5]", "found 4294967296"]),
        ("a string id", [variant(input_ids=["7"] + row["input_ids"][1:])], 1, ["input_ids[0]", 'found the string "7"']),
        ("not an object", [good[0], "[1, 2, 3]"], 2, ["a JSON object", "found an array"]),
        ("invalid JSON", [good[0], good[1][:-5]], 2, ["a JSON object", "invalid JSON"]),
        ("no input_ids", [json.dumps({"labels": 3})], 1, ["input_ids", "found no"]),
        ("an empty line", [good[0], "", good[1]], 2, ["found an empty line"]),
        ("labels of another length", [variant(labels=[1] * (L - 2))], 1, ["labels", f"found {L - 2} ids"]),
        ("labels a string", [variant(labels="x")], 1, ["labels", 'found the string "x"']),
        ("a span past the row", [variant(source=[{"source": "A", "start": 0, "end": L + 1}])], 1, [f"start < end <= {L}", f"end {L + 1}"]),
        ("an empty span", [variant(source=[{"source": "A", "start": 5, "end": 5}])], 1, ["start < end", "start 5, end 5"]),
        ("overlapping spans", [variant(source=[{"source": "A", "start": 0, "end": 10}, {"source": "B", "start": 8, "end": 20}])], 1,
         ["source[1]", "previous span's end 10", "found start 8"]),
        ("a span without a name", [variant(source=[{"start": 0, "end": 10}])], 1, ["source[0].source", "found no"]),
        ("source not an array", [variant(source={"source": "A"})], 1, ["\"source\" an array", "found an object"]),
        ("an empty file", [], 1, ["found an empty file"]),
    ]
    for i, (what, lines, line_no, words) in enumerate(cases):
        path = J(f"bad{i}.jsonl")
        open(path, "w").write("".join(x + "\n" for x in lines))
        for cmd in (["train", "--data", path, "--out", J(f"bad-out{i}"), *common], ["eval-loss", "--model", model, "--data", path]):
            r = run(*cmd)
            line = r.stderr.strip()
            ok = r.returncode == 1 and "\n" not in line and f"{path}:{line_no}: expected " in line and all(w in line for w in words)
            check(f"{cmd[0]}, {what}: one line {os.path.basename(path)}:{line_no}: expected ..., found ...; exit 1", ok, (r.returncode, line))
        check(f"train, {what}: nothing written", not os.path.exists(J(f"bad-out{i}")))
    # A corrupt .zst: the byte source's one line.
    raw = open(bare["jsonl.zst"], "rb").read()
    open(J("trunc.jsonl.zst"), "wb").write(raw[: len(raw) // 2])
    r = run("train", "--data", J("trunc.jsonl.zst"), "--out", J("bad-zst"), *common)
    check("a truncated .jsonl.zst: one line naming the file, exit 1",
          r.returncode == 1 and "trunc.jsonl.zst" in r.stderr and "\n" not in r.stderr.strip(), r.stderr)
    r = run("train", "--data", J("missing.jsonl"), "--out", J("bad-missing"), *common)
    check("a missing .jsonl: one line naming it, exit 1", r.returncode == 1 and "missing.jsonl" in r.stderr, r.stderr)

print("FAILED: " + ", ".join(failures) if failures else "all bare-jsonl checks passed")
sys.exit(1 if failures else 0)
