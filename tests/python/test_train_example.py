#!/usr/bin/python3
"""examples/python/ against the C++ pipeline:

- train_packed.py (a plain PyTorch loop on longctx.PackedDataset, document masking through
  restarted position ids) gives `longctx train`'s losses within 1e-4 for 3 AdamW steps from the
  same weights on the same batches, with and without document masking;
- tokenize_jsonl.py (encode_batch, 2 threads) writes the ids `longctx tokenize` writes.

usage: test_train_example.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch and numpy)
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
import torch_llama  # noqa: E402
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")
ENV = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "python"))


def run(*args):
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, env=ENV)


def losses(path):
    return [json.loads(line)["loss"] for line in open(path)] if os.path.exists(path) else []


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([SYNTH, J("store"), "3", "A:400:0.2:5-40:41-150", "B:300:0.5:5-40:41-150"], check=True, capture_output=True)
    run(LONGCTX, "mix", J("store"), "--strategy", "original", "--tokens", "12K", "--seed", "5", "-o", J("plan"), "-q")
    r = run(LONGCTX, "pack", J("plan"), "--seq-len", "64", "--format", "flat", "--out", J("packed"), "-q")
    check("pack flat L=64", r.returncode == 0, r.stderr)
    small = {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "tie_word_embeddings": False}
    torch_llama.write_checkpoint(J("init"), small, seed=9, scale=0.08)
    STEPS, B = 3, 4
    for mask in (True, False):
        tag = "document masking" if mask else "plain causal"
        r = run(LONGCTX, "train", "--data", J("packed"), "--init", J("init"), "--lr", "3e-3", "--weight-decay", "0.1", "--clip", "0",
                "--schedule", "constant", "--warmup", "0", "--beta1", "0.9", "--beta2", "0.95", "--eps", "1e-8",
                "--batch-tokens", B * 64, "--micro-batch", B, *(["--doc-mask"] if mask else []), "--rope-theta", "40000",
                "--steps", STEPS, "--no-shuffle", "--threads", "2", "--quiet", "--out", J(f"run{mask}"), "--log", J(f"cpp{mask}.log"))
        check(f"{tag}: longctx train exits 0", r.returncode == 0, r.stderr)
        r = run("/usr/bin/python3", os.path.join(ROOT, "examples/python/train_packed.py"), "--data", J("packed"), "--model", J("init"),
                "--steps", STEPS, "--batch", B, "--lr", "3e-3", "--weight-decay", "0.1", "--beta2", "0.95", "--rope-theta", "40000",
                *([] if mask else ["--no-doc-mask"]), "--threads", "2", "--log", J(f"py{mask}.log"))
        check(f"{tag}: train_packed.py exits 0", r.returncode == 0, r.stderr[-2000:])
        a, b = losses(J(f"cpp{mask}.log")), losses(J(f"py{mask}.log"))
        diff = max((abs(x - y) for x, y in zip(a, b)), default=float("inf"))
        check(f"{tag}: {STEPS} AdamW steps, train_packed.py's losses = longctx train's within 1e-4 (max diff {diff:.1e})",
              len(a) == len(b) == STEPS and diff < 1e-4, (a, b))
        # The agreement covers the updates: without them (lr 0) the later losses are other ones.
        r = run("/usr/bin/python3", os.path.join(ROOT, "examples/python/train_packed.py"), "--data", J("packed"), "--model", J("init"),
                "--steps", STEPS, "--batch", B, "--lr", "0", "--rope-theta", "40000", *([] if mask else ["--no-doc-mask"]),
                "--threads", "2", "--log", J(f"frozen{mask}.log"))
        c = losses(J(f"frozen{mask}.log"))
        check(f"{tag}: the steps train (step {STEPS} differs from the frozen model's loss by > 1e-3)",
              len(c) == STEPS and len(b) == STEPS and abs(c[-1] - b[-1]) > 1e-3, (b, c))

    # tokenize_jsonl.py = longctx tokenize.
    tokjson = os.path.join(ROOT, "data/tokenizers/llama3/tokenizer.json")
    with open(J("docs.jsonl"), "w", encoding="utf-8") as f:
        for k in range(300):
            f.write(json.dumps({"text": f"Line {k}: naïve café — {'x' * (k % 13)} def f(x):\n    return x**{k}"}) + "\n")
    r = run("/usr/bin/python3", os.path.join(ROOT, "examples/python/tokenize_jsonl.py"), J("docs.jsonl"), "--tokenizer", tokjson,
            "--out", J("ids.npy"), "--batch", "64", "--threads", "2")
    check("tokenize_jsonl.py exits 0", r.returncode == 0, r.stderr)
    r2 = run(LONGCTX, "tokenize", "--tokenizer", tokjson, J("docs.jsonl"), "-o", J("ids.jsonl"))
    want = [json.loads(line) for line in open(J("ids.jsonl"))] if r2.returncode == 0 else []
    if os.path.exists(J("ids.npy")):
        ids, off = np.load(J("ids.npy")), np.load(J("ids.offsets.npy"))
        got = [ids[off[i]:off[i + 1]].tolist() for i in range(len(off) - 1)]
        check("tokenize_jsonl.py: the ids `longctx tokenize` writes", got == want and len(got) == 300, (len(got), len(want)))

sys.exit(1 if failures else 0)
