#!/usr/bin/python3
"""Compares two files of JSON id arrays line by line (ours vs the reference).

usage: compare_ids.py CORPUS.jsonl OURS REFERENCE LABEL [--tokenizer T]
Prints one summary line; for mismatches, the first few with the text around the first difference.
Exit status 1 on any mismatch or line-count difference.
"""
import json
import sys


def read_jsonl(path, key=None):
    """One parsed JSON value per line (or its `key` field)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) if key is None else json.loads(l)[key] for l in f]


def main():
    corpus, ours_path, ref_path, label = sys.argv[1:5]
    vocab = None
    if "--tokenizer" in sys.argv:
        with open(sys.argv[sys.argv.index("--tokenizer") + 1], encoding="utf-8") as f:
            t = json.load(f)
        vocab = {v: k for k, v in t["model"]["vocab"].items()}
        for a in t.get("added_tokens") or []:
            vocab[a["id"]] = a["content"]
    texts, ours, ref = read_jsonl(corpus, "text"), read_jsonl(ours_path), read_jsonl(ref_path)
    bad = 0
    tokens = sum(len(r) for r in ref)
    if len(ours) != len(ref) or len(ref) != len(texts):
        print(f"{label}: line counts differ: corpus {len(texts)}, ours {len(ours)}, reference {len(ref)}")
        sys.exit(1)
    for i, (a, b) in enumerate(zip(ours, ref)):
        if a == b:
            continue
        bad += 1
        if bad <= 5:
            k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
            show = lambda ids: [vocab.get(x, x) if vocab else x for x in ids]
            print(f"{label}: line {i + 1} differs at token {k} (text {len(texts[i])} chars: {texts[i][:80]!r})")
            print(f"  ours: {a[max(0, k - 3):k + 5]} {show(a[max(0, k - 3):k + 5])}")
            print(f"  ref:  {b[max(0, k - 3):k + 5]} {show(b[max(0, k - 3):k + 5])}")
    print(f"{label}: {len(ref)} lines, {tokens} reference tokens, {bad} mismatching lines")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
