"""PackedDataset: longctx's packed output (every layout `longctx pack` writes, or a bare JSONL
file in the paper's schema) as a PyTorch dataset, read through the C++ PackedIndex.

Each item is a dict of tensors for one packed sequence of L tokens:
    input_ids     int64 (L,)
    labels        int64 (L,)   -100 where there is no true target (padding; see below)
    position_ids  int64 (L,)   restarted at 0 at every document start (the trainer's rule:
                               a document continued from the previous sequence restarts too)
    cu_seqlens    int32 (D+1,) document boundaries within the sequence, 0 ... L (FlashAttention's
                               varlen format; padding counts as a segment of its own)

labels, by default, equal input_ids (Hugging Face's convention, and longctx train's: the model
shifts them, the last position predicts nothing). shift_labels=True gives the Megatron/torchtitan
convention: labels[p] is the token after p, and labels[L - 1] is the sequence's own label token
(the true next token the packed output keeps), so every position has a target.
mask_cross_document=True also ignores every target that starts another document (for training
with document masking, where that token cannot be predicted from its own document).

The binary layouts (flat, megatron, llmc) are memory-mapped: nothing is loaded up front and an
item costs a few passes over its L tokens in C++. The text layouts (jsonl, jsonl.zst) are decoded
whole into memory on first use.
"""
import math

import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ._longctx import PackedIndex


def _to_tensors(arrays):
    ids, labels, pos, cu = arrays
    return {
        "input_ids": torch.from_numpy(ids),
        "labels": torch.from_numpy(labels),
        "position_ids": torch.from_numpy(pos),
        "cu_seqlens": torch.from_numpy(cu),
    }


def collate(batch):
    """Stacks a list of items into a batch: input_ids/labels/position_ids (B, L), and cu_seqlens of
    the flattened batch (int32, sequence b's boundaries offset by b*L: flash_attn_varlen_func's
    cu_seqlens_q/k over input_ids.view(-1)) with max_seqlen (the longest segment, an int)."""
    out = {k: torch.stack([b[k] for b in batch]) for k in ("input_ids", "labels", "position_ids")}
    L = out["input_ids"].shape[1]
    cus = [batch[0]["cu_seqlens"]] + [b["cu_seqlens"][1:] + i * L for i, b in enumerate(batch) if i > 0]
    cu = torch.cat(cus).to(torch.int32)
    out["cu_seqlens"] = cu
    out["max_seqlen"] = int((cu[1:] - cu[:-1]).max()) if len(cu) > 1 else 0
    return out


class PackedDataset(Dataset):
    """A map-style dataset over a packed output: len() sequences, item i a dict of tensors (module
    docstring). Use with torch.utils.data.DataLoader(ds, batch_size=B, collate_fn=longctx.collate)
    so cu_seqlens of different lengths batch; iterable() gives a rank- and worker-sharded stream."""

    def __init__(self, path, shift_labels=False, mask_cross_document=False, threads=0):
        self.path = str(path)
        self.threads = threads  # for a list of indices: rows filled in parallel (0: all cores)
        self.shift_labels = shift_labels
        self.mask_cross_document = mask_cross_document
        self._index = None  # opened lazily: each DataLoader worker maps the files itself
        meta = PackedIndex(self.path)
        self.seq_len, self.layout, self.domains, self.pad_id = meta.seq_len, meta.layout, meta.domains, meta.pad_id
        self._len = len(meta)

    @property
    def index(self):
        """The C++ PackedIndex (tokens(i) zero-copy, spans(i), label(i))."""
        if self._index is None:
            self._index = PackedIndex(self.path)
        return self._index

    def __len__(self):
        return self._len

    def __getitem__(self, i):
        """Item i; or, for a list of indices (a BatchSampler's), the collated batch built in one
        C++ call with `threads` threads — what loader() uses."""
        if isinstance(i, (list, tuple, range)) or (torch.is_tensor(i) and i.dim() == 1):
            ids, labels, pos, cu, longest = self.index.batch([int(k) for k in i], self.shift_labels, self.mask_cross_document,
                                                             self.threads)
            return {"input_ids": torch.from_numpy(ids), "labels": torch.from_numpy(labels), "position_ids": torch.from_numpy(pos),
                    "cu_seqlens": torch.from_numpy(cu), "max_seqlen": longest}
        i = int(i)
        if i < 0:
            i += self._len
        return _to_tensors(self.index.sample(i, self.shift_labels, self.mask_cross_document))

    def loader(self, batch_size, shuffle=False, seed=0, drop_last=False, **kwargs):
        """A DataLoader of batches built whole in C++ (the fastest way to feed a model from the
        memory-mapped layouts: no per-item Python, no collate copies): a BatchSampler over a
        sequential or seeded random order, batch_size=None. kwargs go to DataLoader (num_workers:
        each worker builds whole batches; with 0 the batch uses this dataset's threads)."""
        from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler
        if shuffle:
            g = torch.Generator()
            g.manual_seed(seed)
            order = RandomSampler(self, generator=g)
        else:
            order = SequentialSampler(self)
        return DataLoader(self, sampler=BatchSampler(order, batch_size, drop_last), batch_size=None, **kwargs)

    def __getstate__(self):  # a DataLoader worker reopens the mapping instead of pickling it
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    def iterable(self, rank=0, world_size=1, shuffle=False, seed=0, epoch=0):
        """An IterableDataset over this output's sequences, for data parallel training: rank r of
        world_size takes every world_size-th sequence (after a seeded permutation when shuffle),
        and each DataLoader worker of a rank every num_workers-th of those, so every sequence is
        served once per epoch across all ranks and workers. Ranks get equal counts: the last
        len % world_size sequences are dropped (as DistributedSampler(drop_last=True))."""
        return _ShardedPacked(self, rank, world_size, shuffle, seed, epoch)


class _ShardedPacked(IterableDataset):
    def __init__(self, ds, rank, world_size, shuffle, seed, epoch):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world_size {world_size}")
        self.ds, self.rank, self.world_size = ds, rank, world_size
        self.shuffle, self.seed, self.epoch = shuffle, seed, epoch

    def order(self):
        """The sequence indices this rank serves, in order (all of its workers together)."""
        n = len(self.ds)
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed * 1_000_003 + self.epoch)
            perm = torch.randperm(n, generator=g)
        else:
            perm = torch.arange(n)
        per_rank = n // self.world_size
        return perm[self.rank : per_rank * self.world_size : self.world_size].tolist()

    def __len__(self):
        return len(self.ds) // self.world_size

    def __iter__(self):
        mine = self.order()
        w = get_worker_info()
        if w is not None:
            mine = mine[w.id :: w.num_workers]
        for i in mine:
            yield self.ds[i]
