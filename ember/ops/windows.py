"""Sliding windows: Tensor.unfold(dimension, size, step).

The windows are a strided view of the input (no copy); the gradient adds each window's
gradient back onto the positions it covered (overlapping windows add up).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd.node import Op
from ..tensor import Tensor
from ._util import wrap_dim
from .indexing import scatter_into_zeros


class Unfold(Op):
    def forward(self, x: Any, dim: int, size: int, step: int) -> Any:
        xp = backend.module_of(x)
        self.in_shape, self.dim, self.size, self.step = x.shape, dim, size, step
        windows = xp.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        return xp.ascontiguousarray(windows[(slice(None),) * dim + (slice(None, None, step),)])

    def backward(self, grad: Any) -> Any:
        # positions: start of window i is i*step, element j of it is at i*step + j
        xp = backend.module_of(grad if not isinstance(grad, Tensor) else grad._data)
        n_windows = grad.shape[self.dim]
        pos = (xp.arange(n_windows) * self.step)[:, None] + xp.arange(self.size)[None, :]
        nd = len(self.in_shape)
        g = grad.movedim(self.dim, -2) if isinstance(grad, Tensor) else xp.moveaxis(
            grad, self.dim, -2)  # (..., n_windows, size)
        key = (slice(None),) * (nd - 1) + (pos,)
        shape = tuple(s for i, s in enumerate(self.in_shape) if i != self.dim) + (
            self.in_shape[self.dim],)
        summed = scatter_into_zeros(shape, key, g, True)
        return summed.movedim(-1, self.dim) if isinstance(summed, Tensor) else xp.moveaxis(
            summed, -1, self.dim)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    nd = input._data.ndim
    d = wrap_dim(dimension, nd, "unfold") if nd else 0
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if nd == 0:
        return input.reshape(1)
    return Unfold.apply(input, d, size, step)
