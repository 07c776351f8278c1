"""LayerNorm over the last axis of a (rows, C) array, forward and backward in one loop per row.

The formulas are those of nn/functional/normalization.py's `LayerNorm`:
    mean = sum(x) / C,  var = sum((x - mean)^2) / C,  r = 1 / sqrt(var + eps)
    x_hat = (x - mean) r,  y = x_hat w + b
    g_hat = g w,  dx = (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)) r
    dw = sum over rows of g x_hat,  db = sum over rows of g
Written for float32 and float64 (numba compiles one version per dtype).
"""

from __future__ import annotations

import numpy as np

from .approx import jit_cached


@jit_cached
def _forward(x, w, b, eps, inv_c, zero, y, mean, invstd):  # noqa: ANN001, ANN202 (arrays)
    # the per-row scalars are read back from their float arrays, so the loops stay in x's dtype
    rows, c = x.shape
    for i in range(rows):
        s = zero
        for j in range(c):
            s += x[i, j]
        mean[i] = s * inv_c
        m = mean[i]
        v = zero
        for j in range(c):
            d = x[i, j] - m
            v += d * d
        invstd[i] = 1.0 / np.sqrt(v * inv_c + eps)
        r = invstd[i]
        for j in range(c):
            y[i, j] = (x[i, j] - m) * r * w[j] + b[j]


@jit_cached
def _backward(g, x, w, mean, invstd, inv_c, zero, gx, gw, gb):  # noqa: ANN001, ANN202
    rows, c = x.shape
    gw[:] = 0
    gb[:] = 0
    for i in range(rows):
        m, r = mean[i], invstd[i]
        sum_g = zero
        sum_gx = zero
        for j in range(c):
            x_hat = (x[i, j] - m) * r
            g_hat = g[i, j] * w[j]
            sum_g += g_hat
            sum_gx += g_hat * x_hat
            gw[j] += g[i, j] * x_hat
            gb[j] += g[i, j]
        mean_g, mean_gx = sum_g * inv_c, sum_gx * inv_c
        for j in range(c):
            x_hat = (x[i, j] - m) * r
            gx[i, j] = (g[i, j] * w[j] - mean_g - x_hat * mean_gx) * r


def forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
            eps: float) -> tuple:
    """(y, mean, invstd) of a C-contiguous (rows, C) array; mean/invstd have one per row."""
    rows, c = x.shape
    w = np.ones(c, x.dtype) if weight is None else weight.reshape(c)
    b = np.zeros(c, x.dtype) if bias is None else bias.reshape(c)
    y = np.empty_like(x)
    mean, invstd = np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    dtype = x.dtype.type
    _forward(x, w, b, dtype(eps), dtype(1 / c), dtype(0), y, mean, invstd)
    return y, mean, invstd


def backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray | None, mean: np.ndarray,
             invstd: np.ndarray) -> tuple:
    """(dx, dweight, dbias) for the (rows, C) arrays of `forward`."""
    c = x.shape[1]
    w = np.ones(c, x.dtype) if weight is None else weight.reshape(c)
    gx = np.empty_like(x)
    gw, gb = np.empty(c, x.dtype), np.empty(c, x.dtype)
    dtype = x.dtype.type
    _backward(grad, x, w, mean, invstd, dtype(1 / c), dtype(0), gx, gw, gb)
    return gx, gw, gb
