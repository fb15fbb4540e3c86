"""longctx from Python: the C++ library's tokenizer, document stores, packed data and pipeline,
thin over the extension longctx._longctx (pybind11). docs/python.md has one example per object.

    import longctx
    tok = longctx.Tokenizer.from_file("tokenizer.json")     # HF tokenizers' names and defaults
    ids = tok.encode("Hello world").ids
    encs = tok.encode_batch(texts, threads=8)               # GIL released, our threads
    store = longctx.Store("out/store")
    store.doc(0)                                            # numpy view of the mmap, no copy
    longctx.mix("out/store", strategy="per-source", tokens="1M", seed=1, out="out/plan")
    longctx.pack("out/plan", seq_len="8K", format="flat", out="out/packed")
    ds = longctx.PackedDataset("out/packed")                # torch Dataset, mmap, no copy
    loader = torch.utils.data.DataLoader(ds, batch_size=4, collate_fn=longctx.collate)

Every error the C++ library reports is raised as longctx.Error with the CLI's one-line message.
PackedDataset needs torch; the rest needs only numpy.
"""
from ._longctx import Encoding, Error, PackedIndex, Store, Tokenizer
from .pipeline import cli, ingest, merge, mix, pack, prepare, stats, tokenize, verify

__all__ = ["Encoding", "Error", "PackedIndex", "Store", "Tokenizer", "PackedDataset", "collate",
           "cli", "ingest", "merge", "mix", "pack", "prepare", "stats", "tokenize", "verify"]


def __getattr__(name):  # torch is imported only by those who use the dataset
    if name in ("PackedDataset", "collate"):
        from . import data
        return getattr(data, name)
    raise AttributeError(f"module 'longctx' has no attribute {name!r}")
