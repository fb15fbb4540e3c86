#!/usr/bin/python3
"""The Python package (BUILD/python/longctx) against independent references:

- Tokenizer: encode / encode_batch (2 threads) give Hugging Face tokenizers' ids (its Node binding,
  tests/oracle/hf.mjs) on a corpus of hard cases for four families; decode gives HF's text
  (skip_special_tokens True and False); token_to_id / id_to_token / vocab_size agree with
  tokenizer.json; a bad path or an unsupported tokenizer raises longctx.Error with the CLI's line.
- Store: len, doc(i) (a read-only numpy view), domain(i) and stats() equal what the independent
  reader tests/store/read_store.py reads from the files; a wrong path raises longctx.Error.

usage: test_package.py ROOT BUILD   (run with /usr/bin/python3)
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(BUILD, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests/store"))
import longctx  # noqa: E402
import read_store  # noqa: E402
from checklist import check, failures  # noqa: E402

HF = ["node", os.path.join(ROOT, "tests/oracle/hf.mjs")]
FAMILIES = ("llama2", "llama3", "qwen3", "gemma3")

with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/oracle/make_corpus.py"), ROOT, J("corpus.jsonl")], check=True,
                   capture_output=True)
    texts = [json.loads(line)["text"] for line in open(J("corpus.jsonl"), encoding="utf-8")][:400]
    with open(J("texts.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    for fam in FAMILIES:
        path = os.path.join(ROOT, "data/tokenizers", fam, "tokenizer.json")
        tok = longctx.Tokenizer.from_file(path)
        # HF with special-token strings as plain text: longctx's default (parse_special=False).
        subprocess.run([*HF, "encode", path, J("texts.jsonl"), J("hf.ids"), "--plain-special"], check=True)
        want = [json.loads(line) for line in open(J("hf.ids"))]
        batch = [e.ids for e in tok.encode_batch(texts, threads=2)]
        one = [tok.encode(t).ids for t in texts]
        bad = [i for i in range(len(texts)) if batch[i] != want[i]]
        check(f"{fam}: encode_batch (2 threads) = HF's ids on {len(texts)} texts", not bad, bad[:5])
        check(f"{fam}: encode = encode_batch", one == batch)
        nobos = [tok.encode(t, add_special_tokens=False).ids for t in texts[:50]]
        subprocess.run([*HF, "encode", path, J("texts.jsonl"), J("hf-nobos.ids"), "--plain-special", "--no-special"], check=True)
        want_nobos = [json.loads(line) for line in open(J("hf-nobos.ids"))][:50]
        check(f"{fam}: add_special_tokens=False = HF's", nobos == want_nobos)
        with open(J("ids.jsonl"), "w") as f:
            for ids in batch:
                f.write(json.dumps(ids) + "\n")
        for skip in (True, False):
            subprocess.run([*HF, "decode", path, J("ids.jsonl"), J("hf.txt"), *(["--skip-special"] if skip else [])], check=True)
            want_text = [json.loads(line)["text"] for line in open(J("hf.txt"), encoding="utf-8")]
            got = tok.decode_batch(batch, skip_special_tokens=skip)
            bad = [i for i in range(len(batch)) if got[i] != want_text[i]]
            check(f"{fam}: decode_batch(skip_special_tokens={skip}) = HF's text", not bad, bad[:5])
            check(f"{fam}: decode = decode_batch (skip={skip})", [tok.decode(b, skip_special_tokens=skip) for b in batch[:20]] == got[:20])
        vocab = json.load(open(path, encoding="utf-8"))
        some = list(vocab["model"]["vocab"].items())[::997][:50]
        check(f"{fam}: token_to_id / id_to_token as tokenizer.json",
              all(tok.token_to_id(t) == i and tok.id_to_token(i) == t for t, i in some) and tok.token_to_id("\u27e6none\u27e7") is None)
        ids_all = list(vocab["model"]["vocab"].values()) + [a["id"] for a in vocab.get("added_tokens", [])]
        check(f"{fam}: vocab_size = largest id + 1", tok.vocab_size == max(ids_all) + 1 == tok.get_vocab_size())

    try:
        longctx.Tokenizer.from_file(J("nope.json"))
        check("a missing tokenizer raises longctx.Error", False)
    except longctx.Error as e:
        check("a missing tokenizer raises longctx.Error naming the file", "nope.json" in str(e) and "\n" not in str(e), str(e))
    json.dump({"model": {"type": "WordPiece", "vocab": {}}}, open(J("wp.json"), "w"))
    r = subprocess.run([os.path.join(BUILD, "longctx"), "tokenize", "--tokenizer", J("wp.json"), "-"], input='{"text": "x"}\n',
                       capture_output=True, text=True)
    try:
        longctx.Tokenizer.from_file(J("wp.json"))
        check("an unsupported tokenizer raises longctx.Error", False)
    except longctx.Error as e:
        check("an unsupported tokenizer: longctx.Error with the CLI's message", r.returncode == 1 and str(e) in r.stderr, (str(e), r.stderr))

    # Store: a synthetic store, read by the independent reader.
    subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), J("store"), "3", "A:50:0.3:5-40:41-150", "B:30:0.5:5-40:41-150"],
                   check=True, capture_output=True)
    ref = read_store.read(J("store"))
    st = longctx.Store(J("store"))
    check("Store: len = documents", len(st) == len(ref["sequences"]))
    names = [d["name"] for d in ref["manifest"]["domains"]]
    ok = all(np.array_equal(st.doc(i), np.array(ref["sequences"][i])) and st.domain(i) == names[ref["docs"][i]["domain"]]
             for i in range(len(st)))
    check("Store: every doc(i) and domain(i) as the independent reader", ok)
    a = st.doc(0)
    check("Store: doc(i) is a read-only view (no copy)", not a.flags.writeable and not a.flags.owndata)
    s = st.stats()
    check("Store: stats() = the manifest's counts",
          s["documents"] == ref["manifest"]["documents"] and s["tokens"] == ref["manifest"]["tokens"]
          and {k: v["tokens"] for k, v in s["domains"].items()} == {d["name"]: d["tokens"] for d in ref["manifest"]["domains"]})
    del st
    check("Store: a view outlives the Store object", int(a.sum()) == sum(ref["sequences"][0]))
    try:
        longctx.Store(J("nope"))
        check("a missing store raises longctx.Error", False)
    except longctx.Error as e:
        check("a missing store raises longctx.Error naming it", "nope" in str(e), str(e))
    try:
        longctx.Store(J("store")).doc(10 ** 6)
        check("doc past the end raises IndexError", False)
    except IndexError:
        check("doc past the end raises IndexError", True)

print("FAILED: " + ", ".join(failures) if failures else "all python package checks passed")
sys.exit(1 if failures else 0)
