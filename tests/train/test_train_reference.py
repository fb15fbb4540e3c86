#!/usr/bin/python3
"""`longctx train` against PyTorch autograd and torch.optim.AdamW (tests/train/torch_train.py, float64):

- gradients of every parameter within 1e-4 of the largest reference entry of its tensor, for tiny
  random models: GQA and MHA, tied and untied embeddings, document masking, a changed RoPE base,
  dynamic NTK past max_position_embeddings, head_dim 16, sequences crossing attention tiles;
  the same bits on 1 and 2 threads; and every family of docs/models.md (tests/model/family_cases.py:
  biases, windows, q/k norms, Gemma's norms and soft-caps with document masking, local RoPE,
  LongRoPE long and short, partial rotary) with B = 2, T = 150;
- 20 AdamW steps through the CLI (cosine schedule with warmup, weight decay, clipping, gradient
  accumulation, document masking, a new RoPE base) give torch's losses within 1e-4 and its grad
  norms and learning rates; the checkpoint carries the new rope_theta and the engine loads it;
  the same 20 steps from a checkpoint of every family (no decay on norms and biases);
- a run killed mid-way (after a step, and by SIGKILL at an arbitrary moment) resumes to the
  uninterrupted run's log and model, byte for byte;
- mpirun -n 2 with the same global batch gives the one-process losses within 1e-5; with --zero1
  (AdamW's moments sharded) the unsharded 2-rank model and moments bit for bit without clipping,
  its losses within 1e-6 with it, and a killed sharded run resumes to the same model;
- bad input stops with one line and exit 1.

usage: test_train_reference.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch)
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
sys.path.insert(0, os.path.join(ROOT, "tests/train"))
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
import family_cases  # noqa: E402
import read_packed  # noqa: E402
import torch_llama  # noqa: E402
import torch_models  # noqa: E402
import torch_train  # noqa: E402

DUMP = os.path.join(BUILD, "tests", "dump_grads")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")
LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        assert v["dtype"] == "F32"
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], np.float32).reshape(v["shape"])
    return out


def doc_starts(T, cuts):
    """First position of each position's document, given the positions where documents start."""
    ds, cur = np.zeros(T, np.uint32), 0
    for p in range(T):
        if p in cuts:
            cur = p
        ds[p] = cur
    return ds


def run(*args, env=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True, env=env)


def with_opt(opts, flag, value):
    """opts with FLAG's value replaced (or FLAG VALUE appended)."""
    out = list(opts)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


def log_of(path):
    return [json.loads(x) for x in open(path).read().splitlines()]


BASE = {"vocab_size": 300, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 8,
        "num_key_value_heads": 2, "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": False}
# name, config changes, B, T, document masking
GRAD_CASES = [
    ("gqa-untied-3-tiles", {}, 2, 300, False),
    ("gqa-untied-doc-mask", {}, 2, 300, True),
    ("mha-tied-theta-500k-hd16", {"num_key_value_heads": 4, "num_attention_heads": 4, "head_dim": 16, "tie_word_embeddings": True,
                                  "rope_theta": 500000.0}, 3, 96, True),
    ("dynamic-ntk-past-max-pos", {"rope_scaling": {"type": "dynamic", "factor": 4.0}, "max_position_embeddings": 64}, 2, 200, True),
    ("gqa-1-kv-head-linear", {"num_key_value_heads": 1, "rope_scaling": {"type": "linear", "factor": 2.0}}, 2, 130, False),
]

def check_grads(J, name, d, c, w, toks, ds, masked):
    """dump_grads (2 threads) against autograd for B x T tokens: losses, one gradient per tensor,
    each within 1e-4 of its tensor's largest entry; masking must matter. Returns the gradients."""
    B, T = toks.shape
    toks.tofile(J("tokens.u32"))
    ds.tofile(J("docs.u32"))
    r = subprocess.run([DUMP, d, J("tokens.u32"), str(B), str(T), J("docs.u32") if masked else "-", J("g.safetensors"), "2"],
                       capture_output=True, text=True)
    check(f"{name}: dump_grads runs", r.returncode == 0, r.stderr)
    if r.returncode:
        return None
    ours = json.loads(r.stdout)["losses"]
    tt = torch.tensor(toks.astype(np.int64))
    ref_losses, ref = torch_train.grads(c, w, tt, torch.tensor(ds.astype(np.int64)) if masked else None)
    check(f"{name}: sequence losses within 1e-6 relative", np.allclose(ours, ref_losses.numpy(), rtol=1e-6, atol=0),
          (ours, ref_losses.tolist()))
    g = read_safetensors(J("g.safetensors"))
    check(f"{name}: a gradient for every tensor and no other", sorted(g) == sorted(ref), (sorted(g), sorted(ref)))
    worst, where = 0.0, ""
    for t in ref:
        if t not in g:
            continue
        rel = float(np.abs(g[t] - ref[t].numpy()).max() / max(np.abs(ref[t].numpy()).max(), 1e-30))
        if rel > worst:
            worst, where = rel, t
    check(f"{name}: every gradient within 1e-4 of its tensor's largest entry (worst {worst:.1e}: {where})", worst < 1e-4)
    if masked:  # masking must matter: the unmasked gradients differ
        _, unmasked = torch_train.grads(c, w, tt, None)
        t = "model.layers.0.self_attn.q_proj.weight"
        check(f"{name}: document masking changes the gradients", np.abs(unmasked[t].numpy() - g[t]).max() > 1e-3)
    return g


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    rng = np.random.default_rng(11)

    # --- Gradients of one forward/backward against autograd.
    for k, (name, extra, B, T, masked) in enumerate(GRAD_CASES):
        d = J(name)
        config = {**BASE, **extra}
        torch_llama.write_checkpoint(d, config, seed=300 + k)
        c, w = torch_llama.load(d)
        toks = rng.integers(0, config["vocab_size"], (B, T)).astype(np.uint32)
        ds = np.stack([doc_starts(T, set(rng.choice(np.arange(1, T), 6, replace=False).tolist())) for _ in range(B)])
        g = check_grads(J, name, d, c, w, toks, ds, masked)
        if g is None:
            continue
        if k == 0:
            subprocess.run([DUMP, d, J("tokens.u32"), str(B), str(T), "-", J("g1.safetensors"), "1"], check=True, capture_output=True)
            check("gradients: the same bits on 1 and 2 threads",
                  open(J("g1.safetensors"), "rb").read() == open(J("g.safetensors"), "rb").read())

    # --- Every family: gradients of B = 2 sequences of T = 150 against autograd.
    B, T = family_cases.B_GRAD, family_cases.T_GRAD
    for k, case in enumerate(family_cases.GRAD_CASES):
        name, masked = case["name"], case["masked"]
        d = J(name)
        torch_models.write_checkpoint(d, case["family"], case["config"], seed=400 + k)
        c, w = torch_models.load(d)
        toks = rng.integers(0, c["vocab_size"], (B, T)).astype(np.uint32)
        ds = np.stack([doc_starts(T, set(rng.choice(np.arange(1, T), 4, replace=False).tolist())) for _ in range(B)])
        check_grads(J, name, d, c, w, toks, ds, masked)

    # --- Packed data: a synthetic store (random ids below 32,000, short documents) -> flat L=64.
    subprocess.run([SYNTH, J("store"), "3", "A:400:0.2:5-40:41-150", "B:300:0.5:5-40:41-150"], check=True, capture_output=True)
    r = run("mix", J("store"), "--strategy", "original", "--tokens", "12K", "--seed", "5", "-o", J("plan"), "-q")
    check("mix for the training data", r.returncode == 0, r.stderr)
    r = run("pack", J("plan"), "--seq-len", "64", "--format", "flat", "--out", J("packed"), "-q")
    check("pack flat L=64", r.returncode == 0, r.stderr)
    packed = read_packed.read(J("packed"))
    S, T = packed["tokens"].shape
    small = {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "tie_word_embeddings": False}
    torch_llama.write_checkpoint(J("init"), small, seed=9, scale=0.08)
    STEPS, BATCH = 20, 4
    opts = ["--data", J("packed"), "--init", J("init"), "--lr", "2e-3", "--weight-decay", "0.1", "--clip", "0.5", "--schedule", "cosine",
            "--warmup", "3", "--min-lr-ratio", "0.1", "--batch-tokens", str(BATCH * T), "--micro-batch", "2", "--doc-mask",
            "--rope-theta", "40000", "--steps", str(STEPS), "--no-shuffle", "--threads", "2", "--quiet"]
    r = run("train", *opts, "--out", J("run"), "--log", J("run.log"))
    check("train 20 steps exits 0", r.returncode == 0, r.stderr)
    ours = log_of(J("run.log"))
    check("log: one line per step with step, loss, lr, grad_norm, tokens_per_s",
          len(ours) == STEPS and all({"step", "loss", "lr", "grad_norm", "tokens_per_s"} <= set(x) for x in ours), ours[:2])
    cfg = json.load(open(J("run", "config.json")))
    check("checkpoint config.json carries the new rope_theta", cfg["rope_theta"] == 40000.0, cfg)
    c, w = torch_llama.load(J("init"))
    c = dict(c, rope_theta=40000.0)
    tok = torch.tensor(packed["tokens"])
    ds = torch.tensor(np.stack([doc_starts(T, {s for (_, _, s, e, _) in sp} | {e for (_, _, s, e, _) in sp if e < T})
                                for sp in packed["spans"]]).astype(np.int64))
    batches = [tok[i * BATCH:(i + 1) * BATCH] for i in range(STEPS)]
    dbat = [ds[i * BATCH:(i + 1) * BATCH] for i in range(STEPS)]
    ref, final = torch_train.train(c, w, batches, 2e-3, weight_decay=0.1, clip=0.5, schedule="cosine", warmup=3, min_ratio=0.1,
                                   doc_starts=dbat)
    dl = max(abs(a["loss"] - b["loss"]) for a, b in zip(ours, ref))
    check(f"20 AdamW steps: losses within 1e-4 of torch (max diff {dl:.2e})", dl < 1e-4, [(a["loss"], b["loss"]) for a, b in zip(ours, ref)])
    dn = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(ours, ref))
    check(f"grad norms within 1e-4 relative (max {dn:.2e})", dn < 1e-4, [(a["grad_norm"], b["grad_norm"]) for a, b in zip(ours, ref)])
    check("learning rates follow the cosine schedule with warmup",
          all(abs(a["lr"] - b["lr"]) <= 1e-12 for a, b in zip(ours, ref)) and ours[0]["lr"] == 0.0, [(a["lr"], b["lr"]) for a, b in zip(ours, ref)])
    got = read_safetensors(J("run", "model.safetensors"))
    dw = max(float(np.abs(got[k] - final[k].numpy()).max() / np.abs(final[k].numpy()).max()) for k in final)
    check(f"final weights match torch's within 1e-4 relative (worst {dw:.1e})", dw < 1e-4)
    opt = read_safetensors(J("run", f"checkpoint-{STEPS}", "optimizer.safetensors"))
    check("optimizer state beside the checkpoint (exp_avg / exp_avg_sq per tensor)",
          all(f"exp_avg.{k}" in opt and f"exp_avg_sq.{k}" in opt for k in final), sorted(opt)[:4])
    # The engine loads the checkpoint: eval-loss on the first 8 sequences = torch's loss of the final weights.
    r = run("eval-loss", "--model", J("run"), "--data", J("packed"), "--max-sequences", "8", "--json")
    check("the engine loads the trained checkpoint", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        cfin = dict(c)
        with torch.no_grad():
            want = torch_train.sequence_losses(cfin, final, tok[:8]).mean().item()
        check("eval-loss of the checkpoint = torch's loss of torch's final weights (1e-4)", abs(json.loads(r.stdout)["loss"] - want) < 1e-4,
              (json.loads(r.stdout)["loss"], want))

    # --- Every family: 20 steps with the same options (schedule, decay, clipping, accumulation,
    # document masking, --rope-theta 40000: Gemma 3's global layers only) from a checkpoint of each;
    # 2 sequences a step in micro-batches of 1, to halve the reference's time (vocabulary 32,000).
    fopts = with_opt(with_opt(opts, "--batch-tokens", str(2 * T)), "--micro-batch", "1")
    fbatches = [tok[i * 2:(i + 1) * 2] for i in range(STEPS)]
    fdocs = [ds[i * 2:(i + 1) * 2] for i in range(STEPS)]
    for k, case in enumerate(family_cases.TRAIN_CASES):
        name = case["name"]
        init = J("init-" + name)
        torch_models.write_checkpoint(init, case["family"], case["config"], seed=60 + k, scale=0.08)
        r = run("train", *with_opt(fopts, "--init", init), "--out", J("run-" + name), "--log", J("run-" + name + ".log"))
        check(f"{name}: train 20 steps exits 0", r.returncode == 0, r.stderr)
        if r.returncode:
            continue
        got = log_of(J("run-" + name + ".log"))
        cf, wf = torch_models.load(init)
        cf = dict(cf, rope_theta=40000.0)
        ref_f, final_f = torch_train.train(cf, wf, fbatches, 2e-3, weight_decay=0.1, clip=0.5, schedule="cosine", warmup=3, min_ratio=0.1,
                                           doc_starts=fdocs)
        dl = max(abs(a["loss"] - b["loss"]) for a, b in zip(got, ref_f)) if len(got) == STEPS else float("inf")
        check(f"{name}: 20 AdamW steps: losses within 1e-4 of torch (max diff {dl:.2e})", dl < 1e-4,
              [(a["loss"], b["loss"]) for a, b in zip(got, ref_f)])
        dn = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(got, ref_f))
        check(f"{name}: grad norms within 1e-4 relative (max {dn:.2e})", dn < 1e-4)
        gw = read_safetensors(J("run-" + name, "model.safetensors"))
        dw = max(float(np.abs(gw[t] - final_f[t].numpy()).max() / np.abs(final_f[t].numpy()).max()) for t in final_f if t in gw)
        check(f"{name}: final weights (no decay on norms and biases) within 1e-4 relative (worst {dw:.1e})",
              sorted(gw) == sorted(final_f) and dw < 1e-4)
        r = run("eval-loss", "--model", J("run-" + name), "--data", J("packed"), "--max-sequences", "8", "--json")
        check(f"{name}: the engine loads the trained checkpoint", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            with torch.no_grad():
                want = torch_train.sequence_losses(cf, final_f, tok[:8]).mean().item()
            check(f"{name}: eval-loss of the checkpoint = torch's loss of torch's final weights (1e-4)",
                  abs(json.loads(r.stdout)["loss"] - want) < 1e-4, (json.loads(r.stdout)["loss"], want))

    # --- Resume: killed after step 12 (checkpoints every 5), then --resume: the same log and model.
    env = dict(os.environ, LONGCTX_TEST_KILL_AFTER_STEP="12")
    r = run("train", *opts, "--out", J("killed"), "--log", J("killed.log"), "--save-every", "5", env=env)
    check("a run killed after step 12 dies by SIGKILL", r.returncode == -signal.SIGKILL, r.returncode)
    check("its latest checkpoint is step 10", os.path.isdir(J("killed", "checkpoint-10")) and not os.path.exists(J("killed", "model.safetensors")))
    r = run("train", *opts, "--out", J("killed"), "--log", J("killed.log"), "--save-every", "5")
    check("rerun without --resume is refused with one line", r.returncode == 1 and "--resume" in r.stderr and r.stderr.count("\n") == 1,
          r.stderr)
    r = run("train", *opts, "--out", J("killed"), "--log", J("killed.log"), "--save-every", "5", "--resume")
    check("--resume finishes", r.returncode == 0, r.stderr)
    strip = lambda rows: [(x["step"], x["loss"], x["lr"], x["grad_norm"], x["tokens"]) for x in rows]  # noqa: E731
    check("resumed log = uninterrupted log (every step once, same losses bit for bit)", strip(log_of(J("killed.log"))) == strip(ours),
          strip(log_of(J("killed.log")))[8:14])
    check("resumed final model = uninterrupted model, byte for byte",
          open(J("killed", "model.safetensors"), "rb").read() == open(J("run", "model.safetensors"), "rb").read())
    check("--keep 2: older checkpoints removed", sorted(x for x in os.listdir(J("killed")) if x.startswith("checkpoint-")) ==
          ["checkpoint-15", "checkpoint-20"], os.listdir(J("killed")))
    r = run("train", *with_opt(opts, "--lr", "3e-3"), "--out", J("killed"), "--resume")
    check("--resume with another --lr is refused", r.returncode == 1 and "run.json" in r.stderr, r.stderr)
    # SIGKILL at an arbitrary moment (checkpoint every step), then resume.
    p = subprocess.Popen([LONGCTX, "train", *opts, "--out", J("k2"), "--log", J("k2.log"), "--save-every", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(J("k2", "checkpoint-7")):
        time.sleep(0.01)
    time.sleep(0.05)
    p.kill()
    p.wait()
    r = run("train", *opts, "--out", J("k2"), "--log", J("k2.log"), "--save-every", "1", "--resume")
    check("killed at an arbitrary moment, --resume finishes", r.returncode == 0, r.stderr)
    check("... with the uninterrupted log and model", strip(log_of(J("k2.log"))) == strip(ours) and
          open(J("k2", "model.safetensors"), "rb").read() == open(J("run", "model.safetensors"), "rb").read())

    # --- Shuffled order: deterministic per seed and thread count; another seed, another run.
    shuf = [x for x in opts if x != "--no-shuffle"]
    shuf = with_opt(shuf, "--steps", "6")
    for name, extra in [("s1", shuf), ("s1b", with_opt(shuf, "--threads", "1")), ("s2", with_opt(shuf, "--seed", "77"))]:
        r = run("train", *extra, "--out", J(name))
        check(f"shuffled run {name}", r.returncode == 0, r.stderr)
    same = lambda a, b: open(J(a, "model.safetensors"), "rb").read() == open(J(b, "model.safetensors"), "rb").read()  # noqa: E731
    check("same seed, 1 and 2 threads: byte-identical models", same("s1", "s1b"))
    check("another seed: another model", not same("s1", "s2"))

    # --- MPI data parallel: same global batch, 2 ranks x 1 thread.
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    mopts = with_opt(opts, "--threads", "1")
    r = subprocess.run(["mpirun", "-n", "2", LONGCTX, "train", *mopts, "--out", J("mpi"), "--log", J("mpi.log")], capture_output=True,
                       text=True, env=env)
    check("mpirun -n 2 train exits 0", r.returncode == 0, r.stderr[-2000:])
    if r.returncode == 0:
        m = log_of(J("mpi.log"))
        dm = max(abs(a["loss"] - b["loss"]) for a, b in zip(m, ours))
        check(f"2 ranks: the one-process loss trajectory within 1e-5 (max diff {dm:.1e})", len(m) == STEPS and dm < 1e-5)

    # --- ZeRO-1 (--zero1): AdamW's moments sharded over the 2 ranks. Each element's update is the
    # unsharded arithmetic and 2-rank sums are a single addition, so without clipping (the one
    # place that sums differently: the squares of the shards) the model and the gathered moments
    # must be the unsharded 2-rank run's, bit for bit; with clipping, its losses within 1e-6. A
    # sharded run killed after a checkpoint resumes to the uninterrupted sharded run's model.
    def mpirun(*args, kill_after=None, fail_at=None, timeout=None):
        e = dict(env, LONGCTX_TEST_KILL_AFTER_STEP=str(kill_after)) if kill_after else env
        e = dict(e, LONGCTX_TEST_FAIL_AT_STEP=fail_at) if fail_at else e
        return subprocess.run(["mpirun", "-n", "2", LONGCTX, "train", *args], capture_output=True, text=True, env=e,
                              timeout=timeout)
    noclip = with_opt(with_opt(mopts, "--clip", "0"), "--steps", "6")
    runs = {"p0": noclip, "z0": noclip + ["--zero1"], "z": mopts + ["--zero1"]}
    for name, extra in runs.items():
        r = mpirun(*extra, "--out", J(name), "--log", J(name + ".log"))
        check(f"mpirun -n 2 train {name} exits 0", r.returncode == 0, r.stderr[-2000:])
    raw = lambda *p: open(J(*p), "rb").read() if os.path.exists(J(*p)) else None  # noqa: E731
    check("--zero1, no clipping: model.safetensors byte-identical to the unsharded 2-rank run's",
          raw("z0", "model.safetensors") is not None and raw("z0", "model.safetensors") == raw("p0", "model.safetensors"))
    check("... and the checkpoint's optimizer.safetensors (moments gathered from the shards) too",
          raw("z0", "checkpoint-6", "optimizer.safetensors") is not None and
          raw("z0", "checkpoint-6", "optimizer.safetensors") == raw("p0", "checkpoint-6", "optimizer.safetensors"))
    if os.path.exists(J("z.log")) and os.path.exists(J("mpi.log")):
        z, m = log_of(J("z.log")), log_of(J("mpi.log"))
        dz = max(abs(a["loss"] - b["loss"]) for a, b in zip(z, m))
        dn = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(z, m))
        check(f"--zero1 with clipping: the unsharded 2-rank losses within 1e-6 (max diff {dz:.1e}), grad norms within 1e-6 relative ({dn:.1e})",
              len(z) == STEPS and dz < 1e-6 and dn < 1e-6)
    # 3 ranks: shards that do not divide the buffer evenly; sums in other orders, so the losses
    # and grad norms within 1e-6 of the unsharded 3-rank run's.
    three = with_opt(with_opt(with_opt(mopts, "--steps", "6"), "--batch-tokens", str(3 * T)), "--micro-batch", "1")
    logs3 = {}
    for name, extra in {"p3": three, "z3": three + ["--zero1"]}.items():
        r = subprocess.run(["mpirun", "-n", "3", LONGCTX, "train", *extra, "--out", J(name), "--log", J(name + ".log")],
                           capture_output=True, text=True, env=env)
        check(f"mpirun -n 3 train {name} exits 0", r.returncode == 0, r.stderr[-2000:])
        logs3[name] = log_of(J(name + ".log")) if r.returncode == 0 else []
    if logs3["p3"] and logs3["z3"]:
        dz = max(abs(a["loss"] - b["loss"]) for a, b in zip(logs3["z3"], logs3["p3"]))
        dn = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"] for a, b in zip(logs3["z3"], logs3["p3"]))
        check(f"--zero1 on 3 ranks: the unsharded 3-rank losses within 1e-6 ({dz:.1e}), grad norms within 1e-6 relative ({dn:.1e})",
              len(logs3["z3"]) == 6 and dz < 1e-6 and dn < 1e-6)
    r = mpirun(*noclip, "--zero1", "--save-every", "3", "--out", J("zk"), kill_after=3)
    check("--zero1 run killed after step 3 (a checkpoint there)", r.returncode != 0 and os.path.isdir(J("zk", "checkpoint-3")), r.stderr[-1000:])
    r = mpirun(*noclip, "--zero1", "--save-every", "3", "--resume", "--out", J("zk"))
    check("... --resume --zero1 finishes with the uninterrupted sharded run's model, byte for byte",
          r.returncode == 0 and raw("zk", "model.safetensors") == raw("z0", "model.safetensors"), r.stderr[-2000:])

    # A failure on one rank only, mid-run (here the test hook, in step 2 before the gradient sum):
    # the other rank is already waiting in the collective. The job must end, non-zero, saying
    # which rank failed and why, and not hang (before abort_all it waited for ever).
    try:
        r = mpirun(*mopts, "--out", J("fail1"), fail_at="1:2", timeout=120)
        check("one rank failing mid-run ends the job: exit non-zero, the rank and its error on stderr",
              r.returncode != 0 and "rank 1: test hook: rank 1 fails in step 2" in r.stderr, r.stderr[-2000:])
    except subprocess.TimeoutExpired:
        check("one rank failing mid-run ends the job (it hung for 120 s)", False)

    # --- The paper's released setting: rope_scaling dynamic, factor 10, written into the checkpoint.
    r = run("train", *with_opt(with_opt(opts, "--steps", "1"), "--rope-scaling", "dynamic:10"), "--max-position", "32", "--out", J("dyn"),
            "--log", J("dyn.log"))
    cfg = json.load(open(J("dyn", "config.json"))) if r.returncode == 0 else {}
    check("--rope-scaling dynamic:10 --max-position 32 -> config.json rope_scaling and max_position_embeddings",
          cfg.get("rope_scaling") == {"type": "dynamic", "factor": 10.0} and cfg.get("max_position_embeddings") == 32, (r.stderr, cfg))
    if cfg:
        # Trained past max_position_embeddings (T = 64 > 32): the first step's loss is the
        # reference's under the dynamic-NTK base for T, not the plain one.
        c_dyn = dict(c, rope_scaling={"type": "dynamic", "factor": 10.0}, max_position_embeddings=32)
        with torch.no_grad():
            want = torch_train.sequence_losses(c_dyn, w, tok[:BATCH], ds[:BATCH]).mean().item()
            plain = torch_train.sequence_losses(c, w, tok[:BATCH], ds[:BATCH]).mean().item()
        got = log_of(J("dyn.log"))[0]["loss"] if os.path.exists(J("dyn.log")) else None
        check("dynamic NTK in training: step-1 loss = torch's with the dynamic base (and differs from the plain one)",
              got is not None and abs(got - want) < 1e-5 and abs(plain - want) > 1e-4, (got, want, plain))

    # --- Bad input.
    r = run("train", "--data", J("packed"), "--init", J("nope"), "--out", J("bad"))
    check("missing checkpoint: one line, exit 1", r.returncode == 1 and r.stderr.count("\n") == 1 and "nope" in r.stderr, r.stderr)
    r = run("train", "--data", J("packed"), "--init", J("init"), "--out", J("bad"), "--batch-tokens", "100")
    check("--batch-tokens not a multiple of L: one line, exit 1", r.returncode == 1 and "multiple" in r.stderr, r.stderr)
    torch_llama.write_checkpoint(J("tiny-vocab"), {**small, "vocab_size": 1000}, seed=1)
    r = run("train", "--data", J("packed"), "--init", J("tiny-vocab"), "--out", J("bad"))
    check("token ids past the model's vocabulary: one line, exit 1", r.returncode == 1 and "vocabulary" in r.stderr, r.stderr)
    r = run("train", "--data", J("packed"), "--init", J("init"), "--out", J("bad"), "--rope-scaling", "ntk:2")
    check("bad --rope-scaling: one line, exit 1", r.returncode == 1 and "dynamic:FACTOR" in r.stderr, r.stderr)
    check("no half-written output after refusals", not os.path.exists(J("bad", "model.safetensors")))

print(f"{len(failures)} failure(s)" if failures else "all train checks passed")
sys.exit(1 if failures else 0)
