#!/usr/bin/python3
"""Integrity where a run reads back its own output (issue 14, item 3):

- every folder train writes (checkpoint-STEP/ and the final model in OUT/) has checkpoint.json
  with each file's size and XXH3-128, the digits `xxhsum -H2` prints;
- `longctx verify OUT` (and a single checkpoint folder) checks them and names a corrupted file;
- `train --resume` from a checkpoint whose optimizer.safetensors had bytes flipped in its data is
  refused with one line naming the file, exit 1, and nothing written; restored, it resumes;
- the engine (generate, eval-loss) refuses a model.safetensors with flipped bytes, one line naming
  it; LONGCTX_SKIP_CHECKPOINT_HASH=1 skips the hashing (sizes are still checked);
- a loss that explodes in one step (a huge --lr) stops training with one line, exit 1, and no
  checkpoint or log line for that step; so does a resume from corrupted optimizer state that has
  no checkpoint.json to catch it.

usage: test_checkpoint_integrity.py ROOT BUILD
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")


def run(*args, env=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True, env=env)


def one_line(r):
    return r.stderr.strip() if r.stderr.count("\n") == 1 else None


def flip(path, pattern=b"\x7e", count=4096, tensor=None):
    """Overwrites COUNT bytes at the start of a safetensors file's data (after its header), or of
    TENSOR's data, and returns the original bytes and where they were."""
    raw = bytearray(open(path, "rb").read())
    n = struct.unpack("<Q", raw[:8])[0]
    start = 8 + n
    if tensor:
        a, b = json.loads(raw[8:8 + n])[tensor]["data_offsets"]
        start, count = start + a, b - a
    old = bytes(raw[start:start + count])
    raw[start:start + count] = pattern * count
    open(path, "wb").write(raw)
    return old, start


def restore(path, old, start):
    raw = bytearray(open(path, "rb").read())
    raw[start:start + len(old)] = old
    open(path, "wb").write(raw)


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([SYNTH, J("store"), "3", "A:200:0.2:5-40:41-150"], check=True, capture_output=True)
    r = run("mix", J("store"), "--strategy", "original", "--tokens", "6K", "--seed", "5", "-o", J("plan"), "-q")
    check("mix", r.returncode == 0, r.stderr)
    r = run("pack", J("plan"), "--seq-len", "64", "--format", "flat", "--out", J("packed"), "-q")
    check("pack", r.returncode == 0, r.stderr)
    config = {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64,
              "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
              "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
    json.dump(config, open(J("config.json"), "w"))
    opts = ["--data", J("packed"), "--config", J("config.json"), "--steps", "4", "--batch-tokens", "256", "--lr", "1e-3",
            "--save-every", "1", "--keep", "0", "--quiet", "--threads", "2"]

    # --- A run killed after step 2: checkpoints 1 and 2, each with checkpoint.json.
    env = dict(os.environ, LONGCTX_TEST_KILL_AFTER_STEP="2")
    r = run("train", *opts, "--out", J("a"), "--log", J("a.log"), env=env)
    check("train killed after step 2", r.returncode != 0 and os.path.exists(J("a", "checkpoint-2", "trainer_state.json")), r.stderr)
    ck = J("a", "checkpoint-2")
    man = json.load(open(os.path.join(ck, "checkpoint.json"))) if os.path.exists(os.path.join(ck, "checkpoint.json")) else {}
    files = man.get("files", {})
    check("checkpoint.json lists config, model, optimizer and trainer state",
          {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"} <= set(files), man)
    for name, f in files.items():
        p = os.path.join(ck, name)
        out = subprocess.run(["xxhsum", "-H2", p], capture_output=True, text=True).stdout.split()
        check(f"checkpoint.json: {name}'s size and XXH3-128 (xxhsum -H2)", out and out[0] == f["xxh128"] and os.path.getsize(p) == f["bytes"],
              (out, f))
    r = run("verify", J("a"))
    check("verify OUT: every checkpoint matches", r.returncode == 0 and "every file matches" in r.stdout and "2 folder(s)" in r.stdout,
          r.stdout + r.stderr)

    os.makedirs(J("empty"))
    shutil.copy(J("a", "run.json"), J("empty", "run.json"))
    r = run("verify", J("empty"))
    check("verify on a train output without any checkpoint: one line, exit 1",
          r.returncode == 1 and one_line(r) and "nothing to verify" in r.stderr, r.stdout + r.stderr)

    # --- Flipped bytes in optimizer.safetensors: verify names it; --resume refuses; restored, resumes.
    opt_file = os.path.join(ck, "optimizer.safetensors")
    old, start = flip(opt_file)
    r = run("verify", ck)
    line = one_line(r)
    check("verify CHECKPOINT: a corrupted optimizer.safetensors, one line naming it, exit 1",
          r.returncode == 1 and line and opt_file in line and "corrupted" in line, r.stdout + r.stderr)
    r = run("verify", J("a"))
    check("verify OUT: finds it too", r.returncode == 1 and opt_file in r.stderr, r.stderr)
    r = run("train", *opts, "--out", J("a"), "--log", J("a.log"), "--resume")
    line = one_line(r)
    check("--resume refuses a corrupted optimizer.safetensors: one line naming it, exit 1",
          r.returncode == 1 and line and opt_file in line and "checkpoint.json" in line, r.stderr)
    check("--resume refused: nothing new written", not os.path.exists(J("a", "checkpoint-3")) and len(open(J("a.log")).readlines()) == 2)
    restore(opt_file, old, start)
    r = run("train", *opts, "--out", J("a"), "--log", J("a.log"), "--resume")
    check("restored, --resume finishes", r.returncode == 0 and os.path.exists(J("a", "checkpoint-4")), r.stderr)
    r = run("verify", J("a"))
    check("verify OUT after the run: 5 folders (4 checkpoints + the final model)", r.returncode == 0 and "5 folder(s)" in r.stdout,
          r.stdout + r.stderr)

    # --- Flipped bytes in the final model.safetensors: generate and eval-loss refuse, naming it.
    r = run("generate", "--model", J("a"), "--prompt-ids", "1,2,3", "--max-new-tokens", "2", "--json")
    check("generate on the intact model", r.returncode == 0, r.stderr)
    model_file = J("a", "model.safetensors")
    old, start = flip(model_file, b"\x00", 64)
    r = run("generate", "--model", J("a"), "--prompt-ids", "1,2,3", "--max-new-tokens", "2", "--json")
    line = one_line(r)
    check("generate refuses a corrupted model.safetensors: one line naming it, exit 1",
          r.returncode == 1 and line and model_file in line and "corrupted" in line, r.stderr)
    r = run("eval-loss", "--model", J("a"), "--data", J("packed"), "--json")
    check("eval-loss refuses it too", r.returncode == 1 and model_file in r.stderr, r.stderr)
    r = run("train", "--data", J("packed"), "--batch-tokens", "256", "--init", J("a"), "--out", J("from-bad"), "--steps", "1", "--quiet")
    check("train --init refuses it too, nothing written", r.returncode == 1 and model_file in r.stderr and not os.path.exists(J("from-bad")),
          r.stderr)
    skip = dict(os.environ, LONGCTX_SKIP_CHECKPOINT_HASH="1")
    r = run("generate", "--model", J("a"), "--prompt-ids", "1,2,3", "--max-new-tokens", "2", "--json", env=skip)
    check("LONGCTX_SKIP_CHECKPOINT_HASH=1: the hash is not checked (same size)", r.returncode == 0, r.stderr)
    with open(model_file, "ab") as f:
        f.write(b"\0" * 8)
    r = run("generate", "--model", J("a"), "--prompt-ids", "1,2,3", "--max-new-tokens", "2", "--json", env=skip)
    check("LONGCTX_SKIP_CHECKPOINT_HASH=1: a size change is still refused", r.returncode == 1 and "bytes" in r.stderr, r.stderr)

    # --- Loss explosion: a huge --lr. One line, exit 1, no checkpoint or log line for that step.
    big = [x if x != "1e-3" else "100" for x in opts]
    r = run("train", *big, "--out", J("boom"), "--log", J("boom.log"))
    line = one_line(r) or ""
    check("a loss explosion stops training: one line, exit 1", r.returncode == 1 and "train: the loss" in line and "at step" in line, r.stderr)
    step = int(line.split("at step ")[1].split()[0].rstrip(";")) if "at step " in line else 0
    logged = [json.loads(x)["step"] for x in open(J("boom.log"))] if os.path.exists(J("boom.log")) else []
    check("... after at least one good step", step >= 2, line)
    check("... no checkpoint for that step (nor later), the earlier ones kept",
          step >= 2 and not os.path.exists(J("boom", f"checkpoint-{step}")) and os.path.exists(J("boom", f"checkpoint-{step - 1}")),
          os.listdir(J("boom")) if os.path.exists(J("boom")) else None)
    check("... and no log line for it", logged == list(range(1, step)), logged)
    check("... no final model", not os.path.exists(J("boom", "model.safetensors")))

    # --- Corrupted AdamW state without a checkpoint.json (a folder from before hashes, or the
    # manifest lost too): the loss check stops the run as the loss blows up.
    shutil.copytree(J("a"), J("c"))
    for s in (3, 4):
        shutil.rmtree(J("c", f"checkpoint-{s}"))
    for n in ("model.safetensors", "config.json", "checkpoint.json"):
        os.remove(J("c", n))
    os.remove(J("c", "checkpoint-2", "checkpoint.json"))
    # 0x7e7e7e7e = 8.5e37 in every first moment of the final norm's gains: the update blows them up.
    flip(J("c", "checkpoint-2", "optimizer.safetensors"), tensor="exp_avg.model.norm.weight")
    lines = [x for x in open(J("a.log"))][:2]
    open(J("c.log"), "w").write("".join(lines))
    r = run("train", *[x for x in opts if x != "--quiet"], "--out", J("c"), "--log", J("c.log"), "--resume")
    line = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    check("no checkpoint.json: a note, then the exploding loss stops the run, exit 1",
          r.returncode == 1 and "not verified" in r.stderr and "train: the loss" in line, r.stderr)
    check("... at step 4 (step 3's update broke the weights), no checkpoint-4",
          "at step 4" in line and not os.path.exists(J("c", "checkpoint-4")) and len(open(J("c.log")).readlines()) == 3, line)
    check("... and the final model is never written", not os.path.exists(J("c", "model.safetensors")))

print("FAILED: " + ", ".join(failures) if failures else "all checkpoint integrity checks passed")
sys.exit(1 if failures else 0)
