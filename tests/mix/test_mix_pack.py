#!/usr/bin/python3
"""`longctx mix` / `pack` / `verify` on synthetic stores with known length distributions
(tests/mix/make_synthetic_store.cpp), checked by independent means (numpy readers written from the
format docs):

- per-source keeps every domain at its target share (within 0.5% absolute) while its long-token
  share approaches the paper's L / (L + p(1 - L)) (within 2%); global and upsample move shares the
  documented way; cut never emits a piece longer than LEN; target meets its bin shares;
- every planned entry appears in the packed output exactly as planned, token for token, in every
  layout (jsonl, jsonl.zst, megatron, llmc, flat), and each layout's structure is right;
- same seed -> byte-identical plans and outputs for any thread count; another seed -> another order;
- bad input: one line, exit 1, nothing written; verify catches a damaged file.

usage: test_mix_pack.py ROOT BUILD
"""
import collections
import filecmp
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
import read_packed  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402
DOC = np.dtype([("line", "<u8"), ("input", "<u4"), ("chars", "<u4"), ("domain", "<u2"), ("r1", "<u2"), ("r2", "<u4")])
ENTRY = np.dtype([("doc", "<u8"), ("start", "<u4"), ("length", "<u4")])




def run(*args):
    return subprocess.run([LONGCTX, *args], capture_output=True)


def ok(name, *args):
    r = run(*args)
    check(name, r.returncode == 0, r.stderr.decode())
    return r


def expect_error(name, args, message, out):
    r = run(*args)
    err = r.stderr.decode()
    check(name, r.returncode == 1 and err.count("\n") == 1 and message in err and not os.path.exists(os.path.join(out, "plan.json"))
          and not os.path.exists(os.path.join(out, "manifest.json")), f"rc={r.returncode} {err!r}")


class Store:
    """The store's files read with numpy, from docs/formats/store.md and megatron.md."""

    def __init__(self, d):
        self.manifest = json.load(open(os.path.join(d, "manifest.json")))
        idx = open(os.path.join(d, "data.idx"), "rb").read()
        assert idx[:9] == b"MMIDIDX\x00\x00" and idx[17] == 8
        s = struct.unpack_from("<Q", idx, 18)[0]
        self.lengths = np.frombuffer(idx, dtype="<i4", count=s, offset=34).astype(np.int64)
        self.offsets = np.frombuffer(idx, dtype="<i8", count=s, offset=34 + 4 * s) // 2
        self.bin = np.memmap(os.path.join(d, "data.bin"), dtype="<u2", mode="r")
        self.docs = np.fromfile(os.path.join(d, "docs.bin"), dtype=DOC)
        self.domain = self.docs["domain"].astype(np.int64)
        self.names = [x["name"] for x in self.manifest["domains"]]

    def tokens(self, doc, start, length):
        o = int(self.offsets[doc]) + start
        return self.bin[o:o + length]


def read_plan(d):
    meta = json.load(open(os.path.join(d, "plan.json")))
    e = np.fromfile(os.path.join(d, "entries.bin"), dtype=ENTRY)
    return meta, e


def shares(store, entries):
    t = collections.Counter()
    for doc, ln in zip(entries["doc"], entries["length"]):
        t[store.names[store.domain[doc]]] += int(ln)
    total = sum(t.values())
    return {k: v / total for k, v in t.items()}, total


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    # Four domains, long threshold 512 (many documents on each side keep the statistics tight):
    # A mostly short, B mixed, C mostly long, D small.
    spec = ["A:40000:0.05:16-512:513-2048", "B:12000:0.3:16-512:513-2048", "C:5000:0.8:16-512:513-2048", "D:6000:0.2:16-512:513-2048"]
    subprocess.run([SYNTH, J("store"), "7", *spec], check=True)
    st = Store(J("store"))
    lengths, dom = st.lengths, st.domain
    natural = {n: float(lengths[dom == i].sum() / lengths.sum()) for i, n in enumerate(st.names)}
    long_share = {n: float(lengths[(dom == i) & (lengths > 512)].sum() / lengths[dom == i].sum()) for i, n in enumerate(st.names)}
    print("store:", {n: (round(natural[n], 4), round(long_share[n], 4)) for n in st.names})
    common = ["--seed", "11", "--long-threshold", "512"]

    # --- per-source: shares kept, long shares raised as the formula says.
    ok("per-source plan", "mix", J("store"), "--strategy", "per-source", "--tokens", "6M", "--out", J("ps"), *common)
    meta, e = read_plan(J("ps"))
    got, total = shares(st, e)
    p = 0.1
    # Exact budgets (the default since issue 18): whole documents but each domain's last entry, a prefix.
    cut = np.nonzero(e["length"] != lengths[e["doc"]])[0]
    last = {int(dom[d]): i for i, d in enumerate(e["doc"])}
    check("per-source: every entry a whole document but each domain's last, cut to a prefix",
          bool(np.all(e["start"] == 0)) and all(int(i) == last[int(dom[e["doc"][i]])] for i in cut), list(cut))
    check("per-source: planned tokens = --tokens exactly", int(e["length"].sum()) == 6_000_000, int(e["length"].sum()))
    check("per-source: domain shares within 0.5% of the store's", all(abs(got[n] - natural[n]) < 0.005 for n in st.names),
          {n: (got.get(n), natural[n]) for n in st.names})
    for i, n in enumerate(st.names):
        sel = e[dom[e["doc"]] == i]
        ls = float(sel["length"][sel["length"] > 512].sum() / sel["length"].sum())
        L = long_share[n]
        want = L / (L + p * (1 - L))
        check(f"per-source: {n} long-token share {ls:.3f} within 2% of L/(L+p(1-L)) = {want:.3f}", abs(ls - want) < 0.02)
    check("per-source: plan.json reports what the entries hold",
          meta["tokens"] == int(e["length"].sum()) and
          all(meta["domains"][n]["tokens"] == int(e["length"][dom[e["doc"]] == i].sum()) for i, n in enumerate(st.names)))
    ok("same seed again", "mix", J("store"), "--strategy", "per-source", "--tokens", "6M", "--out", J("ps2"), *common)
    check("same seed: byte-identical plan", filecmp.cmp(J("ps", "entries.bin"), J("ps2", "entries.bin"), shallow=False)
          and filecmp.cmp(J("ps", "plan.json"), J("ps2", "plan.json"), shallow=False))
    ok("another seed", "mix", J("store"), "--strategy", "per-source", "--tokens", "6M", "--out", J("ps3"), "--seed", "12", "--long-threshold", "512")
    check("another seed: another plan", not filecmp.cmp(J("ps", "entries.bin"), J("ps3", "entries.bin"), shallow=False))

    # --- global: no budgets, so the mostly-long domain grows and the mostly-short one shrinks.
    ok("global plan", "mix", J("store"), "--strategy", "global", "--tokens", "6M", "--out", J("gl"), *common)
    g, gtotal = shares(st, read_plan(J("gl"))[1])
    check("global: long domain C up, short domain A down", g["C"] > natural["C"] + 0.05 and g["A"] < natural["A"] - 0.05, g)
    check("global: total reaches --tokens", gtotal >= 6_000_000, gtotal)

    # --- upsample: the domain's weight set to 0.6, then normalised (the paper's script).
    ok("upsample plan", "mix", J("store"), "--strategy", "upsample:D", "--tokens", "4M", "--out", J("up"), "--max-repeat", "3", *common)
    u, _ = shares(st, read_plan(J("up"))[1])
    want_d = 0.6 / (0.6 + 1 - natural["D"])
    check(f"upsample:D: D's share {u['D']:.3f} = 0.6 / (0.6 + 1 - {natural['D']:.3f}) = {want_d:.3f} within 0.5%", abs(u["D"] - want_d) < 0.005)

    # --- cut:LEN and original.
    ok("cut:300 plan", "mix", J("store"), "--strategy", "cut:300", "--tokens", "3M", "--out", J("cut"), *common)
    _, ce = read_plan(J("cut"))
    check("cut:300: no piece longer than 300", int(ce["length"].max()) <= 300)
    pieces = collections.defaultdict(list)
    for d, s0, ln in ce:
        pieces[int(d)].append((int(s0), int(ln)))
    whole = all(sorted(v)[0][0] == 0 and sum(x[1] for x in v) == lengths[d] and
                all(a[0] + a[1] == b[0] for a, b in zip(sorted(v), sorted(v)[1:])) for d, v in pieces.items())
    check("cut:300: each document's pieces cover it exactly", whole)
    ok("original plan", "mix", J("store"), "--strategy", "original", "--tokens", "3M", "--out", J("orig"), *common)
    _, oe = read_plan(J("orig"))
    check("original: whole documents until --tokens", int(oe["length"].sum()) >= 3_000_000 and int(oe["length"][:-1].sum()) < 3_000_000
          and bool(np.all(oe["start"] == 0)))

    # --- target: domain shares and length-bin shares.
    ok("target plan", "mix", J("store"), "--strategy", "target", "--tokens", "3M", "--domain-shares", "A=0.4,B=0.3,C=0.2,D=0.1",
       "--bins", "0,512", "--bin-shares", "0.3,0.7", "--out", J("tg"), "--max-repeat", "4", *common)
    _, te = read_plan(J("tg"))
    ts, ttotal = shares(st, te)
    long_tok = int(te["length"][te["length"] > 511].sum())
    check("target: domain shares within 0.5%", all(abs(ts[n] - w) < 0.005 for n, w in zip("ABCD", (0.4, 0.3, 0.2, 0.1))), ts)
    check("target: bin shares within 1%", abs(long_tok / ttotal - 0.7) < 0.01, long_tok / ttotal)

    # --- --length-estimate chars/R decides on characters (the store has 4 characters per token).
    ok("chars estimate plan", "mix", J("store"), "--strategy", "original", "--tokens", "1M", "--length-estimate", "chars/4", "--out",
       J("est"), *common)
    check("chars/4 on 4-chars-per-token documents plans what exact counts plan",
          filecmp.cmp(J("est", "entries.bin"), J("orig1", "entries.bin"), shallow=False) if
          ok("exact plan", "mix", J("store"), "--strategy", "original", "--tokens", "1M", "--out", J("orig1"), *common).returncode == 0 else False)

    # --- bad input: one line, exit 1, nothing written.
    expect_error("unknown domain in the shares", ["mix", J("store"), "--strategy", "per-source", "--tokens", "1M", "--seed", "1",
                 "--domain-shares", "A=0.5,Z=0.5", "--out", J("bad1")], 'no domain "Z"', J("bad1"))
    expect_error("shares not summing to 1", ["mix", J("store"), "--strategy", "per-source", "--tokens", "1M", "--seed", "1",
                 "--domain-shares", "A=0.5,B=0.4", "--out", J("bad2")], "expected shares summing to 1", J("bad2"))
    expect_error("more tokens than the store has, without --max-repeat", ["mix", J("store"), "--strategy", "original", "--tokens", "1B",
                 "--seed", "1", "--out", J("bad3")], "allow repeats with --max-repeat", J("bad3"))
    expect_error("a per-source budget the store cannot fill", ["mix", J("store"), "--strategy", "per-source", "--tokens", "40M",
                 "--seed", "1", "--out", J("bad4")], "of a budget of", J("bad4"))

    # --- pack: every layout, several shards; every planned entry exactly once, token for token.
    plan_meta, pe = read_plan(J("ps"))
    L = 5000  # not a multiple of any document length pattern: documents cross edges
    layouts = ["jsonl", "jsonl.zst", "megatron", "llmc", "flat"]
    reads = {}
    for fmt in layouts:
        out = J(f"pk-{fmt}")
        ok(f"pack --format {fmt}", "pack", J("ps"), "--seq-len", str(L), "--format", fmt, "--out", out, "--shard-sequences", "300",
           "--threads", "2", "-q")
        ok(f"verify {fmt}", "verify", out)
        reads[fmt] = read_packed.read(out)
    ref = reads["megatron"]
    m = ref["manifest"]
    total = int(pe["length"].sum())
    check("pack: sequences = floor((T - 1) / L) (a label after each)", m["sequences"] == (total - 1) // L, (m["sequences"], total))
    check("pack: several shards", len(m["shards"]) > 1)
    for fmt in layouts:
        r = reads[fmt]
        check(f"{fmt}: same tokens and spans as megatron", np.array_equal(r["tokens"], ref["tokens"]) and r["spans"] == ref["spans"])
    # Tokens come from the spans' documents, spans tile each sequence, and joined across edges
    # the spans give back the plan's entries (all but the dropped tail).
    bad_tok, bad_tile, pieces = 0, 0, []
    for s, sp in enumerate(ref["spans"]):
        pos = 0
        for (doc, doff, a, b, dm) in sp:
            if a != pos or dm != dom[doc]:
                bad_tile += 1
            pos = b
            if not np.array_equal(ref["tokens"][s, a:b], st.tokens(doc, doff, b - a)):
                bad_tok += 1
            if a == 0 and pieces and pieces[-1][0] == doc and pieces[-1][1] + pieces[-1][2] == doff and s > 0:
                pieces[-1][2] += b - a
            else:
                pieces.append([doc, doff, b - a])
        bad_tile += pos != L
    check("every span's tokens equal its document's tokens in the store", bad_tok == 0, bad_tok)
    check("spans tile every sequence, with their documents' domains", bad_tile == 0, bad_tile)
    planned = collections.Counter((int(d), int(s0), int(ln)) for d, s0, ln in pe)
    got = collections.Counter(tuple(x) for x in pieces[:-1])
    missing = planned - got
    extra = got - planned
    last = pieces[-1]
    check("every planned entry appears exactly once (except the dropped tail)",
          not extra and sum(k[2] for k in missing.elements()) - last[2] == m["dropped_tail_tokens"] and
          any(k[0] == last[0] and k[1] == last[1] for k in missing), (len(missing), len(extra)))
    j = reads["jsonl"]
    labels_ok = all(j["labels"][s] == int(ref["tokens"][s + 1, 0]) for s in range(m["sequences"] - 1))
    check("jsonl: labels are the next token after each sequence", labels_ok)
    check("jsonl: source spans name the domains", all(
        [(nm, a, b) for nm, a, b in j["sources"][s]] == [(st.names[dm], a, b) for (_, _, a, b, dm) in ref["spans"][s]]
        for s in range(m["sequences"])))
    f = reads["flat"]
    check("flat: cu_seqlens = 0, span ends, L", all(list(f["cu_seqlens"][s]) == [0] + [b for (_, _, _, b, _) in ref["spans"][s]]
                                                    for s in range(m["sequences"])))
    # Same bytes for any thread count; another seed, another order.
    ok("pack with 1 thread", "pack", J("ps"), "--seq-len", str(L), "--format", "jsonl.zst", "--out", J("pk-1t"), "--shard-sequences",
       "300", "--threads", "1", "-q")
    same = all(filecmp.cmp(J("pk-1t", x), J("pk-jsonl.zst", x), shallow=False) for x in os.listdir(J("pk-1t")))
    check("pack: byte-identical for 1 and 2 threads", same)
    ok("pack with another seed", "pack", J("ps"), "--seq-len", str(L), "--format", "megatron", "--out", J("pk-seed"), "--seed", "99", "-q")
    check("pack: another seed, another order", not np.array_equal(read_packed.read(J("pk-seed"))["tokens"], ref["tokens"]))
    # Array tasks and MPI ranks: the same bytes as one process, file for file.
    def same_dir(a, b):
        fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
        return fa == fb and all(filecmp.cmp(os.path.join(a, x), os.path.join(b, x), shallow=False) for x in fa)
    args = [J("ps"), "--seq-len", str(L), "--format", "jsonl.zst", "--shard-sequences", "300", "-q"]
    r = run("pack", *args, "--out", J("pk-tasks"), "--task-id", "1", "--num-tasks", "2")
    check("array task 1 of 2 writes its shards, no manifest yet", r.returncode == 0 and not os.path.exists(J("pk-tasks", "manifest.json")),
          r.stderr.decode())
    ok("array task 0 of 2", "pack", *args, "--out", J("pk-tasks"), "--task-id", "0", "--num-tasks", "2")
    check("2 array tasks == one process (every file)", same_dir(J("pk-tasks"), J("pk-1t")), sorted(os.listdir(J("pk-tasks"))))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    r = subprocess.run(["mpirun", "-n", "2", LONGCTX, "pack", *args, "--out", J("pk-mpi"), "--threads", "1"], capture_output=True, env=env)
    check("mpirun -n 2 pack exits 0", r.returncode == 0, r.stderr.decode()[-1500:])
    check("2 MPI ranks == one process (every file)", same_dir(J("pk-mpi"), J("pk-1t")), sorted(os.listdir(J("pk-mpi"))))

    # --align-docs: no document piece crosses an edge; padding fills the rest.
    ok("pack --align-docs", "pack", J("ps"), "--seq-len", "4096", "--format", "flat", "--align-docs", "--pad", "0", "--out", J("pk-al"), "-q")
    al = read_packed.read(J("pk-al"))
    pieces_al = collections.Counter()
    for s, sp in enumerate(al["spans"]):
        for (doc, doff, a, b, dm) in sp:
            pieces_al[(doc, doff, b - a)] += 1
        end = sp[-1][3] if sp else 0
        if np.any(al["tokens"][s, end:] != 0):
            failures.append("align padding")
    split_planned = collections.Counter()
    for d, s0, ln in pe:
        for o in range(0, int(ln), 4096):
            split_planned[(int(d), int(s0) + o, min(4096, int(ln) - o))] += 1
    check("--align-docs: every planned entry whole in one sequence (entries over L cut at L)", pieces_al == split_planned)
    fill = al["manifest"]["document_tokens"] / al["manifest"]["tokens"]
    check(f"--align-docs: best fit fills sequences ({fill:.3f} > 0.97)", fill > 0.97)
    # verify catches damage; bad pack input.
    victim = J("pk-megatron", "part-00001.bin")
    data = bytearray(open(victim, "rb").read())
    data[100] ^= 1
    open(victim, "wb").write(bytes(data))
    r = run("verify", J("pk-megatron"))
    check("verify: a flipped byte is found, naming the file", r.returncode == 1 and "part-00001.bin" in r.stderr.decode(), r.stderr.decode())
    expect_error("pack --align-docs without --pad", ["pack", J("ps"), "--seq-len", "4096", "--format", "flat", "--align-docs", "--out",
                 J("bad5")], "--pad", J("bad5"))
    expect_error("pack into an existing output", ["pack", J("ps"), "--seq-len", str(L), "--format", "flat", "--out", J("pk-flat")],
                 "already holds a packed output", J("nonexistent"))

    # --- Paths in plans and packed manifests work from any folder (relative to the recording file).
    w1, w2 = J("w1"), J("w2")
    os.makedirs(w2)
    subprocess.run([SYNTH, os.path.join(w1, "store"), "3", "A:60:0.3:16-200:300-900", "B:40:0.5:16-200:300-900"], check=True)

    def run_in(cwd, *args):
        return subprocess.run([os.path.abspath(LONGCTX), *args], capture_output=True, cwd=cwd)

    r = run_in(w1, "mix", "store", "--strategy", "original", "--tokens", "2000", "--seed", "1", "--out", "plan", "-q")
    check("mix run inside the folder, relative paths", r.returncode == 0, r.stderr.decode())
    check("plan records the store relative to the plan's folder", json.load(open(os.path.join(w1, "plan", "plan.json")))["store"]["path"]
          == "../store")
    r1 = run_in(w1, "pack", "plan", "--seq-len", "400", "--format", "jsonl", "--out", "packed1", "-q")
    r2 = run_in(w2, "pack", "../w1/plan", "--seq-len", "400", "--format", "jsonl", "--out", "../w1/packed2", "-q")
    check("pack from the plan's folder and from another folder both run", r1.returncode == 0 and r2.returncode == 0,
          r1.stderr.decode() + r2.stderr.decode())
    check("pack from another folder: the same output, file for file", same_dir(os.path.join(w1, "packed1"), os.path.join(w1, "packed2")))
    pm = json.load(open(os.path.join(w1, "packed1", "manifest.json")))
    check("packed manifest records plan and store relative to its folder", pm["plan"]["path"] == "../plan" and pm["store"] == "../store",
          (pm["plan"], pm["store"]))
    # An older plan: its store path relative to the folder mix ran in (here tmp) still works from there.
    old = json.load(open(os.path.join(w1, "plan", "plan.json")))
    os.makedirs(J("oldplan"))
    for f in ("entries.bin",):
        open(J("oldplan", f), "wb").write(open(os.path.join(w1, "plan", f), "rb").read())
    old["store"]["path"] = "w1/store"
    del old["store"]["relative_to"]
    json.dump(old, open(J("oldplan", "plan.json"), "w"), indent=2)
    r = run_in(tmp, "pack", "oldplan", "--seq-len", "400", "--format", "jsonl", "--out", "packed-old", "-q")
    check("an older plan (store path relative to the current folder) still packs from that folder", r.returncode == 0, r.stderr.decode())
    same_tokens = r.returncode == 0 and np.array_equal(read_packed.read(J("packed-old"))["tokens"],
                                                       read_packed.read(os.path.join(w1, "packed1"))["tokens"])
    check("... to the same sequences", same_tokens)
    # eval-loss: the same result from either folder, with document lengths from the store.
    lm = None
    try:
        sys.path.insert(0, os.path.join(ROOT, "tests/model"))
        import torch_llama  # noqa: E402
        lm = J("lm")
        torch_llama.write_checkpoint(lm, {"vocab_size": 32000, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
                                          "num_attention_heads": 8, "num_key_value_heads": 2, "max_position_embeddings": 512,
                                          "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}, seed=7)
    except ImportError as e:
        print(f"note: no tiny model ({e}); eval-loss from another folder not checked")
    if lm:
        e1 = run_in(w1, "eval-loss", "--model", lm, "--data", "packed1", "--bins", "0,300", "--json")
        e2 = run_in(w2, "eval-loss", "--model", lm, "--data", "../w1/packed1", "--bins", "0,300", "--json")
        check("eval-loss from the output's folder and from another folder: the same JSON", e1.returncode == 0 and e1.stdout == e2.stdout,
              e1.stderr.decode() + e2.stderr.decode())
        check("eval-loss takes document lengths from the store", e1.returncode == 0 and json.loads(e1.stdout)["length_source"] == "store")
    # The store moved away: one line naming the plan (pack) or the manifest (eval-loss) and the path, never a fallback.
    os.rename(os.path.join(w1, "store"), os.path.join(w1, "store-moved"))
    r = run_in(w2, "pack", "../w1/plan", "--seq-len", "400", "--format", "jsonl", "--out", "packed3", "-q")
    err = r.stderr.decode()
    check("pack with the plan's store moved away: one line naming the plan and the path",
          r.returncode == 1 and err.count("\n") == 1 and "../w1/plan/plan.json" in err and "w1/store" in err
          and not os.path.exists(os.path.join(w2, "packed3")), err)
    if lm:
        r = run_in(w2, "eval-loss", "--model", lm, "--data", "../w1/packed1", "--bins", "0,300", "--json")
        err = r.stderr.decode()
        check("eval-loss with the store moved away: one line naming the manifest and the path, no span fallback",
              r.returncode == 1 and err.count("\n") == 1 and "../w1/packed1/manifest.json" in err and "w1/store" in err and not r.stdout,
              err)

print("FAILED: " + ", ".join(failures) if failures else "all mix/pack checks passed")
sys.exit(1 if failures else 0)
