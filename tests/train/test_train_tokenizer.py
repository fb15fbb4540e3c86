#!/usr/bin/python3
"""A trained model carries the tokenizer it was trained with (issue 13, item 3):

- `train --init DIR` copies DIR's tokenizer files into every checkpoint and the final model, byte
  for byte, and `generate --prompt` works on the fresh checkpoint;
- `train --config C --tokenizer T` (a tokenizer.json or a folder) does the same for a new model;
- a tokenizer with more ids than the model's vocab_size, or a --tokenizer that does not exist, is
  one line and exit 1, before anything is written.

usage: test_train_tokenizer.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import torch_llama  # noqa: E402
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")
LLAMA2 = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")  # 32,000 ids
LLAMA3 = os.path.join(ROOT, "data/tokenizers/llama3/tokenizer.json")  # 128,256 ids
if not os.path.exists(LLAMA2) or not os.path.exists(LLAMA3):
    sys.exit("tokenizers missing: run `make setup` (data/tokenizers/llama2, llama3)")


def run(*args):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([SYNTH, J("store"), "3", "A:200:0.2:5-40:41-150"], check=True, capture_output=True)
    r = run("mix", J("store"), "--strategy", "original", "--tokens", "4K", "--seed", "5", "-o", J("plan"), "-q")
    check("mix", r.returncode == 0, r.stderr)
    r = run("pack", J("plan"), "--seq-len", "64", "--format", "flat", "--out", J("packed"), "-q")
    check("pack", r.returncode == 0, r.stderr)
    config = {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
              "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
    torch_llama.write_checkpoint(J("init"), config, seed=3, scale=0.05)
    shutil.copy(LLAMA2, J("init", "tokenizer.json"))
    extra = {"add_bos_token": True, "tokenizer_class": "LlamaTokenizerFast"}
    json.dump(extra, open(J("init", "tokenizer_config.json"), "w"))
    want = open(LLAMA2, "rb").read()
    common = ["--data", J("packed"), "--steps", "2", "--batch-tokens", "128", "--save-every", "1", "--quiet"]

    r = run("train", *common, "--init", J("init"), "--out", J("a"))
    check("train --init exits 0", r.returncode == 0, r.stderr)
    for where in ("a", "a/checkpoint-2"):
        got = open(J(where, "tokenizer.json"), "rb").read() if os.path.exists(J(where, "tokenizer.json")) else None
        check(f"{where}: tokenizer.json copied byte for byte from --init", got == want)
        got = json.load(open(J(where, "tokenizer_config.json"))) if os.path.exists(J(where, "tokenizer_config.json")) else None
        check(f"{where}: tokenizer_config.json copied", got == extra, got)
    r = run("generate", "--model", J("a"), "--prompt", "Once upon a time", "--max-new-tokens", "4", "--json")
    out = json.loads(r.stdout) if r.returncode == 0 else {}
    check("generate --prompt works on the trained model (its own tokenizer)", r.returncode == 0 and len(out.get("ids", [])) == 4,
          r.stderr)

    json.dump({"architectures": ["LlamaForCausalLM"], **config}, open(J("config.json"), "w"))
    for name, tok in (("file", LLAMA2), ("folder", os.path.dirname(LLAMA2))):
        r = run("train", *common, "--config", J("config.json"), "--tokenizer", tok, "--out", J("b-" + name))
        check(f"train --config --tokenizer ({name}) exits 0", r.returncode == 0, r.stderr)
        got = open(J("b-" + name, "tokenizer.json"), "rb").read() if os.path.exists(J("b-" + name, "tokenizer.json")) else None
        check(f"--tokenizer {name}: tokenizer.json in the final model", got == want)
        r = run("generate", "--model", J("b-" + name, "checkpoint-2"), "--prompt", "Hello", "--max-new-tokens", "2", "--json")
        check(f"--tokenizer {name}: generate --prompt works on a checkpoint", r.returncode == 0, r.stderr)

    r = run("train", *common, "--config", J("config.json"), "--tokenizer", LLAMA3, "--out", J("c"))
    line = r.stderr.strip()
    check("a tokenizer with more ids than vocab_size: one line, exit 1, nothing written",
          r.returncode == 1 and "vocab_size" in line and "128256" in line and "\n" not in line and not os.path.exists(J("c")), line)
    r = run("train", *common, "--config", J("config.json"), "--tokenizer", J("nope.json"), "--out", J("d"))
    line = r.stderr.strip()
    check("a --tokenizer that does not exist: one line, exit 1", r.returncode == 1 and "nope.json" in line and "\n" not in line, line)

print("FAILED: " + ", ".join(failures) if failures else "all train tokenizer checks passed")
sys.exit(1 if failures else 0)
