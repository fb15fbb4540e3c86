#!/usr/bin/python3
"""Tokenize only what the plan keeps (issue 15, item 4; docs/tokenize-kept.md), against the path
that tokenizes everything, on a generated four-domain corpus (LLaMA-2 tokenizer), with the
stores and plans read by an independent numpy reader (tests/mix/np_store.py):

- the sample store (ingest --sample-rate) records every document with the full store's origin,
  characters and domain; a sampled document has the full store's tokens, the others length 0;
  the sample is the documents whose coin (docs/tokenize-kept.md: SplitMix64 of seed, input, line)
  falls under the rate, recomputed here; byte-identical with 1 and 2 threads and 2 MPI ranks;
- the selection plan's calibration is recomputed here from the sample store (tokens per character
  per domain, exact lengths for sampled documents) and its budgets are the largest-remainder
  apportionment of --tokens by the estimated domain totals;
- the subset store (ingest --select) holds exactly the selection's distinct documents, each with
  the full store's tokens; byte-identical with 1 and 2 threads and 2 MPI ranks;
- the trimmed plan (mix --trim) meets each budget to the token (per-source, upsample, global) or
  reaches --tokens with whole documents / pieces (original, cut:LEN); it takes the selection's
  documents in the selection's order, whole except each domain's last, a prefix; it packs and
  verifies; its domain shares are within 0.02 of the exact path's and the long-token shares are
  printed next to the exact path's;
- bad use is one line, exit 1: pack of a selection plan, --trim on a store of every document,
  --trim with --tokens, --select with other inputs, a corpus changed between the passes, target
  or --length-estimate on a sample store, a plain mix of a sample store from prepare's code path.

usage: test_tokenize_kept.py ROOT BUILD
"""
import collections
import filecmp
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from checklist import check, failures  # noqa: E402
from np_store import Store, largest_remainder, read_plan  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
TOK = os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json")
THRESHOLD = 512
TOKENS = 120000
RATE, SEED = 0.25, 7
M64 = (1 << 64) - 1


def run(*args, cwd=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, text=True, cwd=cwd)


def ok(name, *args):
    r = run(*args)
    check(name, r.returncode == 0, r.stderr)
    return r


def fails(name, expect, *args):
    r = run(*args)
    err = r.stderr.strip().splitlines()
    check(name, r.returncode == 1 and len(err) == 1 and expect in err[0] and "internal error" not in err[0], r.stderr)


def splitmix(x):
    x = (x + 0x9e3779b97f4a7c15) & M64
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def coin(seed, rate, inp, line):
    """docs/tokenize-kept.md: tokenized when (SplitMix64(SplitMix64(SplitMix64(seed) ^ input) ^ line) >> 11) / 2^53 < rate."""
    return rate >= 1 or (splitmix(splitmix(splitmix(seed) ^ inp) ^ line) >> 11) / float(1 << 53) < rate


def corpus(path, rnd):
    """Four domains that tokenize differently: prose, code (more tokens per character), numbers-heavy
    tables, and a few long books; lengths heavy-tailed so that every domain has documents on both
    sides of the 512-token threshold."""
    words = "the of and to in is was that for it with as his on be at by had not are but from or have an they which one you were her all".split()
    words += "whale ship captain ocean harpoon sailor voyage island wind deck crew storm night morning distant shore".split()
    code = ["def", "return", "self", "if", "else:", "for", "in", "range(", "):", "x", "y", "=", "==", "+=", "import", "numpy", "np.", "array",
            "[i]", "{", "}", "0", "1", "None", "True", "print(", "len(", "#", "->", "::"]
    lines = []

    def text(vocab, n, sep=" "):
        return sep.join(rnd.choice(vocab) for _ in range(n))

    for i in range(1400):
        dom = rnd.choices(["Web", "Code", "Tables", "Book"], weights=[60, 25, 13, 2])[0]
        n = int(rnd.paretovariate(1.3) * 60)
        if dom == "Book":
            n = rnd.randint(3000, 9000)
        if dom == "Code":
            body = "\n".join(text(code, rnd.randint(3, 12)) for _ in range(max(1, n // 8)))
        elif dom == "Tables":
            body = "\n".join(" | ".join(str(rnd.randint(0, 99999)) for _ in range(6)) for _ in range(max(1, n // 10)))
        else:
            body = text(words, min(n, 20000)).capitalize() + "."
        lines.append(json.dumps({"text": body, "meta": {"redpajama_set_name": dom}}))
        if i == 700:
            lines.append("{not json")  # a skipped line: both passes skip it
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


with tempfile.TemporaryDirectory() as tmp:
    rnd = random.Random(20241)
    src = os.path.join(tmp, "corpus")
    os.makedirs(src)
    a, b = os.path.join(src, "a.jsonl"), os.path.join(src, "b.jsonl")
    corpus(a, rnd)
    corpus(b, rnd)
    ins = [a, b]
    full, sample = os.path.join(tmp, "full"), os.path.join(tmp, "sample")
    ok("full store (every document tokenized)", "ingest", *ins, "--tokenizer", TOK, "--out", full, "-q")
    ok("sample store, --sample-rate 0.25, 2 threads", "ingest", *ins, "--tokenizer", TOK, "--out", sample, "--sample-rate", str(RATE),
       "--sample-seed", str(SEED), "--threads", "2", "-q")
    F, S = Store(full), Store(sample)

    # 1. The sample store.
    same_docs = all(np.array_equal(F.docs[k], S.docs[k]) for k in ("line", "input", "chars", "domain"))
    check("sample store: every document, with the full store's origin, characters and domain", len(S.docs) == len(F.docs) and same_docs)
    want = np.array([coin(SEED, RATE, int(d["input"]), int(d["line"])) for d in F.docs])
    check("sample store: tokenized exactly the documents whose coin is under the rate", np.array_equal(S.lengths > 0, want),
          (int((S.lengths > 0).sum()), int(want.sum())))
    check("sample store: about the rate of documents sampled", abs(want.mean() - RATE) < 0.05, want.mean())
    check("sample store: a sampled document has the full store's tokens",
          all(np.array_equal(S.tokens(i, 0, int(S.lengths[i])), F.tokens(i, 0, int(F.lengths[i]))) for i in np.nonzero(want)[0]))
    check("sample store: manifest says so", S.manifest.get("selection") == {"kind": "sample", "rate": RATE, "seed": SEED}, S.manifest.get("selection"))
    one = os.path.join(tmp, "sample1")
    ok("sample store on 1 thread", "ingest", *ins, "--tokenizer", TOK, "--out", one, "--sample-rate", str(RATE), "--sample-seed", str(SEED),
       "--threads", "1", "-q")
    files = ["manifest.json", "data.bin", "data.idx", "docs.bin"]
    check("sample store: byte-identical on 1 and 2 threads", filecmp.cmpfiles(one, sample, files, shallow=False)[0] == files)
    if shutil.which("mpirun"):
        ranks = os.path.join(tmp, "sample-mpi")
        r = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", LONGCTX, "ingest", *ins, "--tokenizer", TOK,
                            "--out", ranks, "--sample-rate", str(RATE), "--sample-seed", str(SEED), "-q"], capture_output=True, text=True)
        check("sample store: 2 MPI ranks give the same bytes", r.returncode == 0 and
              filecmp.cmpfiles(ranks, sample, files, shallow=False)[0] == files, r.stderr[-2000:])

    # 2. The selection plan (per-source), its calibration recomputed.
    sel = os.path.join(tmp, "sel")
    mixargs = ["--tokens", str(TOKENS), "--seed", "3", "--long-threshold", str(THRESHOLD)]
    ok("selection plan: mix on the sample store", "mix", sample, "--strategy", "per-source", *mixargs, "--out", sel, "-q")
    sm, se = read_plan(sel)
    est = sm["estimate"]
    specials = 1  # LLaMA-2's BOS, no EOS
    tpc, est_tokens, lengths = {}, [], S.lengths.copy()
    pooled_num = sum(int(S.lengths[i]) - specials for i in np.nonzero(want)[0])
    pooled_den = sum(int(S.docs["chars"][i]) for i in np.nonzero(want)[0])
    for d, name in enumerate(S.names):
        mine = np.nonzero((S.domain == d) & want)[0]
        num = sum(int(S.lengths[i]) - specials for i in mine)
        den = sum(int(S.docs["chars"][i]) for i in mine)
        tpc[name] = num / den if den > 0 and (len(mine) >= 20 or den >= 20000) else pooled_num / pooled_den
        unsampled = np.nonzero((S.domain == d) & ~want)[0]
        lengths[unsampled] = np.maximum(1, np.round(S.docs["chars"][unsampled] * tpc[name]).astype(np.int64) + specials)
        est_tokens.append(int(lengths[S.domain == d].sum()))
    check("calibration: tokens per character per domain as recomputed",
          all(abs(est["domains"][n]["tokens_per_char"] - tpc[n]) < 1e-12 for n in S.names), ({n: est["domains"][n]["tokens_per_char"] for n in S.names}, tpc))
    check("calibration: estimated domain totals as recomputed", [est["domains"][n]["estimated_tokens"] for n in S.names] == est_tokens,
          ([est["domains"][n]["estimated_tokens"] for n in S.names], est_tokens))
    budgets = largest_remainder(TOKENS, est_tokens)
    check("selection: budgets = --tokens apportioned by the estimated totals", [est["domains"][n]["budget"] for n in S.names] == budgets)
    err = {n: est_tokens[d] / F.tokens_of[d] - 1 for d, n in enumerate(S.names)}
    print("estimate error per domain (estimated / exact tokens - 1):", {n: round(x, 4) for n, x in err.items()})
    check("calibration: every domain's estimated total within 5% of its exact tokens", all(abs(x) < 0.05 for x in err.values()), err)
    fails("pack refuses a selection plan", "is a selection plan over the sample store", "pack", sel, "--seq-len", "1024", "--format", "flat",
          "--out", os.path.join(tmp, "nopack"))

    # 3. The subset store.
    kept = os.path.join(tmp, "kept")
    ok("subset store: ingest --select, 2 threads", "ingest", *ins, "--tokenizer", TOK, "--out", kept, "--select", sel, "--threads", "2", "-q")
    K = Store(kept)
    chosen = sorted({(int(S.docs["input"][d]), int(S.docs["line"][d])) for d in se["doc"]})
    kkeys = list(zip(K.docs["input"].tolist(), K.docs["line"].tolist()))
    check("subset store: exactly the selection's distinct documents, in input order", kkeys == chosen, (len(kkeys), len(chosen)))
    where = {(int(d["input"]), int(d["line"])): i for i, d in enumerate(F.docs)}
    check("subset store: each document has the full store's tokens",
          all(np.array_equal(K.tokens(k, 0, int(K.lengths[k])), F.tokens(where[key], 0, int(F.lengths[where[key]]))) for k, key in enumerate(kkeys)))
    kept1 = os.path.join(tmp, "kept1")
    ok("subset store on 1 thread", "ingest", *ins, "--tokenizer", TOK, "--out", kept1, "--select", sel, "--threads", "1", "-q")
    check("subset store: byte-identical on 1 and 2 threads", filecmp.cmpfiles(kept1, kept, files, shallow=False)[0] == files)
    if shutil.which("mpirun"):
        ranks = os.path.join(tmp, "kept-mpi")
        r = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", LONGCTX, "ingest", *ins, "--tokenizer", TOK,
                            "--out", ranks, "--select", sel, "-q"], capture_output=True, text=True)
        check("subset store: 2 MPI ranks give the same bytes", r.returncode == 0 and
              filecmp.cmpfiles(ranks, kept, files, shallow=False)[0] == files, r.stderr[-2000:])

    # 4. The trim, against the exact path, for every strategy.
    for strat, extra in [("per-source", []), ("upsample:Code", ["--max-repeat", "3"]), ("global", []), ("original", []), ("cut:512", [])]:
        name = strat.replace(":", "-")
        s_dir, k_dir, p_dir, x_dir = (os.path.join(tmp, f"{x}-{name}") for x in ("sel", "kept", "plan", "exact"))
        ok(f"{strat}: selection", "mix", sample, "--strategy", strat, *mixargs, *extra, "--out", s_dir, "-q")
        ok(f"{strat}: subset store", "ingest", *ins, "--tokenizer", TOK, "--out", k_dir, "--select", s_dir, "-q")
        ok(f"{strat}: trim", "mix", k_dir, "--trim", s_dir, "--out", p_dir, "-q")
        ok(f"{strat}: the exact path's plan", "mix", full, "--strategy", strat, *mixargs, *extra, "--out", x_dir, "-q")
        KS, (pm, pe), (xm, xe), (_, sse) = Store(k_dir), read_plan(p_dir), read_plan(x_dir), read_plan(s_dir)
        inside = bool(np.all(pe["start"].astype(np.int64) + pe["length"] <= KS.lengths[pe["doc"]]))
        check(f"{strat}: every entry inside its subset document", inside)
        got = collections.Counter()
        for d, ln in zip(pe["doc"], pe["length"]):
            got[KS.names[KS.domain[d]]] += int(ln)
        sest = read_plan(s_dir)[0]["estimate"]
        if strat in ("per-source", "upsample:Code", "global"):
            check(f"{strat}: exactly --tokens planned", pm["tokens"] == TOKENS, pm["tokens"])
        else:
            check(f"{strat}: at least --tokens planned, less than one document over", TOKENS <= pm["tokens"] < TOKENS + int(KS.lengths.max()),
                  pm["tokens"])
        if strat != "global" and strat[:3] != "ori" and strat[:3] != "cut":
            check(f"{strat}: each domain's tokens equal its budget", all(got[n] == sest["domains"][n]["budget"] for n in KS.names),
                  (dict(got), {n: sest["domains"][n]["budget"] for n in KS.names}))
        # The trim's order: per domain, the plan's documents are the first ones of the selection's.
        skeys = [(int(S.docs["input"][d]), int(S.docs["line"][d])) for d, s0 in zip(sse["doc"], sse["start"]) if s0 == 0]
        pkeys = [(int(KS.docs["input"][d]), int(KS.docs["line"][d])) for d, s0 in zip(pe["doc"], pe["start"]) if s0 == 0]
        by_s, by_p = collections.defaultdict(list), collections.defaultdict(list)
        for key in skeys:
            by_s[S.names[S.domain[where[key]]]].append(key)
        for key in pkeys:
            by_p[S.names[S.domain[where[key]]]].append(key)
        if strat in ("per-source", "upsample:Code"):
            check(f"{strat}: each domain takes the selection's documents in its order",
                  all(by_p[n] == by_s[n][:len(by_p[n])] for n in by_p))
        else:
            check(f"{strat}: the plan takes the selection's documents in its order", pkeys == skeys[:len(pkeys)])
        cut = pe["length"] < KS.lengths[pe["doc"]]
        if strat != "cut:512":
            check(f"{strat}: whole documents except cut prefixes, at most one per domain",
                  bool(np.all(pe["start"] == 0)) and all(v <= 1 for v in collections.Counter(KS.domain[pe["doc"][cut]].tolist()).values()))
        xshare = xm["figure2"]["after"]["domains"]
        pshare = pm["figure2"]["after"]["domains"]
        dshare = {n: round(pshare[n] - xshare.get(n, 0), 4) for n in pshare}
        long_k = {n: round(pm["domains"][n]["long_token_share"], 3) for n in pm["domains"]}
        long_x = {n: round(xm["domains"][n]["long_token_share"], 3) for n in xm["domains"]}
        print(f"{strat}: domain share (kept - exact) {dshare}; long-token share kept {long_k} exact {long_x}")
        if strat in ("per-source", "upsample:Code"):
            check(f"{strat}: domain shares within 0.02 of the exact path's", all(abs(x) <= 0.02 for x in dshare.values()), dshare)
        check(f"{strat}: plan.json records the trim", pm["estimate"]["kind"] == "trim" and pm["estimate"]["tokenized_documents"] == len(KS.docs))
        packed = os.path.join(tmp, f"packed-{name}")
        ok(f"{strat}: the trimmed plan packs", "pack", p_dir, "--seq-len", "2048", "--format", "flat", "--out", packed, "-q")
        ok(f"{strat}: and verifies", "verify", packed)
        saved = 100 * (1 - len(KS.docs) / len(F.docs))
        print(f"{strat}: tokenized {len(KS.docs)} of {len(F.docs)} documents ({saved:.0f}% not tokenized), "
              f"{int(KS.lengths.sum())} of {int(F.lengths.sum())} tokens")

    # prepare with "tokenize": "kept": the CLI path's plan, on 1 and 2 threads; config errors first.
    def prepare(name, threads, ingest_extra, mix_extra):
        cfg = {"out": os.path.join(tmp, name), "threads": threads,
               "ingest": {"tokenizer": TOK, "inputs": ins, **ingest_extra},
               "mix": {"strategy": "per-source", "tokens": TOKENS, "seed": 3, "long_threshold": THRESHOLD, **mix_extra},
               "pack": {"seq_len": 2048, "format": "flat"}}
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path, cfg["out"]

    kept_cfg = {"tokenize": "kept", "sample_rate": RATE, "sample_seed": SEED}
    for threads in (1, 2):
        path, out = prepare(f"prep{threads}", threads, kept_cfg, {})
        ok(f"prepare, tokenize kept, {threads} thread(s)", "prepare", path, "-q")
    check("prepare (kept): the CLI path's selection and plan, byte for byte",
          filecmp.cmp(os.path.join(tmp, "prep1", "plan", "entries.bin"), os.path.join(tmp, "plan-per-source", "entries.bin"), shallow=False) and
          filecmp.cmp(os.path.join(tmp, "prep1", "selection", "entries.bin"), os.path.join(tmp, "sel-per-source", "entries.bin"), shallow=False))
    same = all(filecmp.cmp(os.path.join(tmp, "prep1", d, f), os.path.join(tmp, "prep2", d, f), shallow=False)
               for d, f in [("plan", "entries.bin"), ("plan", "plan.json"), ("store", "data.bin"), ("sample", "docs.bin")])
    check("prepare (kept): 1 and 2 threads write the same store, selection and plan", same)
    ok("prepare (kept): the packed output verifies", "verify", os.path.join(tmp, "prep1", "packed"))
    r = run("prepare", prepare("prep1", 1, kept_cfg, {})[0])
    check("prepare (kept) rerun: every stage complete, nothing redone", r.returncode == 0 and "up to date" in r.stderr, r.stderr)
    for label, ing, mx, expect in [("tokenize neither all nor kept", {"tokenize": "some"}, {}, '"ingest.tokenize": expected "all" or "kept"'),
                                   ("sample_rate without kept", {"sample_rate": 0.1}, {}, '"ingest.sample_rate": only with'),
                                   ("margin without kept", {}, {"margin": 0.2}, '"mix.margin": only with'),
                                   ("target with kept", kept_cfg, {"strategy": "target", "bin_shares": "0.5,0.5"}, '"mix.strategy": target needs exact lengths')]:
        path, out = prepare("bad", 1, ing, mx)
        fails(f"prepare config: {label}", expect, "prepare", path)
        check(f"prepare config: {label}: nothing ran", not os.path.exists(out))

    # 5. Bad use.
    fails("--trim on a store of every document", "expected the store `longctx ingest --select", "mix", full, "--trim", sel, "--out",
          os.path.join(tmp, "x1"))
    fails("--trim with --tokens", "--trim: the selection plan", "mix", kept, "--trim", sel, "--tokens", "5", "--out", os.path.join(tmp, "x2"))
    fails("mix without --strategy", "--strategy is required (unless --trim)", "mix", full, "--tokens", "5", "--seed", "1", "--out",
          os.path.join(tmp, "x3"))
    fails("--select with other inputs", "expected the inputs of its sample store", "ingest", a, "--tokenizer", TOK, "--out",
          os.path.join(tmp, "x4"), "--select", sel)
    fails("target on a sample store", "--strategy target: not on a sample store", "mix", sample, "--strategy", "target", "--bin-shares",
          "0.5,0.5", *mixargs, "--out", os.path.join(tmp, "x5"))
    fails("--length-estimate on a sample store", "--length-estimate: not on a sample store", "mix", sample, "--strategy", "per-source",
          "--length-estimate", "chars/3.68", *mixargs, "--out", os.path.join(tmp, "x6"))
    fails("--trim of a plan that is not a selection", "expected a selection plan", "mix", kept, "--trim", os.path.join(tmp, "exact-global"),
          "--out", os.path.join(tmp, "x7"))
    fails("a corpus too small for the budget", "has an estimated", "mix", sample, "--strategy", "per-source", "--tokens", "100M", "--seed",
          "1", "--out", os.path.join(tmp, "x8"))
    # A domain with a budget but only short documents, none kept (--keep-short 0): under
    # --allow-shortfall the selection takes none of its documents, so the subset store lacks the
    # domain; the trim must still report its whole budget as short, not plan silently without it.
    absent = os.path.join(tmp, "absent")
    os.makedirs(absent)
    rng = random.Random(3)
    with open(os.path.join(absent, "c.jsonl"), "w") as f:
        for i in range(200):
            long_doc = i % 2 == 0
            f.write(json.dumps({"text": " ".join(rng.choice(["the", "of", "whale", "sea", "ship"]) for _ in range(400 if long_doc else 5)),
                                "meta": {"redpajama_set_name": "Long" if long_doc else "Short"}}) + "\n")
    asample, asel, akept, aplan = (os.path.join(absent, x) for x in ("sample", "sel", "kept", "plan"))
    aargs = ("--strategy", "per-source", "--tokens", "20000", "--long-threshold", "100", "--keep-short", "0", "--seed", "1")
    ok("absent domain: sample store", "ingest", os.path.join(absent, "c.jsonl"), "--tokenizer", TOK, "--out", asample, "--sample-rate", "0.5",
       "-q")
    ok("absent domain: selection", "mix", asample, *aargs, "--allow-shortfall", "--out", asel, "-q")
    ok("absent domain: subset store", "ingest", os.path.join(absent, "c.jsonl"), "--tokenizer", TOK, "--out", akept, "--select", asel, "-q")
    r = ok("absent domain: trim", "mix", akept, "--trim", asel, "--out", aplan)
    sel_budget = read_plan(asel)[0]["estimate"]["domains"]["Short"]["budget"]
    check("absent domain: the trim names the domain and its whole budget as short",
          sel_budget > 0 and f"domain Short fell {sel_budget} tokens short of its budget of {sel_budget}" in r.stdout + r.stderr,
          r.stdout + r.stderr)
    check("absent domain: the plan's notes say it too", any("domain Short fell" in n for n in read_plan(aplan)[0]["notes"]))

    # The corpus changed between the passes: the trim names the input.
    changed = os.path.join(tmp, "changed")
    shutil.copytree(src, changed)
    with open(os.path.join(changed, "b.jsonl"), "a") as f:
        f.write(json.dumps({"text": "one more", "meta": {"redpajama_set_name": "Web"}}) + "\n")
    csample, csel, ckept = (os.path.join(tmp, x) for x in ("c-sample", "c-sel", "c-kept"))
    ok("changed corpus: sample store", "ingest", os.path.join(changed, "a.jsonl"), os.path.join(changed, "b.jsonl"), "--tokenizer", TOK,
       "--out", csample, "--sample-rate", "0.5", "-q")
    ok("changed corpus: selection", "mix", csample, "--strategy", "per-source", *mixargs, "--out", csel, "-q")
    with open(os.path.join(changed, "b.jsonl"), "a") as f:
        f.write(json.dumps({"text": "and another", "meta": {"redpajama_set_name": "Web"}}) + "\n")
    ok("changed corpus: subset store", "ingest", os.path.join(changed, "a.jsonl"), os.path.join(changed, "b.jsonl"), "--tokenizer", TOK,
       "--out", ckept, "--select", csel, "-q")
    fails("changed corpus: the trim names the input", "b.jsonl: differs from the input the sample store", "mix", ckept, "--trim", csel,
          "--out", os.path.join(tmp, "x9"))

sys.exit(1 if failures else 0)
