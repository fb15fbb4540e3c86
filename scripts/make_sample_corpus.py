#!/usr/bin/python3
"""Builds the default sample corpus: a small SlimPajama-style multi-domain corpus, JSONL in zstd
(several frames, as real shards may have), one document per line:
  {"text": ..., "meta": {"redpajama_set_name": "RedPajamaBook"}}

Domains (the paper's SlimPajama names) and sources (scripts/corpus_sources.py):
  RedPajamaBook         Moby-Dick, the whole book as one document (a long document, as books are)
  RedPajamaCommonCrawl  State of the Union addresses, one per document
  RedPajamaC4           Brown corpus files (news, fiction) and nlp-corpus web sentences in groups
  RedPajamaGithub       glibc's C headers (libc6-dev's top-level /usr/include/*.h), one per document
Capped so that `make run` stays short (~10.5 MB of text). Documents are shuffled with a fixed seed,
so the file is the same on every run and on every Debian 12 machine (the headers come from one
package, not from whatever else is installed).

usage: make_sample_corpus.py ROOT OUT.jsonl.zst
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_sources import source_texts  # noqa: E402

CAPS = {"RedPajamaCommonCrawl": 4_000_000, "RedPajamaC4": 4_000_000, "RedPajamaGithub": 2_000_000}
FRAME_BYTES = 2_000_000
SEED = 20240215


def capped(texts, limit):
    out, size = [], 0
    for t in texts:
        if size >= limit:
            break
        out.append(t)
        size += len(t.encode("utf-8"))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    src = source_texts(root)
    web_groups = []
    for text in src["web"]:
        sentences = text.split("\n")
        web_groups += ["\n".join(sentences[i:i + 12]) for i in range(0, len(sentences), 12)]
    docs = [("RedPajamaBook", "".join(src["moby_dick"]))]
    docs += [("RedPajamaCommonCrawl", t) for t in capped(src["sotu"], CAPS["RedPajamaCommonCrawl"])]
    c4 = capped(src["brown"], CAPS["RedPajamaC4"] // 2) + capped(web_groups, CAPS["RedPajamaC4"] // 2)
    docs += [("RedPajamaC4", t) for t in c4]
    docs += [("RedPajamaGithub", t) for t in capped(src["code"], CAPS["RedPajamaGithub"])]
    random.Random(SEED).shuffle(docs)

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        frame = []
        size = 0

        def flush():
            nonlocal frame, size
            if frame:
                data = "".join(frame).encode("utf-8")
                f.write(subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout)
            frame, size = [], 0

        for domain, text in docs:
            line = json.dumps({"text": text, "meta": {"redpajama_set_name": domain}}, ensure_ascii=False) + "\n"
            frame.append(line)
            size += len(line)
            if size >= FRAME_BYTES:
                flush()
        flush()
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
