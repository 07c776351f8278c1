"""Sliding windows over images and volumes: unfold (im2col) and fold (col2im).

Convolution and pooling look at every k x k (x k) window of the input. `windows` gives all of
them as a strided view of the (padded) input, without copying: shape (N, C, KH, KW, OH, OW),
or (N, C, KD, KH, KW, OD, OH, OW) for volumes (every helper here takes any number of spatial
dims). im2col copies that view into a matrix so a convolution becomes one matrix product;
col2im goes back, adding the values of overlapping windows. They are each other's gradient, so
`unfold` and `fold` are differentiable any number of times.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

from ...autograd.node import Op, call
from ...backend import module_of
from ...tensor import Tensor


def pair(value: Any, name: str = "argument") -> tuple:
    """2 -> (2, 2); (2, 3) -> (2, 3)."""
    if isinstance(value, int):
        return (value, value)
    out = tuple(int(v) for v in value)
    if len(out) == 1:
        return out * 2
    if len(out) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return out


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
             ceil_mode: bool = False) -> int:
    """floor((In + 2P - D (K - 1) - 1) / S) + 1 (ceil for ceil_mode, as torch's pooling)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # the last window must start inside
            out -= 1
        return out
    return span // stride + 1 if span >= 0 else 0


DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def size_formula(size: int, kernel: int, stride: int, padding: int, dilation: int) -> str:
    """The output-size arithmetic written out, for error messages."""
    if dilation == 1:
        return (f"Out = floor((In + 2P - K) / S) + 1 = floor(({size} + {2 * padding} - "
                f"{kernel})/{stride}) + 1 = {math.floor((size + 2 * padding - kernel) / stride) + 1}")
    k_eff = dilation * (kernel - 1) + 1
    return (f"Out = floor((In + 2P - D*(K-1) - 1) / S) + 1 = floor(({size} + {2 * padding} - "
            f"{k_eff})/{stride}) + 1 = {math.floor((size + 2 * padding - k_eff) / stride) + 1}")


def pad_spatial(x: Any, pads: tuple, value: float = 0.0) -> Any:
    """x (N, C, *spatial) with `value` around it: pads is (before, after) for each spatial dim
    in order, e.g. (top, bottom, left, right) for an image."""
    if not any(pads):
        return x
    xp = module_of(x)
    spatial = x.shape[2:]
    shape = x.shape[:2] + tuple(size + pads[2 * i] + pads[2 * i + 1]
                                for i, size in enumerate(spatial))
    out = xp.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(pads[2 * i], pads[2 * i] + size)
                                           for i, size in enumerate(spatial))] = x
    return out


def windows(x: Any, kernel: tuple, stride: tuple, dilation: tuple, out: tuple) -> Any:
    """Every window of x (N, C, *spatial) as a view of shape (N, C, *kernel, *out):
    (N, C, KH, KW, OH, OW) for images, (N, C, KD, KH, KW, OD, OH, OW) for volumes."""
    xp = module_of(x)
    s = x.strides[2:]
    shape = x.shape[:2] + tuple(kernel) + tuple(out)
    strides = (x.strides[:2] + tuple(a * d for a, d in zip(s, dilation))
               + tuple(a * st for a, st in zip(s, stride)))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def window_slices(tap: tuple, out: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Where kernel element `tap` of every window sits: one strided slice per spatial dim."""
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                 for t, o, s, d in zip(tap, out, stride, dilation))


def add_windows(target: Any, values: Any, kernel: tuple, stride: tuple, dilation: tuple) -> None:
    """target (N, C, *spatial) += each window's values (N, C, *kernel, *out), overlaps adding
    up (a pass per kernel element)."""
    out = values.shape[-len(kernel):]
    every = (slice(None), slice(None))
    per_dim = [[slice(t * d, t * d + s * (o - 1) + 1, s) for t in range(k)]  # window_slices
               for k, o, s, d in zip(kernel, out, stride, dilation)]
    for tap, where in zip(itertools.product(*map(range, kernel)), itertools.product(*per_dim)):
        target[every + where] += values[every + tap]


def flat_pads(padding: tuple) -> tuple:
    """(p0, p1, ...) -> (p0, p0, p1, p1, ...), pad_spatial's layout."""
    return tuple(p for p in padding for _ in range(2))


class Im2Col(Op):
    """(N, C, *spatial) -> (N, C*prod(kernel), prod(out)): every window flattened into a column
    (torch's unfold for images; used by the differentiable conv and pool composites)."""

    def forward(self, x: Any, kernel: tuple, dilation: tuple, padding: tuple,
                stride: tuple) -> Any:
        n, c = x.shape[:2]
        self.args = (kernel, dilation, padding, stride)
        self.in_size = x.shape[2:]
        out = tuple(out_size(size, k, s, p, d) for size, k, s, p, d in
                    zip(self.in_size, kernel, stride, padding, dilation))
        cols = windows(pad_spatial(x, flat_pads(padding)), kernel, stride, dilation, out)
        return cols.reshape(n, c * math.prod(kernel), math.prod(out))

    def backward(self, grad: Any) -> tuple:
        return call(Col2Im, grad, self.in_size, *self.args), None, None, None, None


class Col2Im(Op):
    """(N, C*prod(kernel), L) -> (N, C, *size): columns added back onto their windows."""

    def forward(self, cols: Any, size: tuple, kernel: tuple, dilation: tuple, padding: tuple,
                stride: tuple) -> Any:
        xp = module_of(cols)
        self.args = (kernel, dilation, padding, stride)
        n, ckk, _ = cols.shape
        c = ckk // math.prod(kernel)
        out = tuple(out_size(s_, k, s, p, d) for s_, k, s, p, d in
                    zip(size, kernel, stride, padding, dilation))
        padded = xp.zeros((n, c) + tuple(s_ + 2 * p for s_, p in zip(size, padding)),
                          dtype=cols.dtype)
        add_windows(padded, cols.reshape((n, c) + tuple(kernel) + out), kernel, stride,
                    dilation)
        return padded[(slice(None), slice(None)) + tuple(slice(p, p + s_)
                                                         for s_, p in zip(size, padding))]

    def backward(self, grad: Any) -> tuple:
        return call(Im2Col, grad, *self.args), None, None, None, None, None


def _check_args(kernel: tuple, dilation: tuple, padding: tuple, stride: tuple, op: str) -> None:
    if min(kernel) <= 0 or min(dilation) <= 0 or min(stride) <= 0 or min(padding) < 0:
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive and "
                           f"padding non-negative, got kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}")


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Extract sliding windows: (N, C, H, W) -> (N, C * prod(kernel_size), L) (im2col)."""
    k, d, p, s = (pair(kernel_size), pair(dilation), pair(padding), pair(stride))
    _check_args(k, d, p, s, "unfold")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported "
                           f"(got {input.ndim}D)")
    if 0 in input.shape[input.ndim - 3:]:
        raise RuntimeError(f"unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch "
                           f"size and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    for dim, name in ((2, "height"), (3, "width")):
        size = batched.shape[dim]
        if out_size(size, k[dim - 2], s[dim - 2], p[dim - 2], d[dim - 2]) <= 0:
            raise RuntimeError(f"unfold: the input {name} {size} is too small for the kernel: "
                               + size_formula(size, k[dim - 2], s[dim - 2], p[dim - 2],
                                              d[dim - 2]))
    out = Im2Col.apply(batched, k, d, p, s)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns back into an image: (N, C * prod(kernel_size), L) -> (N, C, H, W) (col2im)."""
    size, k, d, p, s = (pair(output_size), pair(kernel_size), pair(dilation), pair(padding),
                        pair(stride))
    _check_args(k, d, p, s, "fold")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: Input Error: Only unbatched (2D) or batched (3D) input "
                           f"Tensors are supported (got {input.ndim}D)")
    if 0 in input.shape[input.ndim - 2:]:
        raise RuntimeError(f"fold: Expected 2D or 3D (batch mode) tensor for input with possibly "
                           f"0 batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    kk = k[0] * k[1]
    blocks = out_size(size[0], k[0], s[0], p[0], d[0]) * out_size(size[1], k[1], s[1], p[1],
                                                                     d[1])
    if batched.shape[1] % kk or batched.shape[2] != blocks:
        raise RuntimeError(
            f"fold: expected input of shape (N, C * {kk}, {blocks}) for output_size={size}, "
            f"kernel_size={k}, got {tuple(input.shape)}")
    out = Col2Im.apply(batched, size, k, d, p, s)
    return out if input.ndim == 3 else out.squeeze(0)


