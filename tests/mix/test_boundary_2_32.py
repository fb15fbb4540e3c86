#!/usr/bin/python3
"""Past 2^31 and 2^32 (issue 15, item 5), on a store whose data.bin is mostly holes: three
1.5G-token documents of zeros (a sparse 9 GB file on a few hundred KB of disk; make_synthetic_store
--gap) and then 3,000 real documents, which therefore lie past 4.5G tokens (9 GB of bytes). Checked
with numpy readers written from docs/formats (not our C++):

- the store's index (int64 byte offsets past 2^33), `stats --json` totals past 2^32 tokens, and
  `verify` (the hash of the sparse file equals xxhsum's);
- `mix --strategy original` over every token: a plan of 4.5G tokens whose counts are exact;
- a per-source plan of the real documents, packed (flat and megatron): every packed sequence's
  tokens equal the store's bytes at their documents' offsets past 2^32 tokens;
- longctx.Store.doc(i) (Python) of the last document = the bytes at its offset.

usage: test_boundary_2_32.py ROOT BUILD
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests/mix"))
sys.path.insert(0, os.path.join(BUILD, "python"))
import read_packed  # noqa: E402
from checklist import check, failures  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
GAP_DOCS, GAP_TOKENS = 3, 1_500_000_000


def run(*args):
    return subprocess.run([LONGCTX, *map(str, args)], capture_output=True, text=True)


def read_idx(path):
    """(sizes int32, pointers int64) of a Megatron .idx (docs/formats/megatron.md)."""
    raw = np.fromfile(path, dtype=np.uint8)
    assert raw[:9].tobytes() == b"MMIDIDX\x00\x00"
    S = int(raw[18:26].view("<u8")[0])
    sizes = raw[34:34 + 4 * S].view("<i4")
    pointers = raw[34 + 4 * S:34 + 12 * S].view("<i8")
    return sizes, pointers


with tempfile.TemporaryDirectory() as tmp:
    J = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    r = subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), J("store"), "3", "--gap", f"{GAP_DOCS}:{GAP_TOKENS}",
                        "A:2000:0.2:5-40:41-300", "B:1000:0.5:5-40:41-300"], capture_output=True, text=True)
    check("a store with 4.5G tokens of holes", r.returncode == 0, r.stderr)
    st = os.stat(J("store", "data.bin"))
    if st.st_blocks * 512 > (1 << 30):
        print(f"note: this filesystem wrote the holes ({st.st_blocks * 512} bytes on disk)")
    sizes, pointers = read_idx(J("store", "data.idx"))
    total = int(sizes.astype(np.int64).sum())
    check(f"index: {total} tokens (> 2^32), the last document's byte offset {int(pointers[-1])} (> 2^33)",
          total > 2 ** 32 and int(pointers[-1]) > 2 ** 33 and np.all(np.diff(pointers) == 2 * sizes[:-1].astype(np.int64)))
    r = run("stats", J("store"), "--json")
    stats = json.loads(r.stdout) if r.returncode == 0 else {}
    m = json.load(open(J("store", "manifest.json")))
    check("stats --json and the manifest: the exact total past 2^32", r.returncode == 0 and m["tokens"] == total
          and sum(d["tokens"] for d in m["domains"]) == total, (r.stderr, m.get("tokens")))
    # The hash of a sparse file (holes hashed as zeros without reading them) = xxhsum's reading every
    # byte, on a smaller one (xxhsum would read 9 GB of zeros here).
    subprocess.run([os.path.join(BUILD, "tests", "make_synthetic_store"), J("small"), "4", "--gap", "2:60000000", "A:50:0.2:5-40:41-300"],
                   check=True, capture_output=True)
    xxh = subprocess.run(["xxhsum", "-H2", J("small", "data.bin")], capture_output=True, text=True) if shutil.which("xxhsum") else None
    if xxh and xxh.returncode == 0:
        small = json.load(open(J("small", "manifest.json")))
        check("the manifest's hash of a sparse data.bin = xxhsum -H2's", small["files"]["data.bin"]["xxh128"] == xxh.stdout.split()[0])
    r = run("verify", J("store"))
    check("verify the store", r.returncode == 0, r.stderr)

    # A plan over every token: counts past 2^32, exact.
    r = run("mix", J("store"), "--strategy", "original", "--tokens", total, "--seed", "1", "-o", J("plan-all"), "-q")
    check("mix original over all 4.5G tokens", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        e = np.fromfile(J("plan-all", "entries.bin"), dtype=np.dtype([("doc", "<u8"), ("start", "<u4"), ("length", "<u4")]))
        pj = json.load(open(J("plan-all", "plan.json")))
        check("plan: entries sum to the store's total, and plan.json says so", int(e["length"].astype(np.int64).sum()) == total
              and pj["tokens"] == total, pj.get("tokens"))

    # The real documents, past the holes, mixed, packed and read back against the store's bytes.
    data = np.memmap(J("store", "data.bin"), dtype="<u2", mode="r")
    r = run("mix", J("store"), "--strategy", "per-source", "--domain-shares", "A=0.6,B=0.4", "--tokens", "60K", "--long-threshold", "40",
            "--seed", "2", "-o", J("plan"), "-q")
    check("mix per-source of the real documents", r.returncode == 0, r.stderr)
    for fmt in ("flat", "megatron"):
        r = run("pack", J("plan"), "--seq-len", "1024", "--format", fmt, "--out", J(fmt), "-q")
        check(f"pack {fmt}", r.returncode == 0, r.stderr)
        if r.returncode != 0:
            continue
        ref = read_packed.read(J(fmt))
        bad, past = [], 0
        for s, spans in enumerate(ref["spans"]):
            for (doc, off, a, b, _) in spans:
                start = int(pointers[doc]) // 2 + off
                past += start > 2 ** 32
                if not np.array_equal(ref["tokens"][s][a:b], data[start:start + (b - a)].astype(np.int64)):
                    bad.append((s, doc))
        check(f"{fmt}: {len(ref['spans'])} sequences, every span's tokens = the store's at offsets past 2^32 ({past} spans)",
              not bad and past > 0, bad[:5])
        check(f"verify {fmt}", run("verify", J(fmt)).returncode == 0)
    try:
        import longctx
        s = longctx.Store(J("store"))
        n = len(s) - 1
        check("Python Store.doc(last) = the bytes at its offset past 2^33", np.array_equal(
            s.doc(n).astype(np.int64), data[int(pointers[n]) // 2:int(pointers[n]) // 2 + int(sizes[n])].astype(np.int64)))
    except ImportError:
        print("note: the Python package is not built; Store check skipped")

sys.exit(1 if failures else 0)
