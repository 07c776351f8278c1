"""softmax and log_softmax, computed stably (the max is subtracted before exp)."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from .. import backend, dtypes, kernels
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from ._util import wrap_dim


class Softmax(Op):
    def forward(self, x: Any, dim: int) -> Any:
        # softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max(x): no overflow
        self.dim = dim
        xp = backend.module_of(x)
        if x.size == 0:  # nothing to normalise (amax refuses an empty axis)
            self.save_for_backward(x)
            return x.copy()
        if _rows_kernel(x, dim):  # one compiled loop per row (ember/kernels/softmax.py)
            e = kernels.load("softmax").rows(x, log=False)
            self.save_for_backward(e)
            return e
        m = xp.amax(x, axis=dim, keepdims=True)
        with _quiet_if_infinite(xp, m):  # a row of -inf gives NaN, as torch, without a warning
            e = _shifted(xp, x, m)
            xp.exp(e, out=e)
            e /= xp.sum(e, axis=dim, keepdims=True)
        self.save_for_backward(e)
        return e

    def backward(self, grad: Any) -> Any:
        # dx = y * (g - sum(g * y))
        (y,) = self.saved_tensors
        if _rows_kernel(y, self.dim, grad):
            return kernels.load("softmax").rows_backward(grad, y, log=False)
        xp = array_namespace(grad)
        return y * (grad - xp.sum(grad * y, axis=self.dim, keepdims=True))


class LogSoftmax(Op):
    def forward(self, x: Any, dim: int) -> Any:
        # log_softmax(x) = x - m - log sum exp(x - m)
        self.dim = dim
        xp = backend.module_of(x)
        if x.size == 0:
            self.save_for_backward(x)
            return x.copy()
        if _rows_kernel(x, dim):
            y = kernels.load("softmax").rows(x, log=True)
            self.save_for_backward(y)
            return y
        m = xp.amax(x, axis=dim, keepdims=True)
        with _quiet_if_infinite(xp, m):
            shifted = _shifted(xp, x, m)
            y = shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        # dx = g - softmax(x) * sum(g)
        (y,) = self.saved_tensors
        if _rows_kernel(y, self.dim, grad):
            return kernels.load("softmax").rows_backward(grad, y, log=True)
        xp = array_namespace(grad)
        return grad - xp.exp(y) * xp.sum(grad, axis=self.dim, keepdims=True)


def _rows_kernel(x: Any, dim: int, *more: Any) -> bool:
    """Whether the compiled row loops may run: over the last dim of C-contiguous float32 numpy
    arrays of MIN_ELEMENTS+ values (a numpy softmax makes 5 passes and reduces short rows one
    at a time: 32 x 4 x 64 x 64 fwd + bwd 1.9 -> 0.5-0.8 ms, torch 0.44)."""
    return dim == x.ndim - 1 and x.shape[-1] > 0 and kernels.usable(backend.numpy.float32, x,
                                                                      *more)


def _shifted(xp: Any, x: Any, m: Any) -> Any:
    """x - m in a new C-contiguous array: torch's softmax output is contiguous whatever the
    input's layout (x.t().softmax(-1).view(-1) works), numpy's would follow x's strides."""
    if x.flags.c_contiguous:
        return x - m
    out = xp.empty(x.shape, dtype=x.dtype)
    xp.subtract(x, m, out=out)
    return out


def _quiet_if_infinite(xp: Any, row_max: Any) -> Any:
    """numpy's errstate only when some row's max is infinite (then x - max has inf - inf = NaN,
    torch's answer): the check is on the small reduced array, the context costs microseconds."""
    if xp.isinf(row_max).any():
        return backend.errstate(xp, invalid="ignore")
    return contextlib.nullcontext()


def _softmax_dim(name: str, ndim: int, dim: int | None) -> int:
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.", UserWarning, stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, ndim, name)


def _prepare(input: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        return input.to(dtypes.to_dtype(dtype))
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f"softmax: expected a floating point input, got {input.dtype} "
                                  "(torch has no integer kernel): convert it with .float()")
    return input


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None, *,
            axis: Any = None) -> Tensor:
    if axis is not None:  # numpy's name, as torch's argument parser takes it
        dim = axis
    x = _prepare(input, dtype)
    d = _softmax_dim("softmax", x._data.ndim, dim)
    if x._data.ndim == 0:
        return Softmax.apply(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None, *, axis: Any = None) -> Tensor:
    if axis is not None:
        dim = axis
    x = _prepare(input, dtype)
    d = _softmax_dim("log_softmax", x._data.ndim, dim)
    if x._data.ndim == 0:
        return LogSoftmax.apply(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, d)
