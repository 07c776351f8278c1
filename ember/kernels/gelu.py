"""GELU forward and backward as single loops over float32 (see kernels/__init__.py for why).

The formulas are those of nn/functional/activation.py's `Gelu`:
    exact:  y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2,   dy/dx = Phi(x) + x phi(x)
    tanh:   y = x (1 + tanh(u)) / 2,  u = sqrt(2/pi) (x + 0.044715 x^3),
            dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .approx import JIT, erf32, exp32, tanh32

_F = np.float32
_HALF, _ONE, _ZERO = _F(0.5), _F(1.0), _F(0.0)
_TAIL_LOW, _TAIL_HIGH = _F(-6.4), _F(6.4)  # |x| / sqrt 2 > 4.5, erf's fitted range
_INV_SQRT_2PI = _F(1 / math.sqrt(2 * math.pi))
_INV_SQRT_2 = _F(1 / math.sqrt(2))
_SQRT_2_OVER_PI = _F(math.sqrt(2 / math.pi))
_K, _3K = _F(0.044715), _F(3 * 0.044715)


@numba.njit(**JIT)
def _exact_forward(x, y, cdf):  # noqa: ANN001, ANN202 (numba: arrays of float32)
    for i in range(x.size):
        v = x[i]
        c = _HALF + _HALF * erf32(v * _INV_SQRT_2)  # Phi(x)
        if v <= _TAIL_LOW:  # Phi is 0 and 1 to float32 out here (NaN passes both tests)
            c = _ZERO
        if v >= _TAIL_HIGH:
            c = _ONE
        cdf[i] = c
        y[i] = v * c


@numba.njit(**JIT)
def _exact_backward(grad, x, cdf, out):  # noqa: ANN001, ANN202
    for i in range(x.size):
        v = x[i]
        pdf = _INV_SQRT_2PI * exp32(-_HALF * v * v)
        out[i] = grad[i] * (cdf[i] + v * pdf)


@numba.njit(**JIT)
def _tanh_forward(x, y):  # noqa: ANN001, ANN202
    for i in range(x.size):
        v = x[i]
        t = tanh32(_SQRT_2_OVER_PI * (v + _K * v * v * v))
        y[i] = _HALF * v * (_ONE + t)


@numba.njit(**JIT)
def _tanh_backward(grad, x, out):  # noqa: ANN001, ANN202
    for i in range(x.size):
        v = x[i]
        t = tanh32(_SQRT_2_OVER_PI * (v + _K * v * v * v))
        d_inner = _SQRT_2_OVER_PI * (_ONE + _3K * v * v)
        out[i] = grad[i] * (_HALF * (_ONE + t) + _HALF * v * (_ONE - t * t) * d_inner)


def exact_forward(x: np.ndarray) -> tuple:
    """(x Phi(x), Phi(x)) of a C-contiguous float32 array; Phi is kept for the backward."""
    y, cdf = np.empty_like(x), np.empty_like(x)
    _exact_forward(x.reshape(-1), y.reshape(-1), cdf.reshape(-1))
    return y, cdf


def exact_backward(grad: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """grad * (Phi(x) + x phi(x))."""
    out = np.empty_like(x)
    _exact_backward(grad.reshape(-1), x.reshape(-1), cdf.reshape(-1), out.reshape(-1))
    return out


def tanh_forward(x: np.ndarray) -> np.ndarray:
    """The tanh approximation of GELU."""
    y = np.empty_like(x)
    _tanh_forward(x.reshape(-1), y.reshape(-1))
    return y


def tanh_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The derivative of the tanh approximation, times grad."""
    out = np.empty_like(x)
    _tanh_backward(grad.reshape(-1), x.reshape(-1), out.reshape(-1))
    return out
