"""Max unpooling: max_unpool1d/2d/3d, the partial inverse of max pooling with return_indices.

Each value goes back to where its maximum came from (the flat index max pooling returned,
h * W + w in 2-D) in an output of zeros; the gradient reads those same positions back, which is
a gather, so it is differentiable again.
"""

from __future__ import annotations

import math
from typing import Any

from ...autograd.node import Op
from ...backend import module_of
from ...ops._util import shape_str
from ...tensor import Tensor
from ..errors import LayerInputError
from .conv import _tuple


class MaxUnpool(Op):
    """out[n, c, index[n, c, i]] = x[n, c, i] in zeros of shape (N, C, *size); a repeated index
    keeps the last value written, as torch on CPU."""

    def forward(self, x: Any, index: Any, size: tuple) -> Any:
        xp = module_of(x)
        n, c = x.shape[:2]
        self.in_shape = x.shape
        self.index = index.reshape(n, c, -1)
        out = xp.zeros((n, c, math.prod(size)), dtype=x.dtype)
        xp.put_along_axis(out, self.index, x.reshape(n, c, -1), axis=2)
        return out.reshape((n, c) + tuple(size))

    def backward(self, grad: Any) -> tuple:
        n, c = self.in_shape[:2]
        if isinstance(grad, Tensor):  # create_graph: a differentiable gather
            picked = grad.reshape(n, c, -1).gather(2, Tensor._make(self.index))
            return picked.reshape(self.in_shape), None, None
        xp = module_of(grad)
        picked = xp.take_along_axis(grad.reshape(n, c, -1), self.index, axis=2)
        return picked.reshape(self.in_shape), None, None


def _output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple,
                 output_size: Any) -> tuple:
    """(In - 1) S - 2P + K per dim, or output_size (checked to be within a stride of it)."""
    n = len(kernel)
    default = tuple((input.shape[input.ndim - n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
                    for d in range(n))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(size)}'")
        for d in range(n):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f"{low} and {high})")
    for d, v in enumerate(size):
        if v < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={v}")
    return size


def _max_unpool(op: str, input: Tensor, indices: Tensor, kernel_size: Any, stride: Any,
                padding: Any, output_size: Any, n: int) -> Tensor:
    if input.ndim not in (n + 1, n + 2):
        raise LayerInputError(f"expected a {n + 1}D or {n + 2}D input, got input of shape "
                              f"({shape_str(input.shape)})", op)
    if indices._data.dtype != "int64":
        raise LayerInputError(f"elements in indices should be type int64 but got: "
                              f"{indices.dtype}", op)
    if tuple(indices.shape) != tuple(input.shape):
        raise LayerInputError(f"expected indices of the input's shape ({shape_str(input.shape)}), "
                              f"got ({shape_str(indices.shape)})", op)
    k = _tuple(kernel_size, n, "kernel_size")
    s = k if stride is None else _tuple(stride, n, "stride")
    size = _output_size(input, k, s, _tuple(padding, n, "padding"), output_size)
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    index = indices._data[None] if unbatched else indices._data
    xp = module_of(index)
    volume = math.prod(size)
    if volume == 0:  # nothing to write: the indices are not read, as in torch
        out = x.flatten(2)[..., :0].reshape(tuple(x.shape[:2]) + size)
        return out.squeeze(0) if unbatched else out
    if index.size and (int(index.min()) < 0 or int(index.max()) >= volume):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise LayerInputError(f"Found an invalid max index: {bad} (output volumes are of size "
                              f"{'x'.join(map(str, size))})", op)
    out = MaxUnpool.apply(x, xp.ascontiguousarray(index), size)
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool1d: (N, C, L) values and indices -> (N, C, L_out) with
    zeros everywhere but at the indices."""
    return _max_unpool("max_unpool1d", input, indices, kernel_size, stride, padding,
                       output_size, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool2d: out = (In - 1) S - 2P + K per dim, or output_size.

        >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, idx, 2).shape == x.shape     # for even H, W
        True
    """
    return _max_unpool("max_unpool2d", input, indices, kernel_size, stride, padding,
                       output_size, 2)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool3d (indices are flat positions (d * H + h) * W + w)."""
    return _max_unpool("max_unpool3d", input, indices, kernel_size, stride, padding,
                       output_size, 3)
