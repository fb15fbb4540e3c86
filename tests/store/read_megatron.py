#!/usr/bin/python3
"""An independent reader of Megatron-LM indexed datasets (standard library only), written from
Megatron's format description, not from our writer: checks the byte layout of PREFIX.idx/.bin.

usage: read_megatron.py PREFIX [--expect EXPECTED.json]
  prints {"dtype": "uint16"|"int32", "doc_idx": [...], "sequences": [[ids...], ...]}
  --expect: compares with {"dtype": ..., "sequences": [...]} (one sequence per document) and
  exits 1 on any difference.
"""
import json
import os
import struct
import sys

DTYPES = {8: ("uint16", "H", 2), 4: ("int32", "i", 4)}


def read(prefix):
    with open(prefix + ".idx", "rb") as f:
        idx = f.read()
    assert idx[:9] == b"MMIDIDX\x00\x00", f"bad magic {idx[:9]!r}"
    (version,) = struct.unpack_from("<Q", idx, 9)
    assert version == 1, f"version {version}"
    (code,) = struct.unpack_from("<B", idx, 17)
    name, fmt, width = DTYPES[code]
    s, d = struct.unpack_from("<QQ", idx, 18)
    off = 34
    sizes = struct.unpack_from(f"<{s}i", idx, off)
    off += 4 * s
    pointers = struct.unpack_from(f"<{s}q", idx, off)
    off += 8 * s
    doc_idx = struct.unpack_from(f"<{d}q", idx, off)
    off += 8 * d
    assert off == len(idx), f"index has {len(idx) - off} trailing bytes"
    assert os.path.getsize(prefix + ".bin") == sum(sizes) * width, "bin size does not match the index"
    seqs = []
    with open(prefix + ".bin", "rb") as f:
        data = f.read()
    for size, ptr in zip(sizes, pointers):
        seqs.append(list(struct.unpack_from(f"<{size}{fmt}", data, ptr)))
    return {"dtype": name, "doc_idx": list(doc_idx), "sequences": seqs}


def main():
    got = read(sys.argv[1])
    if "--expect" in sys.argv:
        with open(sys.argv[sys.argv.index("--expect") + 1]) as f:
            want = json.load(f)
        n = len(want["sequences"])
        problems = []
        if got["dtype"] != want["dtype"]:
            problems.append(f"dtype {got['dtype']}, expected {want['dtype']}")
        if got["doc_idx"] != list(range(n + 1)):
            problems.append("document index is not 0..N (one sequence per document)")
        if got["sequences"] != want["sequences"]:
            problems.append("sequences differ")
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    json.dump(got, sys.stdout)


if __name__ == "__main__":
    main()
