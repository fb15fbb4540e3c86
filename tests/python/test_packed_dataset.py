#!/usr/bin/python3
"""longctx.PackedDataset / PackedIndex and the pipeline functions, against independent references:

- the pipeline functions (longctx.mix, pack, stats, ingest, verify) write the same bytes as the
  CLI binary with the same options, and fail with the CLI's one-line message (longctx.Error);
- for every packed layout (flat, megatron, llmc, jsonl, jsonl.zst, several shards, --pad,
  --align-docs, and a bare .jsonl file), each item's input_ids, spans, position_ids, cu_seqlens and
  labels (Hugging Face convention, shifted, cross-document masking) equal what the independent
  numpy reader tests/mix/read_packed.py reads, with the expected values derived here from the
  format's definition (docs/formats/packed.md); flat's cu_seqlens equal the ones pack stored;
- tokens(i) of a binary layout is a read-only view of the mapped file (no copy);
- a DataLoader (2 workers, collate) serves the same batches, and so do whole batches built in C++
  (ds[list of indices], loader(); 1 and 2 threads); iterable() over 2 ranks x 2 workers
  serves every sequence once;
- bad input (missing folder, truncated shard, megatron-docs, index out of range) raises
  longctx.Error or IndexError, never crashes the interpreter.

usage: test_packed_dataset.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch and numpy)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(BUILD, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
import longctx  # noqa: E402
import read_packed  # noqa: E402
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")


def cli(*args):
    return subprocess.run([LONGCTX, *map(str, args)], capture_output=True, text=True)


def same_files(a, b, names):
    return all(open(os.path.join(a, n), "rb").read() == open(os.path.join(b, n), "rb").read() for n in names)


def expected(ref, i, L):
    """(edges, in_doc, positions, cu_seqlens) of sequence i from its spans, by the documented rule:
    a document starts at 0, at each span's start and right after each span (padding)."""
    edge = np.zeros(L, bool)
    edge[0] = True
    in_doc = np.zeros(L, bool)
    for (_, _, s, e, _) in ref["spans"][i]:
        edge[s] = True
        if e < L:
            edge[e] = True
        in_doc[s:e] = True
    starts = np.flatnonzero(edge)
    pos = np.arange(L) - starts[np.searchsorted(starts, np.arange(L), side="right") - 1]
    return edge, in_doc, pos, np.append(starts, L)


def true_next(ref, i, layout):
    """The token after sequence i that the layout keeps, from the independent reader, or None."""
    m, S, L = ref["manifest"], ref["tokens"].shape[0], ref["tokens"].shape[1]
    if m["align_docs"] or (m["pad_id"] is not None and i == S - 1):
        return None
    if i + 1 < S:
        return int(ref["tokens"][i + 1][0])
    if layout.startswith("jsonl"):
        return ref["labels"][i]
    if layout in ("megatron", "llmc"):
        return ref["shard_labels"][-1]
    return None  # flat keeps no label after the output's last sequence


def check_output(name, d, layout):
    ref = read_packed.read(d)
    S, L = ref["tokens"].shape
    ds = longctx.PackedDataset(d)
    shifted = longctx.PackedDataset(d, shift_labels=True)
    masked = longctx.PackedDataset(d, shift_labels=True, mask_cross_document=True)
    hf_masked = longctx.PackedDataset(d, mask_cross_document=True)
    check(f"{name}: len = the reader's {S} sequences, seq_len {L}", len(ds) == S and ds.seq_len == L, (len(ds), ds.seq_len))
    bad = []
    for i in range(S):
        it, sh, mk, hm = ds[i], shifted[i], masked[i], hf_masked[i]
        tok = ref["tokens"][i]
        edge, in_doc, pos, cu = expected(ref, i, L)
        got_spans = [tuple(int(v) for v in r) for r in ds.index.spans(i)]
        want_hf = np.where(in_doc, tok, -100)
        # Shifted: p's target is p + 1's token when both hold document tokens; L - 1's the true next token.
        want_sh = np.full(L, -100)
        want_sh[:-1] = np.where(in_doc[:-1] & in_doc[1:], tok[1:], -100)
        nxt = true_next(ref, i, layout)
        if nxt is not None and in_doc[-1]:
            want_sh[-1] = nxt
        want_mk = want_sh.copy()
        want_mk[:-1][edge[1:]] = -100
        continues = i + 1 < S and ref["spans"][i + 1] and ref["spans"][i + 1][0][1] > 0 and ref["spans"][i + 1][0][2] == 0
        if not continues:
            want_mk[-1] = -100
        want_hm = want_hf.copy()
        want_hm[1:][edge[1:]] = -100
        ok = (np.array_equal(it["input_ids"].numpy(), tok) and got_spans == ref["spans"][i] and np.array_equal(it["position_ids"].numpy(), pos)
              and np.array_equal(it["cu_seqlens"].numpy(), cu) and np.array_equal(it["labels"].numpy(), want_hf)
              and np.array_equal(sh["labels"].numpy(), want_sh) and np.array_equal(mk["labels"].numpy(), want_mk)
              and np.array_equal(hm["labels"].numpy(), want_hm) and it["input_ids"].dtype == torch.int64
              and it["cu_seqlens"].dtype == torch.int32)
        if layout == "flat" and ref["cu_seqlens"]:
            ok = ok and np.array_equal(it["cu_seqlens"].numpy(), ref["cu_seqlens"][i])
        if not ok:
            bad.append(i)
    check(f"{name}: every item's input_ids, spans, position_ids, cu_seqlens and labels (4 modes) as the reader's", not bad, bad[:5])
    if layout in ("flat", "megatron", "llmc"):
        t = ds.index.tokens(S - 1)
        check(f"{name}: tokens(i) is a read-only view of the mapped shard", not t.flags.owndata and not t.flags.writeable
              and np.array_equal(t.astype(np.int64), ref["tokens"][S - 1]), (t.flags.owndata, t.flags.writeable))
    return ref, ds


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run([SYNTH, J("store"), "3", "A:300:0.2:5-40:41-150", "B:200:0.5:5-40:41-150"], check=True, capture_output=True)

    # --- The pipeline functions = the CLI binary, byte for byte.
    r = cli("mix", J("store"), "--strategy", "per-source", "--tokens", "9K", "--long-threshold", "40", "--seed", "5", "-o", J("plan-cli"), "-q")
    check("CLI mix", r.returncode == 0, r.stderr)
    out = longctx.mix(J("store"), strategy="per-source", tokens="9K", long_threshold=40, seed=5, out=J("plan"), quiet=True)
    check("longctx.mix returns the plan folder and writes what the CLI writes", out == J("plan")
          and same_files(J("plan"), J("plan-cli"), ["plan.json", "entries.bin"]))
    r = cli("stats", J("store"), "--json")
    check("longctx.stats = `longctx stats --json`", longctx.stats(J("store")) == json.loads(r.stdout))
    longctx.pack(J("plan"), seq_len=64, format="flat", shard_sequences=7, out=J("flat"), quiet=True)
    cli("pack", J("plan"), "--seq-len", "64", "--format", "flat", "--shard-sequences", "7", "--out", J("flat-cli"), "-q")
    names = [f for f in os.listdir(J("flat-cli")) if f != "manifest.json"]
    check("longctx.pack writes the CLI's shards", same_files(J("flat"), J("flat-cli"), names), names)
    try:
        line = longctx.verify(J("flat"))
        check("longctx.verify passes a good output and returns the CLI's line", line == cli("verify", J("flat")).stdout.strip(), line)
    except longctx.Error as e:
        check("longctx.verify passes a good output", False, e)
    for args, kwargs in ((["mix", J("store"), "--strategy", "per-source", "--tokens", "-5", "--seed", "1", "-o", J("x")],
                          dict(strategy="per-source", tokens="-5", seed=1, out=J("x"))),
                         (["mix", J("nope"), "--strategy", "original", "--tokens", "1K", "--seed", "1", "-o", J("x")],
                          dict(strategy="original", tokens="1K", seed=1, out=J("x")))):
        r = cli(*args)
        try:
            longctx.mix(args[1], **kwargs)
            check(f"longctx.mix {args[1:]} raises", False)
        except longctx.Error as e:
            check(f"longctx.mix {os.path.basename(args[1])} tokens={kwargs['tokens']}: longctx.Error with the CLI's line",
                  r.returncode == 1 and r.stderr.strip() == "longctx: " + str(e), (r.stderr, str(e)))
    try:
        longctx.mix(J("store"), strategy="original", bogus_option=1, tokens="1K", seed=1, out=J("x"))
        check("an unknown option raises longctx.Error", False)
    except longctx.Error as e:
        check("an unknown option raises longctx.Error naming it", "--bogus-option" in str(e), str(e))
    # ingest through the function = ingest through the CLI (a JSONL of the store's own decoded text is not
    # needed: any text and the LLaMA-2 tokenizer).
    tokjson = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")
    with open(J("docs.jsonl"), "w") as f:
        for k in range(40):
            f.write(json.dumps({"text": f"Document {k}: " + "long context " * (k % 7 + 1), "meta": {"d": "web" if k % 3 else "code"}}) + "\n")
    cli("ingest", J("docs.jsonl"), "--tokenizer", tokjson, "--domain-field", "meta.d", "-o", J("st-cli"), "--threads", "2", "-q")
    longctx.ingest(J("docs.jsonl"), tokenizer=tokjson, domain_field="meta.d", out=J("st-py"), threads=2, quiet=True)
    check("longctx.ingest writes the CLI's store", same_files(J("st-py"), J("st-cli"), ["data.bin", "data.idx"]))

    # --- Every layout, read back by the dataset and by the independent reader.
    layouts = [("flat, 21 shards", "flat", dict(shard_sequences=7)),
               ("megatron, 2 shards", "megatron", dict(shard_sequences=11)),
               ("llmc, batch 4", "llmc", dict(batch_sequences=4)),
               ("jsonl", "jsonl", {}),
               ("jsonl.zst, 2 shards", "jsonl.zst", dict(shard_sequences=12)),
               ("flat --pad", "flat", dict(pad=0)),
               ("megatron --pad", "megatron", dict(pad=0)),
               ("flat --align-docs", "flat", dict(pad=0, align_docs=True)),
               ("jsonl --align-docs", "jsonl", dict(pad=0, align_docs=True))]
    for k, (name, layout, extra) in enumerate(layouts):
        d = J(f"out{k}")
        longctx.pack(J("plan"), seq_len=64, format=layout, out=d, quiet=True, **extra)
        check_output(name, d, layout)
    # A bare JSONL file in the paper's schema.
    shutil.copy(J("out3", "part-00000.jsonl"), J("bare.jsonl"))
    ref = read_packed.read(J("out3"))
    bare = longctx.PackedDataset(J("bare.jsonl"))
    check("bare .jsonl: the rows' input_ids", len(bare) == ref["tokens"].shape[0]
          and all(np.array_equal(bare[i]["input_ids"].numpy(), ref["tokens"][i]) for i in range(len(bare))))

    # --- DataLoader with workers and collate; sharded iteration.
    ds = longctx.PackedDataset(J("out0"))
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, collate_fn=longctx.collate)
    ok = True
    for b, batch in enumerate(loader):
        items = [ds[i] for i in range(3 * b, min(3 * b + 3, len(ds)))]
        cu = np.concatenate([items[0]["cu_seqlens"].numpy()] + [it["cu_seqlens"].numpy()[1:] + j * 64 for j, it in enumerate(items) if j])
        ok &= (torch.equal(batch["input_ids"], torch.stack([it["input_ids"] for it in items]))
               and np.array_equal(batch["cu_seqlens"].numpy(), cu) and batch["max_seqlen"] == int(np.diff(cu).max()))
    check("DataLoader (2 workers, longctx.collate): batches = stacked items, flattened cu_seqlens", ok)
    # Whole batches built in C++ (ds[list], loader()): the collated items, on 1 and 2 threads, any layout.
    for k in (0, 3, 5, 7):
        for opts in ({}, {"shift_labels": True, "mask_cross_document": True}):
            d1 = longctx.PackedDataset(J(f"out{k}"), threads=1, **opts)
            d2 = longctx.PackedDataset(J(f"out{k}"), threads=2, **opts)
            ok = True
            order = [list(b) for b in torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(d1, generator=torch.Generator().manual_seed(4)), 5, False)]
            for idx, batch in zip(order, d2.loader(batch_size=5, shuffle=True, seed=4)):
                want = longctx.collate([d1[i] for i in idx])
                one = d1[idx]
                ok &= all(torch.equal(batch[key], want[key]) and torch.equal(one[key], want[key])
                          for key in ("input_ids", "labels", "position_ids", "cu_seqlens")) and batch["max_seqlen"] == want["max_seqlen"]
            check(f"out{k} {opts}: loader() batches (2 threads) = ds[list] (1 thread) = collated items", ok)
    served = []
    for rank in range(2):
        it = ds.iterable(rank=rank, world_size=2, shuffle=True, seed=3)
        got = [x["input_ids"] for x in torch.utils.data.DataLoader(it, batch_size=None, num_workers=2)]
        served += it.order()
        mine = {tuple(ds[i]["input_ids"].tolist()) for i in it.order()}
        check(f"iterable rank {rank}/2, 2 workers: serves exactly its sequences", len(got) == len(it.order())
              and {tuple(g.tolist()) for g in got} == mine)
    check("iterable: 2 ranks together serve every sequence once (the last len % 2 dropped)",
          sorted(served) == sorted(set(served)) and len(served) == len(ds) // 2 * 2, (len(served), len(ds)))

    # --- Bad input.
    def raises(what, fn, kind=longctx.Error, needle=""):
        try:
            fn()
            check(what, False, "no exception")
        except kind as e:
            check(what, needle in str(e), str(e))

    raises("a missing folder raises longctx.Error naming it", lambda: longctx.PackedDataset(J("nope")), needle="nope")
    shutil.copytree(J("out1"), J("trunc"))
    with open(J("trunc", "part-00000.bin"), "r+b") as f:
        f.truncate(100)
    raises("a truncated shard raises longctx.Error naming the file", lambda: longctx.PackedDataset(J("trunc"))[0], needle="part-00000.bin")
    longctx.pack(J("plan"), format="megatron-docs", out=J("docs"), quiet=True)
    raises("a megatron-docs output is refused with the reason", lambda: longctx.PackedDataset(J("docs")), needle="megatron-docs")
    raises("an index out of range raises IndexError", lambda: longctx.PackedDataset(J("out0")).index.sample(10 ** 6), kind=IndexError)
    os.remove(J("st-py", "manifest.json"))
    r = cli("stats", J("st-py"))
    raises("a store still being written (no manifest.json): the CLI's line", lambda: longctx.Store(J("st-py")),
           needle=r.stderr.strip().removeprefix("longctx: ").split(":")[0])

sys.exit(1 if failures else 0)
