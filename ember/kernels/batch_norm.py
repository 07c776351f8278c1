"""BatchNorm over the channels of an (N, C, K) array (K: the spatial positions), one channel at a
time: its statistics, the normalisation, and the backward, each one loop.

The formulas are those of nn/functional/normalization.py's `BatchNorm` (M = N K values per
channel):
    mean = sum(x) / M,  var = sum((x - mean)^2) / M,  r = 1 / sqrt(var + eps)
    y = (x - mean) r w + b
    dw = sum(g x_hat),  db = sum(g),  x_hat = (x - mean) r
    dx = w r (g - db / M - x_hat dw / M)   (training: the statistics depend on x)
    dx = w r g                             (evaluation: running statistics are constants)
Sums: each (n, c) row of K values is summed in x's dtype (the loop LLVM vectorises) and the rows
are added in float64, so a 64 x 32 x 32 channel sums as accurately as numpy's pairwise sum.
Written for float32 and float64 (numba compiles one version per dtype).
"""

from __future__ import annotations

import numpy as np

from .approx import jit_cached


@jit_cached
def _statistics(x, eps, zero, mean, invstd):  # noqa: ANN001, ANN202 (arrays)
    # the per-channel scalars are read back from their x-dtype arrays, so the loops stay in x's
    # dtype (float32 in, float32 arithmetic)
    n, c, k = x.shape
    count = n * k
    for j in range(c):
        total = 0.0
        for i in range(n):
            s = zero
            for t in range(k):
                s += x[i, j, t]
            total += s
        mean[j] = total / count
        m = mean[j]
        total = 0.0
        for i in range(n):
            s = zero
            for t in range(k):
                d = x[i, j, t] - m
                s += d * d
            total += s
        invstd[j] = 1.0 / np.sqrt(total / count + eps)


@jit_cached
def _normalize(x, mean, invstd, w, b, y):  # noqa: ANN001, ANN202
    n, c, k = x.shape
    for i in range(n):
        for j in range(c):
            m, scale, shift = mean[j], invstd[j] * w[j], b[j]
            for t in range(k):
                y[i, j, t] = (x[i, j, t] - m) * scale + shift


@jit_cached
def _backward(g, x, mean, invstd, w, training, zero, gx, gw, gb, consts):  # noqa: ANN001, ANN202
    n, c, k = x.shape
    count = n * k
    for j in range(c):
        m, r = mean[j], invstd[j]
        sum_g = 0.0
        sum_gc = 0.0  # sum of g (x - mean); times r it is sum(g x_hat)
        for i in range(n):
            a = zero
            bsum = zero
            for t in range(k):
                gv = g[i, j, t]
                a += gv
                bsum += gv * (x[i, j, t] - m)
            sum_g += a
            sum_gc += bsum
        gb[j] = sum_g
        gw[j] = sum_gc * r
        scale = w[j] * r
        if training:
            consts[0] = sum_g / count  # stored and read back: x-dtype constants
            consts[1] = sum_gc / count * r * r
            mean_g, coef = consts[0], consts[1]
            for i in range(n):
                for t in range(k):
                    gx[i, j, t] = scale * (g[i, j, t] - mean_g - (x[i, j, t] - m) * coef)
        else:
            for i in range(n):
                for t in range(k):
                    gx[i, j, t] = scale * g[i, j, t]


def statistics(x: np.ndarray, eps: float) -> tuple:
    """(mean, 1 / sqrt(var + eps)) per channel of a C-contiguous (N, C, K) array."""
    c = x.shape[1]
    mean, invstd = np.empty(c, x.dtype), np.empty(c, x.dtype)
    _statistics(x, x.dtype.type(eps), x.dtype.type(0), mean, invstd)
    return mean, invstd


def normalize(x: np.ndarray, mean: np.ndarray, invstd: np.ndarray, weight: np.ndarray | None,
              bias: np.ndarray | None) -> np.ndarray:
    """y = (x - mean) invstd w + b on a C-contiguous (N, C, K) array; the rest have C values."""
    c = x.shape[1]
    w = np.ones(c, x.dtype) if weight is None else weight.reshape(c)
    b = np.zeros(c, x.dtype) if bias is None else bias.reshape(c)
    y = np.empty_like(x)
    _normalize(x, mean.reshape(c), invstd.reshape(c), w, b, y)
    return y


def backward(grad: np.ndarray, x: np.ndarray, mean: np.ndarray, invstd: np.ndarray,
             weight: np.ndarray | None, training: bool) -> tuple:
    """(dx, dweight, dbias) for the (N, C, K) arrays of `normalize`."""
    c = x.shape[1]
    w = np.ones(c, x.dtype) if weight is None else weight.reshape(c)
    gx = np.empty_like(x)
    gw, gb = np.empty(c, x.dtype), np.empty(c, x.dtype)
    _backward(grad, x, mean.reshape(c), invstd.reshape(c), w, training, x.dtype.type(0), gx,
              gw, gb, np.empty(2, x.dtype))
    return gx, gw, gb
