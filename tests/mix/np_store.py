"""Stores and plans read with numpy, from docs/formats/store.md, megatron.md and plan.md (not from
our C++), for the mix tests: Store (index, sidecar, tokens), read_plan, largest_remainder."""
import json
import os
import struct

import numpy as np

DOC = np.dtype([("line", "<u8"), ("input", "<u4"), ("chars", "<u4"), ("domain", "<u2"), ("r1", "<u2"), ("r2", "<u4")])
ENTRY = np.dtype([("doc", "<u8"), ("start", "<u4"), ("length", "<u4")])


class Store:
    """A store of uint16 tokens: lengths, offsets, tokens, and the sidecar's records."""

    def __init__(self, d):
        self.manifest = json.load(open(os.path.join(d, "manifest.json")))
        idx = open(os.path.join(d, "data.idx"), "rb").read()
        assert idx[:9] == b"MMIDIDX\x00\x00" and idx[17] == 8  # uint16 tokens
        n = struct.unpack_from("<Q", idx, 18)[0]
        self.lengths = np.frombuffer(idx, dtype="<i4", count=n, offset=34).astype(np.int64)
        self.offsets = np.frombuffer(idx, dtype="<i8", count=n, offset=34 + 4 * n) // 2
        self.bin = np.memmap(os.path.join(d, "data.bin"), dtype="<u2", mode="r") if os.path.getsize(os.path.join(d, "data.bin")) else np.zeros(0, "<u2")
        self.docs = np.fromfile(os.path.join(d, "docs.bin"), dtype=DOC)
        self.domain = self.docs["domain"].astype(np.int64)
        self.names = [x["name"] for x in self.manifest["domains"]]
        self.tokens_of = [int(self.lengths[self.domain == i].sum()) for i in range(len(self.names))]

    def tokens(self, doc, start, length):
        o = int(self.offsets[doc]) + start
        return np.asarray(self.bin[o:o + length], dtype=np.int64)


def read_plan(d):
    return json.load(open(os.path.join(d, "plan.json"))), np.fromfile(os.path.join(d, "entries.bin"), dtype=ENTRY)


def largest_remainder(total, weights):
    """Integer budgets summing to `total`: floor(total * w / W), then one more token to the largest
    remainders, ties to the lower index (docs/formats/plan.md), in exact integer arithmetic."""
    W = sum(weights)
    floors = [total * w // W for w in weights]
    rems = [total * w % W for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-rems[i], i))[:total - sum(floors)]:
        floors[i] += 1
    return floors
