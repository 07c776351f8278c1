"""ReLU forward and backward as single loops (see kernels/__init__.py for why).

numpy's `maximum(x, 0)` checks every value for NaN and runs at 2.5x the time of an add
(1M float32: 400 vs 160 us), and the backward `g * (y > 0)` makes a mask and then a product.
The formulas are those of ops/unary.py's `Relu`, with torch's NaN rules:
    y = 0 if x < 0 else x, so NaN and -0.0 stay   (torch's clamp_min)
    dx = 0 if y <= 0 else g, so a NaN y passes g  (torch's threshold_backward)
"""

from __future__ import annotations

import numpy as np

from .approx import jit_cached


@jit_cached
def _forward(x, zero, y):  # noqa: ANN001, ANN202 (flat arrays of one float dtype)
    for i in range(x.size):
        v = x[i]
        y[i] = zero if v < zero else v


@jit_cached
def _backward(grad, y, zero, out):  # noqa: ANN001, ANN202
    for i in range(y.size):
        out[i] = zero if y[i] <= zero else grad[i]


def forward(x: np.ndarray) -> np.ndarray:
    """relu of a C-contiguous float array (any shape)."""
    y = np.empty_like(x)
    _forward(x.reshape(-1), x.dtype.type(0), y.reshape(-1))
    return y


def backward(grad: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient through relu, given its output y (both C-contiguous, one shape)."""
    out = np.empty_like(y)
    _backward(grad.reshape(-1), y.reshape(-1), y.dtype.type(0), out.reshape(-1))
    return out
