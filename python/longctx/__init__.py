"""longctx from Python: the C++ library's tokenizer and document stores, thin over the extension
longctx._longctx (pybind11).

    import longctx
    tok = longctx.Tokenizer.from_file("tokenizer.json")     # HF tokenizers' names and defaults
    ids = tok.encode("Hello world").ids
    encs = tok.encode_batch(texts, threads=8)               # GIL released, our threads
    text = tok.decode(ids)                                  # skip_special_tokens=True, as HF
    store = longctx.Store("out/store")
    store.doc(0)                                            # numpy view of the mmap, no copy
    store.domain(0), store.stats()

Every error the C++ library reports is raised as longctx.Error with the CLI's one-line message.
"""
from ._longctx import Encoding, Error, Store, Tokenizer

__all__ = ["Encoding", "Error", "Store", "Tokenizer"]
