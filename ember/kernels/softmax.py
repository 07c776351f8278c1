"""Softmax fused into one loop per row (see kernels/__init__.py for why): the softmax inside
attention (scale, causal mask, max, exp, sum and divide) and its backward, and softmax and
log_softmax over the last dim of any float32 array with their backwards (ops/softmax.py).

The formulas are those of nn/functional/attention.py's `ScaledDotProductAttention`:
    P = exp(s * scale - m) / sum exp(s * scale - m),  m = the row's largest scaled score
    dS = P * (dP - rowsum(dO * O)) * scale
With `causal`, query i sees keys 0..i (torch's top-left aligned tril): P is 0 to the right.
Rows of ops/softmax.py (m = the row's max, NaN if the row holds one, as torch's max):
    softmax      y = exp(x - m) / sum exp(x - m),        dx = y (g - sum(g y))
    log_softmax  y = (x - m) - log sum exp(x - m),       dx = g - exp(y) sum(g)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .approx import JIT, exp32, largest32


@numba.njit(**JIT)
def _probs(s, scale, first_query, queries, causal):  # noqa: ANN001, ANN202 (numba: arrays)
    rows, keys = s.shape
    for r in range(rows):
        seen = keys
        if causal:
            seen = min(keys, first_query + r % queries + 1)
        row = s[r]
        if scale >= 0:  # rounding is monotonic: max(s * scale) = max(s) * scale
            m = largest32(row, seen) * scale
        else:
            m = row[0] * scale
            for j in range(1, seen):
                m = max(m, row[j] * scale)
        _normalised_exp(row, row, scale, m, seen)


# inlined into its callers: as a call, its loops did not vectorise (attention's probs 4.5x slower)
@numba.njit(inline="always", **JIT)
def _normalised_exp(x, y, scale, m, seen):  # noqa: ANN001, ANN202
    """y = exp(x * scale - m) / its sum over the first `seen` values, 0 past them. Whole rows
    with selects, not loops of `seen` values: LLVM vectorises 64 values per iteration and would
    run a causal row's shorter loops scalar (0.55 -> 0.25 ms for 8192 rows of 64)."""
    total = np.float32(0.0)
    for j in range(y.size):  # a NaN among the seen values reaches the sum and the whole row
        e = exp32(x[j] * scale - m)
        e = e if j < seen else np.float32(0.0)
        y[j] = e
        total += e
    inv = np.float32(1.0) / total
    for j in range(y.size):
        y[j] *= inv


@numba.njit(**JIT)
def _backward(ds, p, rowsum, scale):  # noqa: ANN001, ANN202
    rows, keys = ds.shape
    for r in range(rows):
        c = rowsum[r]
        for j in range(keys):
            ds[r, j] = (ds[r, j] - c) * p[r, j] * scale


def attention_probs(scores: np.ndarray, scale: float, first_query: int, causal: bool) -> None:
    """Turn (..., queries, keys) scores into attention weights, in place. `first_query` is the
    index of the block's first query row (blocks of rows are processed one at a time)."""
    queries, keys = scores.shape[-2:]
    _probs(scores.reshape(-1, keys), scores.dtype.type(scale), first_query, queries, causal)


def attention_probs_backward(ds: np.ndarray, probs: np.ndarray, rowsum: np.ndarray,
                             scale: float) -> None:
    """dS = P (dP - rowsum) * scale, in place in `ds` (..., queries, keys); rowsum (..., 1)."""
    keys = ds.shape[-1]
    _backward(ds.reshape(-1, keys), probs.reshape(-1, keys), rowsum.reshape(-1),
              ds.dtype.type(scale))


@numba.njit(**JIT)
def _softmax_rows(x, y):  # noqa: ANN001, ANN202
    for r in range(x.shape[0]):
        xr = x[r]
        _normalised_exp(xr, y[r], np.float32(1.0), largest32(xr, xr.size), xr.size)


@numba.njit(**JIT)
def _log_softmax_rows(x, y):  # noqa: ANN001, ANN202
    for r in range(x.shape[0]):
        xr, yr = x[r], y[r]
        m = largest32(xr, xr.size)
        total = np.float32(0.0)
        for j in range(xr.size):
            total += exp32(xr[j] - m)
        log_total = np.float32(math.log(total))
        for j in range(xr.size):
            yr[j] = (xr[j] - m) - log_total


@numba.njit(**JIT)
def _softmax_rows_backward(g, y, out):  # noqa: ANN001, ANN202
    for r in range(g.shape[0]):
        gr, yr, o = g[r], y[r], out[r]
        dot = np.float32(0.0)
        for j in range(gr.size):
            dot += gr[j] * yr[j]
        for j in range(gr.size):
            o[j] = yr[j] * (gr[j] - dot)


@numba.njit(**JIT)
def _log_softmax_rows_backward(g, y, out):  # noqa: ANN001, ANN202
    for r in range(g.shape[0]):
        gr, yr, o = g[r], y[r], out[r]
        total = np.float32(0.0)
        for j in range(gr.size):
            total += gr[j]
        for j in range(gr.size):
            o[j] = gr[j] - exp32(yr[j]) * total


def rows(x: np.ndarray, log: bool) -> np.ndarray:
    """softmax (or log_softmax) over the last dim of a C-contiguous float32 array."""
    y = np.empty_like(x)
    n = x.shape[-1]
    (_log_softmax_rows if log else _softmax_rows)(x.reshape(-1, n), y.reshape(-1, n))
    return y


def rows_backward(grad: np.ndarray, y: np.ndarray, log: bool) -> np.ndarray:
    """The input gradient of rows(x, log) = y, from the output gradient."""
    out = np.empty_like(y)
    n = y.shape[-1]
    kernel = _log_softmax_rows_backward if log else _softmax_rows_backward
    kernel(grad.reshape(-1, n), y.reshape(-1, n), out.reshape(-1, n))
    return out
