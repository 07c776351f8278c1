"""Shared by the data-loading tests: a comparable picture of a batch, and a small stream."""

from __future__ import annotations

import torch

import ember


def tree(x):
    """A comparable picture of a batch: container types, tensor dtypes and values."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.numpy().tolist())
    if isinstance(x, dict):
        return ("dict", {k: tree(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [tree(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [tree(v) for v in x])
    return x


def make_stream(lib_data, n, shard):
    """An IterableDataset of n dicts for `lib_data` (ember.utils.data or torch.utils.data);
    with shard=True each worker yields every num_workers-th item, from its id on."""
    class Stream(lib_data.IterableDataset):
        def __iter__(self):
            info = lib_data.get_worker_info()
            start, step = (0, 1) if info is None or not shard else (info.id, info.num_workers)
            for i in range(start, n, step):
                yield {"i": i, "square": float(i * i)}

        def __len__(self):
            return n

    return Stream()
