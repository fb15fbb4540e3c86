#!/usr/bin/python3
"""Exact budgets (issue 18, part 1): per-source, global and upsample plan exactly the tokens they
are asked for, by cutting the last document a domain (global: the plan) takes to a prefix; checked
on synthetic stores whose longest documents exceed their domains' budgets, with an independent
numpy reader of the store and of entries.bin (docs/formats/store.md, docs/formats/plan.md):

- every domain's planned tokens equal its budget, the total equals --tokens; per-source budgets
  are the natural shares apportioned by largest remainder (recomputed here in integers), so each
  domain's share is the store's to the token;
- a cut piece lies inside its document, is a prefix of it (starts at token 0, so with the BOS),
  is the domain's last entry, and with the tokens plan.json says were cut off it tiles the
  document; every other entry is a whole document;
- the exact plan makes the same choices as --whole-docs, only the last document of each domain cut;
  --whole-docs overshoots as before, and gives byte for byte the plans of the code before issue 18;
- same seed -> byte-identical plan.json and entries.bin (mix itself runs on one thread; prepare
  with 1 and 2 threads writes the same plan);
- a cut plan packs (megatron-docs: each entry one document, token for token; flat) and verifies;
- prepare's `mix.whole_docs`: accepted as a boolean, refused as anything else before any stage runs.

usage: test_exact_budgets.py ROOT BUILD
"""
import collections
import filecmp
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import read_packed  # noqa: E402
from np_store import Store, largest_remainder, read_plan  # noqa: E402
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
SYNTH = os.path.join(BUILD, "tests", "make_synthetic_store")
THRESHOLD = 512

# entries.bin (sha256) of --whole-docs plans on the store below, as the code before issue 18 wrote
# them without the flag (commit 5fc2d62): --whole-docs must keep today's behaviour byte for byte.
OLD_ENTRIES_SHA256 = {
    "per-source": "ca975e62f9b75ee11132f1513ffe306f84fbeae7a770062d07fb6dfa41e607ba",
    "global": "d618a1d91ac76f1d2e9d63c7ec167bd7667cc6afdf954fe3390d0d63d4d82f6e",
    "upsample:Book": "bc9fff8aa2d2d1644975484886d5f0d17fcbbc39c4ad83c94f1a18f3d0c9ec2e",
}


def run(*args, cwd=None):
    return subprocess.run([LONGCTX, *args], capture_output=True, cwd=cwd)


def ok(name, *args):
    r = run(*args)
    check(name, r.returncode == 0, r.stderr.decode())
    return r


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def per_domain(st, e):
    """Planned tokens per domain name, and the entries of each domain in selection order."""
    tokens, entries = collections.Counter(), collections.defaultdict(list)
    for doc, s0, ln in e:
        name = st.names[st.domain[doc]]
        tokens[name] += int(ln)
        entries[name].append((int(doc), int(s0), int(ln)))
    return tokens, entries


def check_pieces(label, st, meta, e, scope):
    """Every entry inside its document; whole documents except at most one cut piece per domain
    (scope "domain") or per plan (scope "plan"), which is a prefix, the last of its domain (of the
    plan), and tiles its document with the tokens plan.json says were cut off."""
    inside = bool(np.all(e["start"].astype(np.int64) + e["length"] <= st.lengths[e["doc"]]))
    check(f"{label}: every entry lies inside its document", inside)
    cut = e["length"] < st.lengths[e["doc"]]
    check(f"{label}: every cut piece is a prefix (starts at token 0)", bool(np.all(e["start"][cut] == 0)))
    check(f"{label}: every piece keeps the document's BOS", all(st.tokens(int(d), int(s0), 1)[0] == 1 for d, s0, _ in e[cut]))
    _, by = per_domain(st, e)
    for name, ents in by.items():
        cuts = [i for i, (doc, s0, ln) in enumerate(ents) if ln < st.lengths[doc]]
        dm = meta["domains"][name]
        check(f"{label}: {name} has at most one cut piece, its last entry", cuts in ([], [len(ents) - 1]), cuts)
        if cuts:
            doc, _, ln = ents[-1]
            check(f"{label}: {name}'s piece + cut_tokens tile its document",
                  ln + dm["cut_tokens"] == st.lengths[doc] and dm["cut_documents"] == 1, (ln, dm["cut_tokens"], int(st.lengths[doc])))
        else:
            check(f"{label}: {name} uncut, plan.json agrees", dm["cut_documents"] == 0 and dm["cut_tokens"] == 0, dm)
    if scope == "plan":
        check(f"{label}: at most one cut piece in the plan, the last entry", list(np.nonzero(cut)[0]) in ([], [len(e) - 1]))
    check(f"{label}: plan.json counts the cut documents and tokens",
          meta["cut_documents"] == int(cut.sum()) and meta["cut_tokens"] == int((st.lengths[e["doc"][cut]] - e["length"][cut]).sum()),
          (meta["cut_documents"], meta["cut_tokens"]))


def check_same_choices(label, st, exact, whole):
    """The exact plan = the whole-docs plan with each domain's last document cut (same walk, same
    coin): domain by domain, the same entries up to the exact plan's last, which is a prefix of the
    whole-docs entry at that place."""
    _, ex = per_domain(st, exact)
    _, wh = per_domain(st, whole)
    good = True
    for name, ents in ex.items():
        w = wh.get(name, [])
        good &= len(w) >= len(ents) and ents[:-1] == w[:len(ents) - 1]
        if ents and len(w) >= len(ents):
            (d1, s1, l1), (d2, s2, l2) = ents[-1], w[len(ents) - 1]
            good &= d1 == d2 and s1 == s2 == 0 and l1 <= l2
    check(f"{label}: same choices as --whole-docs, only each domain's last document cut", good)


def check_budgets(label, st, meta, e, tokens, budgets=None):
    got, _ = per_domain(st, e)
    check(f"{label}: the plan holds exactly --tokens ({tokens})", int(e["length"].sum()) == tokens == meta["tokens"],
          (int(e["length"].sum()), meta["tokens"]))
    if budgets is not None:
        check(f"{label}: budgets sum to --tokens", sum(meta["domains"][n]["budget"] for n in st.names) == tokens)
        check(f"{label}: budgets are those expected", all(meta["domains"][n]["budget"] == budgets[n] for n in st.names),
              {n: (meta["domains"][n]["budget"], budgets[n]) for n in st.names})
        check(f"{label}: every domain's planned tokens equal its budget", all(got[n] == meta["domains"][n]["budget"] for n in st.names),
              {n: (got[n], meta["domains"][n]["budget"]) for n in st.names})
    check(f"{label}: plan.json's per-domain tokens are the entries'", all(meta["domains"][n]["tokens"] == got[n] for n in st.names))
    check(f"{label}: plan.json records exact budgets", meta["exact_budgets"] is True and meta["options"]["whole_docs"] is False)


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    # A mostly short, B mixed, Code long-ish, Book two documents of 40K-60K tokens: at 300,007
    # requested tokens Book's budget (~5%, ~15K) is far below either book.
    spec = ["A:3000:0.05:16-512:513-2048", "B:1000:0.3:16-512:513-2048", "Code:300:0.5:16-512:513-4000", "Book:2:1.0:16-16:40000-60000"]
    subprocess.run([SYNTH, J("store"), "5", *spec], check=True)
    st = Store(J("store"))
    T = 300_007  # prime: no budget divides exactly
    common = ["--seed", "18", "--long-threshold", str(THRESHOLD), "-q"]
    book_len = [int(x) for x in st.lengths[st.domain == st.names.index("Book")]]
    print("store:", dict(zip(st.names, st.tokens_of)), "books", book_len)

    def mix(out, strategy, tokens, *extra):
        return ok(f"mix {strategy} {' '.join(extra)}".strip(), "mix", J("store"), "--strategy", strategy, "--tokens", str(tokens),
                  "--out", J(out), *common, *extra)

    # --- per-source: budgets = the natural shares, to the token.
    mix("ps", "per-source", T)
    meta, e = read_plan(J("ps"))
    natural = dict(zip(st.names, largest_remainder(T, st.tokens_of)))
    check_budgets("per-source", st, meta, e, T, natural)
    M = sum(st.tokens_of)
    check("per-source: every domain's share is the store's to the token (|tokens - T * natural| < 1)",
          all(abs(meta["domains"][n]["tokens"] * M - T * t) < M for n, t in zip(st.names, st.tokens_of)))
    check("per-source: Book's budget is below its shortest document (the case this is about)", natural["Book"] < min(book_len),
          (natural["Book"], book_len))
    check_pieces("per-source", st, meta, e, "domain")
    check("per-source: Book was cut", meta["domains"]["Book"]["cut_documents"] == 1 and meta["cut_documents"] >= 1)
    check("per-source: figure2 after = before for every domain (to 1/T)",
          all(abs(meta["figure2"]["after"]["domains"][n] - meta["figure2"]["before"]["domains"][n]) < 1.0 / T for n in st.names))

    # --- --whole-docs: today's behaviour, the overshoot included.
    mix("ps-whole", "per-source", T, "--whole-docs")
    wmeta, we = read_plan(J("ps-whole"))
    check("per-source --whole-docs: every entry a whole document",
          bool(np.all(we["start"] == 0) and np.all(we["length"] == st.lengths[we["doc"]])))
    wgot, _ = per_domain(st, we)
    check("per-source --whole-docs: Book overshoots its budget by a whole book", wgot["Book"] >= min(book_len) > natural["Book"],
          (wgot["Book"], natural["Book"]))
    check("per-source --whole-docs: the total overshoots --tokens", int(we["length"].sum()) > T, int(we["length"].sum()))
    check("per-source --whole-docs: plan.json says so", wmeta["exact_budgets"] is False and wmeta["options"]["whole_docs"] is True
          and wmeta["cut_documents"] == 0 and all(d["cut_tokens"] == 0 for d in wmeta["domains"].values()))
    check_same_choices("per-source", st, e, we)

    # --- global: no per-domain budget; the total is --tokens exactly, one piece at most cut.
    mix("gl", "global", T)
    gmeta, ge = read_plan(J("gl"))
    check_budgets("global", st, gmeta, ge, T)
    check("global: no per-domain budgets", all(gmeta["domains"][n]["budget"] == 0 for n in st.names))
    check_pieces("global", st, gmeta, ge, "plan")
    mix("gl-whole", "global", T, "--whole-docs")
    _, gwe = read_plan(J("gl-whole"))
    check("global --whole-docs: whole documents, the total overshoots", bool(np.all(gwe["length"] == st.lengths[gwe["doc"]]))
          and int(gwe["length"].sum()) > T, int(gwe["length"].sum()))
    check("global: the same documents as --whole-docs, the last one cut",
          len(ge) == len(gwe) and np.array_equal(ge["doc"], gwe["doc"]) and np.array_equal(ge["length"][:-1], gwe["length"][:-1])
          and ge["length"][-1] <= gwe["length"][-1])

    # --- upsample:Book: Book's weight 0.6, then normalised; Book holds less than its budget, so it
    # takes a second pass, and the piece cut is a book read again.
    mix("up", "upsample:Book", T, "--max-repeat", "3")
    umeta, ue = read_plan(J("up"))
    w = [t / M for t in st.tokens_of]
    w[st.names.index("Book")] = 0.6
    share = {n: x / sum(w) for n, x in zip(st.names, w)}
    check_budgets("upsample:Book", st, umeta, ue, T)
    check("upsample:Book: every budget within one token of T * share",
          all(abs(umeta["domains"][n]["budget"] - T * share[n]) < 1 for n in st.names),
          {n: umeta["domains"][n]["budget"] for n in st.names})
    ugot, _ = per_domain(st, ue)
    check("upsample:Book: every domain's planned tokens equal its budget",
          all(ugot[n] == umeta["domains"][n]["budget"] for n in st.names))
    check("upsample:Book: Book needed a second pass", umeta["domains"]["Book"]["passes"] == 2, umeta["domains"]["Book"]["passes"])
    check_pieces("upsample:Book", st, umeta, ue, "domain")
    mix("up-whole", "upsample:Book", T, "--max-repeat", "3", "--whole-docs")
    uwmeta, uwe = read_plan(J("up-whole"))
    check("upsample:Book --whole-docs: the total overshoots", int(uwe["length"].sum()) > T)
    check_same_choices("upsample:Book", st, ue, uwe)

    # --- named shares: budgets from shares that are not the store's, still summing to --tokens.
    mix("named", "per-source", T, "--domain-shares", "A=0.4,B=0.3,Code=0.27,Book=0.03", "--max-repeat", "4")
    nmeta, ne = read_plan(J("named"))
    check_budgets("per-source named shares", st, nmeta, ne, T)
    ngot, _ = per_domain(st, ne)
    want = {"A": 0.4, "B": 0.3, "Code": 0.27, "Book": 0.03}
    check("per-source named shares: budgets within one token of T * share and met",
          all(abs(nmeta["domains"][n]["budget"] - T * want[n]) < 1 and ngot[n] == nmeta["domains"][n]["budget"] for n in st.names))
    check_pieces("per-source named shares", st, nmeta, ne, "domain")

    # --- --length-estimate: the keep rule decides on chars/R, the budgets are still met in tokens.
    mix("est", "per-source", T, "--length-estimate", "chars/3.68")
    emeta, ee = read_plan(J("est"))
    check_budgets("per-source chars/3.68", st, emeta, ee, T, natural)

    # --- a budget the store cannot fill: the shortfall is exact; without --allow-shortfall an error.
    r = run("mix", J("store"), "--strategy", "per-source", "--tokens", "1500000", "--out", J("short"), *common)
    check("per-source beyond the store: one line, exit 1, no plan", r.returncode == 1 and r.stderr.decode().count("\n") == 1
          and "of a budget of" in r.stderr.decode() and not os.path.exists(J("short", "plan.json")), r.stderr.decode())
    mix("short2", "per-source", 1_500_000, "--allow-shortfall")
    smeta, se = read_plan(J("short2"))
    sgot, _ = per_domain(st, se)
    check("per-source --allow-shortfall: shortfall = budget - tokens, to the token",
          all(smeta["domains"][n]["shortfall"] == smeta["domains"][n]["budget"] - sgot[n] for n in st.names)
          and any(smeta["domains"][n]["shortfall"] > 0 for n in st.names))

    # --- --whole-docs: the old code's plans, byte for byte; cut:LEN refuses it.
    for strategy, out in (("per-source", "ps-whole"), ("global", "gl-whole"), ("upsample:Book", "up-whole")):
        got = sha256(J(out, "entries.bin"))
        check(f"{strategy} --whole-docs: entries.bin as before issue 18", got == OLD_ENTRIES_SHA256[strategy], got)
    r = run("mix", J("store"), "--strategy", "cut:300", "--tokens", "1000", "--whole-docs", "--out", J("cutw"), *common)
    check("cut:LEN --whole-docs: refused in one line", r.returncode == 1 and r.stderr.decode().count("\n") == 1
          and "--whole-docs" in r.stderr.decode() and not os.path.exists(J("cutw")), r.stderr.decode())

    # --- determinism: the same seed, byte-identical plans.
    for strategy, out, extra in (("per-source", "ps", []), ("global", "gl", []), ("upsample:Book", "up", ["--max-repeat", "3"])):
        mix(out + "-again", strategy, T, *extra)
        same = all(filecmp.cmp(J(out, f), J(out + "-again", f), shallow=False) for f in ("plan.json", "entries.bin"))
        check(f"{strategy}: same seed, byte-identical plan.json and entries.bin", same)
    r = run("mix", J("store"), "--strategy", "per-source", "--tokens", str(T), "--out", J("ps-seed"), "--seed", "19",
            "--long-threshold", str(THRESHOLD), "-q")
    check("per-source: another seed, another plan, the same budgets met",
          r.returncode == 0 and not filecmp.cmp(J("ps", "entries.bin"), J("ps-seed", "entries.bin"), shallow=False)
          and per_domain(st, read_plan(J("ps-seed"))[1])[0] == per_domain(st, e)[0])

    # --- pack a cut plan: megatron-docs (each entry one document) and flat sequences, then verify.
    ok("pack megatron-docs of the per-source plan", "pack", J("ps"), "--format", "megatron-docs", "--out", J("pk-docs"), "-q")
    ok("verify megatron-docs", "verify", J("pk-docs"))
    docs = read_packed.read_docs(J("pk-docs"))
    same = len(docs["documents"]) == len(e) and all(np.array_equal(docs["documents"][i], st.tokens(int(d), int(s0), int(ln)))
                                                      for i, (d, s0, ln) in enumerate(e))
    check("megatron-docs: every planned entry, cut pieces included, is its document's tokens", same)
    ok("pack flat of the per-source plan", "pack", J("ps"), "--seq-len", "4096", "--format", "flat", "--out", J("pk-flat"), "-q",
       "--threads", "2")
    ok("verify flat", "verify", J("pk-flat"))
    flat = read_packed.read(J("pk-flat"))
    covered = collections.Counter()
    bad = 0
    for s, sp in enumerate(flat["spans"]):
        for (doc, doff, a, b, _) in sp:
            covered[doc] += b - a
            bad += not np.array_equal(flat["tokens"][s, a:b], st.tokens(doc, doff, b - a))
    planned = collections.Counter()
    for d, _, ln in e:
        planned[int(d)] += int(ln)
    check("flat: every span is its document's tokens", bad == 0, bad)
    check("flat: the packed tokens are the plan's, less the dropped tail",
          sum(planned.values()) - sum(covered.values()) == flat["manifest"]["dropped_tail_tokens"]
          and all(covered[d] <= planned[d] for d in covered))
    cut_docs = [int(d) for d, s0, ln in e if ln < st.lengths[d]]
    check("flat: no token of a cut document beyond its piece is packed",
          all(doff + (b - a) <= max(ln for d2, _, ln in e if d2 == doc) for sp in flat["spans"] for (doc, doff, a, b, _) in sp
              if doc in cut_docs))

    # --- prepare: mix.whole_docs, checked before any stage runs.
    corpus = J("in.jsonl")
    with open(corpus, "w") as f:
        words = "the whale and the sea were one long story told over many nights by the fire".split()
        book = " ".join(words[i % len(words)] for i in range(12000))
        f.write(json.dumps({"text": book, "meta": {"redpajama_set_name": "Book"}}) + "\n")
        for i in range(300):
            f.write(json.dumps({"text": f"short note {i}: " + " ".join(words[(i + k) % len(words)] for k in range(40 + i % 60)),
                                "meta": {"redpajama_set_name": "Web"}}) + "\n")

    def config(name, threads=2, **mix_keys):
        c = {"out": J(name), "threads": threads,
             "ingest": {"tokenizer": os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json"), "inputs": [corpus],
                        "checkpoint_seconds": 0},
             "mix": {"strategy": "per-source", "tokens": "20K", "seed": 3, "max_repeat": 20, "long_threshold": "1K", **mix_keys}}
        path = J(name + ".json")
        json.dump(c, open(path, "w"))
        return path

    for label, value in (("a string", "yes"), ("a number", 1)):
        path = config("bad-run", whole_docs=value)
        r = run("prepare", path)
        err = r.stderr.decode()
        check(f"prepare mix.whole_docs {label}: one line naming the file and the key, nothing written",
              r.returncode == 1 and err.count("\n") == 1 and "mix.whole_docs" in err and path in err
              and not os.path.exists(J("bad-run")), err)
    path = config("bad-run", strategy="cut:1K", whole_docs=True)
    r = run("prepare", path)
    check("prepare cut:LEN with whole_docs: refused before any stage", r.returncode == 1 and "mix.whole_docs" in r.stderr.decode()
          and not os.path.exists(J("bad-run")), r.stderr.decode())
    r = run("prepare", config("prep-exact"), "-q")
    check("prepare (exact by default) exits 0", r.returncode == 0, r.stderr.decode())
    r2 = run("prepare", config("prep-whole", whole_docs=True), "-q")
    check("prepare with whole_docs exits 0", r2.returncode == 0, r2.stderr.decode())
    if r.returncode == 0 and r2.returncode == 0:
        pe_meta, _ = read_plan(J("prep-exact", "plan"))
        pw_meta, _ = read_plan(J("prep-whole", "plan"))
        check("prepare: 20K (20,480) tokens planned exactly, Book cut",
              pe_meta["tokens"] == 20_480 and pe_meta["domains"]["Book"]["cut_documents"] == 1 and pe_meta["options"]["whole_docs"] is False,
              (pe_meta["tokens"], pe_meta["domains"]["Book"]))
        check("prepare whole_docs: the book kept whole, the total overshoots", pw_meta["tokens"] > 20_480
              and pw_meta["options"]["whole_docs"] is True, pw_meta["tokens"])
        r3 = run("prepare", config("prep-1t", threads=1), "-q")
        check("prepare on 1 thread: the same plan as on 2, byte for byte", r3.returncode == 0 and all(
            filecmp.cmp(J("prep-exact", "plan", f), J("prep-1t", "plan", f), shallow=False) for f in ("plan.json", "entries.bin")),
            r3.stderr.decode())
        rep = json.load(open(J("prep-exact", "report.json")))
        # A plan from before exact budgets (no "exact_budgets"): prepare names the cause, changes nothing.
        old_plan = J("prep-exact", "plan", "plan.json")
        j = json.load(open(old_plan))
        del j["exact_budgets"]
        json.dump(j, open(old_plan, "w"), indent=2)
        r4 = run("prepare", config("prep-exact"), "-q")
        err = r4.stderr.decode()
        check("prepare over a plan from before exact budgets: one line saying so", r4.returncode == 1 and err.count("\n") == 1
              and "before exact budgets" in err and "exact_budgets" not in open(old_plan).read(), err)
        f2 = rep["figure2"]
        check("prepare report: after shares = before shares (to 1e-4)",
              all(abs(f2["after"]["domains"][n] - f2["before"]["domains"][n]) < 1e-4 for n in f2["before"]["domains"]))

print("FAILED: " + ", ".join(failures) if failures else "all exact-budget checks passed")
sys.exit(1 if failures else 0)
