"""Sorting and selection: sort, argsort, topk, kthvalue, unique.

Values are gathered at the chosen indices, so their gradient flows back to exactly those
positions (through `gather`).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, return_types
from ..tensor import Tensor
from ._util import complex_error, torch_named, wrap_dim
from .indexing import gather


def sort_keys(data: Any) -> Any:
    """`data` as numpy orders it right: bfloat16 (an ml_dtypes type, whose NaN numpy's sort
    does not put last) as float32, which holds it exactly."""
    return data.astype("float32") if data.dtype.kind == "V" else data


def _order(data: Any, dim: int, descending: bool, stable: bool) -> Any:
    xp = backend.module_of(data)
    data = sort_keys(data)
    if descending:
        # stable descending order: sort reversed keys (~x reverses integers without overflow)
        keys = -data if data.dtype.kind in "fV" else ~data
        order = xp.argsort(keys, axis=dim, kind="stable")
        if data.dtype.kind in "fV":  # NaN counts as the largest value: first, as in torch
            not_nan = ~xp.isnan(xp.take_along_axis(data, order, axis=dim))
            order = xp.take_along_axis(order, xp.argsort(not_nan, axis=dim, kind="stable"),
                                       axis=dim)
        return order
    return xp.argsort(data, axis=dim, kind="stable")


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    data = input._data
    if data.dtype.kind == "c":
        raise complex_error("sort", data)
    if data.ndim == 0:
        return return_types.sort(torch_named(input.clone(), "Sort"), Tensor._make(
            backend.module_of(data).zeros((), "int64")))
    d = wrap_dim(dim, data.ndim, "sort")
    idx = Tensor._make(_order(data, d, descending, stable).astype("int64", copy=False))
    return return_types.sort(torch_named(gather(input, d, idx), "Sort"), idx)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002
    """The k largest (or smallest) values along dim, with their indices."""
    data = input._data
    if data.dtype.kind == "c":
        raise complex_error("topk", data)
    if data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes (convert with .int())")
    d = wrap_dim(dim, data.ndim, "topk") if data.ndim else 0
    n = data.shape[d] if data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k out of range (k={k}, size of dim {d} is {n})")
    if data.ndim == 0:
        return return_types.topk(torch_named(input.clone(), "Topk"), Tensor._make(
            backend.module_of(data).zeros((), "int64")))
    order = _order(data, d, largest, True)
    xp = backend.module_of(data)
    idx = Tensor._make(xp.take(order, xp.arange(k), axis=d).astype("int64", copy=False))
    return return_types.topk(torch_named(gather(input, d, idx), "Topk"), idx)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest value (1-based) along dim."""
    data = input._data
    if data.dtype.kind == "b":
        raise NotImplementedError("kthvalue: not implemented for 'Bool' (convert with .int())")
    d = wrap_dim(dim, data.ndim, "kthvalue") if data.ndim else 0
    n = data.shape[d] if data.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} "
                           f"(k={k}, size {n})")
    source = input if data.ndim else input.reshape(1)
    order = _order(source._data, d, False, True)
    xp = backend.module_of(data)
    idx = Tensor._make(xp.take(order, [k - 1], axis=d).astype("int64", copy=False))
    values = gather(source, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return return_types.kthvalue(torch_named(values, "Kthvalue"), idx)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Distinct values (sorted), optionally with inverse indices and counts (no gradient)."""
    data = input._data
    if data.dtype.kind == "c":
        raise NotImplementedError("unique: not implemented for complex tensors (complex numbers "
                                  "have no order)")
    xp = backend.module_of(data)
    keys = sort_keys(data)
    if dim is None:
        values, inverse, counts = xp.unique(keys, return_inverse=True, return_counts=True,
                                            equal_nan=False)  # each NaN distinct, as torch
        inverse = inverse.reshape(data.shape)
    else:
        d = wrap_dim(dim, data.ndim, "unique")
        values, inverse, counts = xp.unique(keys, return_inverse=True, return_counts=True,
                                            axis=d)
        inverse = inverse.reshape(-1)
    out = [Tensor._make(values.astype(data.dtype, copy=False))]
    if return_inverse:
        out.append(Tensor._make(inverse.astype("int64")))
    if return_counts:
        out.append(Tensor._make(counts.astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    if dim is not None:
        return _unique_consecutive_dim(input, return_inverse, return_counts, dim)
    data = input._data.reshape(-1)
    xp = backend.module_of(data)
    if data.size == 0:
        starts = xp.zeros(0, dtype=bool)
    else:
        starts = xp.concatenate([xp.ones(1, dtype=bool), data[1:] != data[:-1]])
    return _consecutive_outputs(Tensor._make(data[starts]), starts, input._data.shape,
                                return_inverse, return_counts)


def _unique_consecutive_dim(input: Tensor, return_inverse: bool, return_counts: bool,
                            dim: int) -> Any:
    """unique_consecutive of the slices along dim: a slice equal to the one before it is dropped."""
    data = input._data
    xp = backend.module_of(data)
    d = wrap_dim(dim, data.ndim, "unique_consecutive")
    front = xp.moveaxis(data, d, 0)
    rows = front.reshape(data.shape[d], math.prod(front.shape[1:]))
    starts = xp.ones(data.shape[d], dtype=bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    values = Tensor._make(xp.moveaxis(front[starts], 0, d))  # torch's layout: dim moved back
    return _consecutive_outputs(values, starts, (data.shape[d],), return_inverse, return_counts)


def _consecutive_outputs(values: Tensor, starts: Any, inverse_shape: tuple, return_inverse: bool,
                         return_counts: bool) -> Any:
    """unique_consecutive's results from the kept values and the mask of where each run starts."""
    xp = backend.module_of(starts)
    out = [values]
    if return_inverse:
        out.append(Tensor._make((xp.cumsum(starts) - 1).reshape(inverse_shape).astype("int64")))
    if return_counts:
        positions = xp.flatnonzero(starts)
        out.append(Tensor._make(xp.diff(xp.append(positions, starts.size)).astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)
