#!/usr/bin/python3
"""OpenBLAS is loaded when a GEMM first needs it, not when longctx starts (src/model/blas.cpp):
data commands run in one process (no re-execution) that never maps libopenblas, and a model
command loads it and works. Seen through the dynamic linker's own log (LD_DEBUG=libs), which
names every library it loads and every program it starts.

usage: test_blas_loading.py ROOT BUILD
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402
from tiny_checkpoint import LLAMA, weights, write_safetensors  # noqa: E402

CONFIG = dict(LLAMA, vocab_size=512)


def traced(*args):
    """Runs longctx with the loader's log on; returns (result, programs started, OpenBLAS loaded)."""
    env = dict(os.environ, LD_DEBUG="libs")
    env.pop("LONGCTX_BLAS_SET", None)
    r = subprocess.run([LONGCTX, *args], capture_output=True, text=True, timeout=300, env=env)
    starts = r.stderr.count("initialize program:")
    return r, starts, "libopenblas" in r.stderr


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    with open(J("in.jsonl"), "w") as f:
        for i in range(20):
            f.write(json.dumps({"text": f"Document {i}: the quick brown fox jumps over the lazy dog."}) + "\n")
    tok = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")
    for name, args in [("--version", ["--version"]),
                       ("tokenize", ["tokenize", "--tokenizer", tok, "-o", J("ids.jsonl"), J("in.jsonl")]),
                       ("ingest", ["ingest", "--tokenizer", tok, "--out", J("store"), "--domain", "A", J("in.jsonl")]),
                       ("stats", ["stats", J("store")])]:
        r, starts, blas = traced(*args)
        check(f"{name}: exits 0", r.returncode == 0, r.stderr[-2000:])
        check(f"{name}: one process start (no re-execution)", starts == 1, f"{starts} starts")
        check(f"{name}: OpenBLAS never loaded", not blas)

    os.makedirs(J("model"))
    with open(J("model", "config.json"), "w") as f:
        json.dump(CONFIG, f)
    write_safetensors(J("model", "model.safetensors"), weights(CONFIG, np.random.default_rng(1)))
    r, starts, blas = traced("generate", "--model", J("model"), "--prompt-ids", "1,2,3", "--max-new-tokens", "4", "--json",
                             "--ignore-eos")
    check("generate: exits 0", r.returncode == 0, r.stderr[-2000:])
    check("generate: OpenBLAS loaded for its GEMMs", blas)
    plain = subprocess.run([LONGCTX, "generate", "--model", J("model"), "--prompt-ids", "1,2,3", "--max-new-tokens", "4",
                            "--json", "--ignore-eos"], capture_output=True, text=True, timeout=300)
    check("generate: the same tokens without the loader's log", plain.returncode == 0 and plain.stdout == r.stdout,
          (plain.stdout, r.stdout))

print(f"{len(failures)} failure(s)" if failures else "all OpenBLAS-loading checks passed")
sys.exit(1 if failures else 0)
