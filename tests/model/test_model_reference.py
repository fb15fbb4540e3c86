#!/usr/bin/python3
"""The engine against the PyTorch references (tests/model/torch_models.py; torch_llama.py is its
LLaMA face): tiny random LLaMA checkpoints (GQA, tied and untied embeddings, f32 / bf16 / f16
weights, every RoPE variant, an overridden base, dynamic NTK growing and pinned, a checkpoint
sharded over three files with an index) and one or two per family of docs/models.md
(tests/model/family_cases.py: biases, sliding windows crossing attention tiles, q/k norms, Gemma's
sandwich norms, soft-caps, local RoPE, layer_types, Phi-3's fused projections, LongRoPE switching
and partial rotary); logits of every position within 1e-4 for a whole-sequence forward (several
prefill chunks and attention tiles) and for token-by-token decoding; the plain reference kernels
agree too; greedy generation gives the same tokens; bad checkpoints are refused with one line.

usage: test_model_reference.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
import family_cases  # noqa: E402
import torch_llama  # noqa: E402
import torch_models  # noqa: E402

DUMP = os.path.join(BUILD, "tests", "dump_logits")
LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




BASE = {"vocab_size": 512, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 8,
        "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": False}
CASES = [
    ("gqa-untied-f32", {}, "f32", {}),
    ("mha-tied-bf16", {"num_key_value_heads": 8, "tie_word_embeddings": True}, "bf16", {}),
    ("f16-linear", {"rope_scaling": {"type": "linear", "factor": 4.0}}, "f16", {}),
    ("dynamic-ntk", {"rope_scaling": {"type": "dynamic", "factor": 4.0}}, "f32", {}),
    ("dynamic-ntk-pinned", {"rope_scaling": {"type": "dynamic", "factor": 4.0}}, "f32", {"pin": 200}),
    ("yarn", {"rope_scaling": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 32}}, "f32", {}),
    ("llama3", {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 32}}, "bf16", {}),
    ("abf-theta", {}, "f32", {"theta": 500000.0}),
    ("head-dim-16", {"head_dim": 16, "num_attention_heads": 4}, "f32", {}),
    ("sharded-3-files", {}, "bf16", {"shards": 3}),
]

# Tiles of 32 x 16 keys: a sliding layer's cache (2 (W + 16) + chunk rows) is smaller than the
# sequence for every window of the family cases, so it drops keys and shifts, in prefill and decoding.
SMALL_TILES = ["--key-tile", "16", "--query-tile", "32"]
MODES = (("prefill chunk 256", []), ("prefill chunk 100, tiles 32x16", ["--chunk", "100", *SMALL_TILES]), ("reference kernels", ["--reference"]),
         ("reference kernels, chunk 100, tiles 32x16", ["--reference", "--chunk", "100", *SMALL_TILES]))


def check_logits(tmp, name, d, ref, ids, V, flags):
    """The engine's logits of every position in each mode, and token-by-token decoding of the first
    120 (transformers' cache semantics: dynamic NTK rebuilt and LongRoPE switched as it grows)."""
    n = len(ids)
    ids.tofile(os.path.join(tmp, "ids.u32"))
    want = ref.forward([int(x) for x in ids]).numpy()
    for mode, extra_flags in MODES:
        out = os.path.join(tmp, "out.f32")
        r = subprocess.run([DUMP, d, os.path.join(tmp, "ids.u32"), out, *extra_flags, *flags], capture_output=True, text=True)
        if r.returncode:
            check(f"{name}: {mode}", False, r.stderr)
            continue
        got = np.fromfile(out, dtype=np.float32).reshape(n, V)
        err = float(np.abs(got - want).max())
        check(f"{name}: {mode}: logits of {n} positions within 1e-4 of PyTorch (max |diff| {err:.1e})", err < 1e-4)
    ref.reset()
    inc_want = np.concatenate([ref.forward([int(x)]).numpy() for x in ids[:120]])
    ids[:120].tofile(os.path.join(tmp, "ids120.u32"))
    out = os.path.join(tmp, "inc.f32")
    r = subprocess.run([DUMP, d, os.path.join(tmp, "ids120.u32"), out, "--incremental", *SMALL_TILES, *flags], capture_output=True, text=True)
    got = np.fromfile(out, dtype=np.float32).reshape(120, V) if r.returncode == 0 else None
    err = float(np.abs(got - inc_want).max()) if got is not None else float("inf")
    check(f"{name}: token-by-token decoding (16-key tiles) within 1e-4 (max |diff| {err:.1e})", err < 1e-4, r.stderr)


with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(5)
    for k, (name, extra, dtype, opt) in enumerate(CASES):
        d = os.path.join(tmp, name)
        config = {**BASE, **extra}
        torch_llama.write_checkpoint(d, config, seed=100 + k, dtype=dtype, shards=opt.get("shards", 1))
        n = 300  # past max_position_embeddings (64): dynamic NTK grows; > 256: two prefill chunks
        ids = rng.integers(0, config["vocab_size"], n).astype(np.uint32)
        flags = []
        if "theta" in opt:
            flags += ["--rope-theta", str(opt["theta"])]
        if "pin" in opt:
            flags += ["--dynamic-pin", str(opt["pin"])]
        check_logits(tmp, name, d, torch_llama.Llama(d, opt.get("theta"), opt.get("pin", 0)), ids, config["vocab_size"], flags)

    # Every family: the same modes, then greedy generation from an 80-token prompt (40 new tokens:
    # past the windows and LongRoPE's orig; the prompt itself is past orig 64, so the prefill
    # already uses the long factors, as transformers' Phi-3 generate would).
    for k, case in enumerate(family_cases.MODEL_CASES):
        name, opt = case["name"], case["opts"]
        d = os.path.join(tmp, name)
        torch_models.write_checkpoint(d, case["family"], case["config"], seed=500 + k, dtype=case["dtype"])
        V, n = case["config"]["vocab_size"], 300
        ids = rng.integers(0, V, n).astype(np.uint32)
        flags = ["--rope-theta", str(opt["theta"])] if "theta" in opt else []
        ref = torch_models.Model(d, opt.get("theta"))
        check_logits(tmp, name, d, ref, ids, V, flags)
        prompt = [int(x) for x in ids[200:280]]
        ref.reset()
        logits = ref.forward(prompt)[-1]
        want_ids, margin = [], float("inf")
        for _ in range(40):
            top = torch.topk(logits, 2).values
            margin = min(margin, float(top[0] - top[1]))
            want_ids.append(int(torch.argmax(logits)))
            logits = ref.forward([want_ids[-1]])[-1]
        r = subprocess.run([LONGCTX, "generate", "--model", d, "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens", "40",
                            "--json", "--ignore-eos", *flags], capture_output=True, text=True)
        got = json.loads(r.stdout)["ids"] if r.returncode == 0 else r.stderr
        check(f"{name}: greedy generation: 40 tokens identical to the reference (smallest top-2 gap {margin:.1e})", got == want_ids,
              (got, want_ids))

    # Greedy generation: the same tokens as the reference's argmax loop.
    d = os.path.join(tmp, "gqa-untied-f32")
    prompt = [3, 17, 99, 250, 7]
    ref = torch_llama.Llama(d)
    logits = ref.forward(prompt)[-1]
    want = []
    for _ in range(40):
        nxt = int(torch.argmax(logits))
        want.append(nxt)
        logits = ref.forward([nxt])[-1]
    r = subprocess.run([LONGCTX, "generate", "--model", d, "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens", "40",
                        "--json", "--ignore-eos"], capture_output=True, text=True)
    got = json.loads(r.stdout)["ids"] if r.returncode == 0 else r.stderr
    check("greedy generation: 40 tokens identical to the reference", got == want, (got, want))

    # eval-loss against the reference's per-token cross-entropy, on packed data from a store.
    sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
    import read_packed  # noqa: E402
    lm = os.path.join(tmp, "lm32k")
    torch_llama.write_checkpoint(lm, {**BASE, "vocab_size": 32000}, seed=7)
    store, plan, packed = (os.path.join(tmp, x) for x in ("store", "plan", "packed"))
    subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), store, "3", "A:60:0.3:16-200:300-900", "B:40:0.5:16-200:300-900"],
                   check=True)
    subprocess.run([LONGCTX, "mix", store, "--strategy", "original", "--tokens", "2000", "--seed", "1", "--out", plan, "-q"], check=True)
    subprocess.run([LONGCTX, "pack", plan, "--seq-len", "400", "--format", "jsonl", "--out", packed, "-q"], check=True)
    r = subprocess.run([LONGCTX, "eval-loss", "--model", lm, "--data", packed, "--bins", "0,300", "--positions", "100,250", "--json"],
                       capture_output=True, text=True)
    got = json.loads(r.stdout) if r.returncode == 0 else None
    check("eval-loss exits 0", got is not None, r.stderr)
    data = read_packed.read(packed)
    idx = open(os.path.join(store, "data.idx"), "rb").read()
    s_count = struct.unpack_from("<Q", idx, 18)[0]
    doc_len = np.frombuffer(idx, dtype="<i4", count=s_count, offset=34)
    ref = torch_llama.Llama(lm)
    cells, total, count, pcells = {}, 0.0, 0, {}
    for s in range(data["tokens"].shape[0]):
        toks = [int(x) for x in data["tokens"][s]]
        ref.reset()
        logp = torch.log_softmax(ref.forward(toks), -1)
        for pos in range(len(toks) - 1):
            loss = -float(logp[pos, toks[pos + 1]])
            total += loss
            count += 1
            pc = pcells.setdefault("100" if pos + 1 < 100 else "250" if pos + 1 < 250 else "250+", [0.0, 0])
            pc[0] += loss
            pc[1] += 1
            for (doc, _, a, b, dm) in data["spans"][s]:
                if a <= pos + 1 < b:
                    key = (data["manifest"]["domains"][dm], "0-300" if doc_len[doc] < 300 else "300+")
                    c = cells.setdefault(key, [0.0, 0])
                    c[0] += loss
                    c[1] += 1
    if got:
        check(f"eval-loss mean {got['loss']:.6f} within 1e-4 of the reference {total / count:.6f}",
              abs(got["loss"] - total / count) < 1e-4 and got["tokens"] == count)
        bad = [(k, got["domains"][k[0]][k[1]], v) for k, v in cells.items()
               if abs(got["domains"][k[0]][k[1]]["loss"] - v[0] / v[1]) > 1e-4 or got["domains"][k[0]][k[1]]["tokens"] != v[1]]
        check("eval-loss per domain x length bin within 1e-4, same token counts", not bad and len(cells) == 4, bad)
        gp = got.get("positions", {})
        check("eval-loss --positions 100,250: buckets <100, <250, 250+ within 1e-4, same token counts",
              list(gp) == ["100", "250", "250+"] and all(abs(gp[k]["loss"] - v[0] / v[1]) < 1e-4 and gp[k]["tokens"] == v[1]
                                                         for k, v in pcells.items()), (gp, pcells))
        r = subprocess.run([LONGCTX, "eval-loss", "--model", lm, "--data", packed, "--bins", "0,300", "--baseline", "/dev/stdin"],
                           input=json.dumps({"domains": {"A": {"0-300": {"loss": got["domains"]["A"]["0-300"]["loss"] + 0.5}}}}),
                           capture_output=True, text=True)
        check("--baseline prints deltas and marks |delta| > 0.01", r.returncode == 0 and "-0.5000 *" in r.stdout, r.stdout + r.stderr)

    # Bad checkpoints: one line, exit 1.
    bad = os.path.join(tmp, "bad")
    torch_llama.write_checkpoint(bad, {**BASE, "rope_scaling": {"type": "ntk-by-parts", "factor": 2.0}}, seed=1)
    r = subprocess.run([LONGCTX, "generate", "--model", bad, "--prompt-ids", "1"], capture_output=True, text=True)
    check("unknown rope_scaling type refused with one line naming it",
          r.returncode == 1 and r.stderr.count("\n") == 1 and "rope_scaling" in r.stderr and '"ntk-by-parts"' in r.stderr, r.stderr)
    torch_llama.write_checkpoint(bad, BASE, seed=1)
    raw = bytearray(open(os.path.join(bad, "model.safetensors"), "rb").read())
    hlen = struct.unpack_from("<Q", raw)[0]
    header = json.loads(raw[8:8 + hlen])
    first = sorted(k for k in header if k != "__metadata__")[0]
    header[first]["data_offsets"][1] += 10 ** 9
    h = json.dumps(header).encode()
    open(os.path.join(bad, "model.safetensors"), "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + hlen:])
    r = subprocess.run([LONGCTX, "generate", "--model", bad, "--prompt-ids", "1"], capture_output=True, text=True)
    check("safetensors offsets outside the file refused", r.returncode == 1 and "outside the data section" in r.stderr, r.stderr)
    open(os.path.join(bad, "model.safetensors"), "wb").write(struct.pack("<Q", 10 ** 12))
    r = subprocess.run([LONGCTX, "generate", "--model", bad, "--prompt-ids", "1"], capture_output=True, text=True)
    check("safetensors header length past the file refused", r.returncode == 1 and "header length" in r.stderr, r.stderr)

print("FAILED: " + ", ".join(failures) if failures else "all model checks passed")
sys.exit(1 if failures else 0)
