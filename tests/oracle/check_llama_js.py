#!/usr/bin/python3
"""Our LLaMA-2 ids against llama-tokenizer-js, a second implementation independent of HF's.

usage: check_llama_js.py ROOT BUILD   (needs BUILD/oracle/corpus.jsonl from the corpus fixture)
"""
import os
import subprocess
import sys

from compare_ids import read_jsonl


def main():
    root, build = sys.argv[1:3]
    corpus = os.path.join(build, "oracle", "corpus.jsonl")
    work = os.path.join(build, "oracle", "llama-js")
    os.makedirs(work, exist_ok=True)
    ours, ref = os.path.join(work, "ours.ids"), os.path.join(work, "llama_js.ids")
    tok = os.path.join(root, "data/tokenizers/llama2/tokenizer.json")
    subprocess.run([os.path.join(build, "longctx"), "tokenize", "-q", "--tokenizer", tok, "--out", ours, corpus], check=True)
    subprocess.run(["node", os.path.join(root, "tests/oracle/llama_js.mjs"), corpus, ref], check=True, cwd=root)
    texts, a, b = read_jsonl(corpus, "text"), read_jsonl(ours), read_jsonl(ref)
    if not len(a) == len(b) == len(texts):
        sys.exit(f"line counts differ: corpus {len(texts)}, ours {len(a)}, llama-tokenizer-js {len(b)}")
    compared = [i for i in range(len(a)) if b[i] is not None]
    bad = [i for i in compared if a[i] != b[i]]
    for i in bad[:5]:
        print(f"line {i + 1} differs: {texts[i][:60]!r}")
    print(f"llama-tokenizer-js: {len(compared)} lines compared ({len(a) - len(compared)} empty skipped), "
          f"{sum(len(b[i]) for i in compared)} tokens, {len(bad)} mismatching lines")
    sys.exit(1 if bad or not compared else 0)


if __name__ == "__main__":
    main()
