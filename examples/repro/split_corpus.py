#!/usr/bin/python3
"""The repro's training / validation split of the sample corpus (JSONL on stdin).

Every 10th line (1-based line numbers divisible by 10) is validation, the others training — except
documents of the domains named in --split-text (the sample's book: Moby-Dick, one 320K-token
document): a whole-document split would put the book entirely on one side, so its text is split
instead: the last tenth of its characters, from the paragraph break nearest that point, becomes
a validation document; the first nine tenths stay in training. Both halves keep the document's
domain, so the book is in every mixture's training data and has a validation cell of its own.

usage: zstd -dc corpus.jsonl.zst | split_corpus.py OUT_DIR [--split-text RedPajamaBook]
writes OUT_DIR/train.jsonl and OUT_DIR/val.jsonl (through .tmp files, renamed when complete).
"""
import argparse
import json
import os
import sys

HELD_OUT_EVERY = 10


def split_text(text):
    """(train part, validation part): cut at the paragraph break nearest 9/10 of the characters."""
    at = len(text) * (HELD_OUT_EVERY - 1) // HELD_OUT_EVERY
    before, after = text.rfind("\n\n", 0, at), text.find("\n\n", at)
    candidates = [p for p in (before, after) if p > 0]
    cut = min(candidates, key=lambda p: abs(p - at)) if candidates else at
    return text[:cut], text[cut:].lstrip("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--split-text", default="RedPajamaBook", help="comma-separated domains split by text")
    a = ap.parse_args()
    split_domains = {d for d in a.split_text.split(",") if d}
    os.makedirs(a.out, exist_ok=True)
    paths = {k: os.path.join(a.out, f"{k}.jsonl") for k in ("train", "val")}
    files = {k: open(p + ".tmp", "w", encoding="utf-8") for k, p in paths.items()}
    counts = {"train": 0, "val": 0, "split": 0}
    for n, line in enumerate(sys.stdin, start=1):
        doc = json.loads(line)
        if doc.get("meta", {}).get("redpajama_set_name") in split_domains:
            train, val = split_text(doc["text"])
            for k, text in (("train", train), ("val", val)):
                files[k].write(json.dumps(dict(doc, text=text), ensure_ascii=False) + "\n")
                counts[k] += 1
            counts["split"] += 1
            continue
        k = "val" if n % HELD_OUT_EVERY == 0 else "train"
        files[k].write(line if line.endswith("\n") else line + "\n")
        counts[k] += 1
    for k, f in files.items():
        f.close()
        os.replace(f.name, paths[k])
    print(f"split: {counts['train']} training, {counts['val']} validation documents "
          f"({counts['split']} split by text: {', '.join(sorted(split_domains)) or 'none'})", file=sys.stderr)


if __name__ == "__main__":
    main()
