"""nn.functional.pad: constant, reflect, replicate, circular; negative pads crop (any mode)."""

from __future__ import annotations

import math
import operator
from typing import Any, Sequence

from .. import backend
from ..autograd.node import Op
from ..tensor import Tensor
from ._util import torch_named
from .indexing import scatter_into_zeros


class ConstantPad(Op):
    def name(self) -> str:
        return "ConstantPadNdBackward0"

    def forward(self, x: Any, pads: tuple, value: Any) -> Any:
        # pads: one (before, after) pair per dim of x, negative values crop
        xp = backend.module_of(x)
        self.in_shape = x.shape
        out_shape = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
        if any(n < 0 for n in out_shape):
            raise RuntimeError(f"pad: the input size {tuple(x.shape)} padded by {pads} would "
                               f"give a negative size {out_shape}")
        self.src = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, pads))
        self.dst = tuple(slice(max(a, 0), max(a, 0) + (s.stop - s.start))
                         for (a, _), s in zip(pads, self.src))
        out = xp.full(out_shape, value, dtype=x.dtype)
        out[self.dst] = x[self.src]
        return out

    def backward(self, grad: Any) -> tuple:
        inner = grad[self.dst]
        if all(s.start == 0 and s.stop == n for s, n in zip(self.src, self.in_shape)):
            return inner, None, None
        return scatter_into_zeros(self.in_shape, self.src, inner, False), None, None


def _source_positions(xp: Any, n: int, before: int, after: int, mode: str) -> Any:
    """For each output position along one dim, the input position its value comes from."""
    p = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(p, 0, n - 1)
    if mode == "circular":
        return p % n
    period = 2 * (n - 1)  # reflect: mirror around the edges without repeating them
    q = p % period if period else p * 0
    return xp.where(q < n, q, period - q)


class IndexPad(Op):
    """reflect / replicate / circular: each padded dim is a gather of input positions."""

    def forward(self, x: Any, pads: tuple, mode: str) -> Any:
        xp = backend.module_of(x)
        self.steps = []
        out = x
        for d, (a, b) in enumerate(pads):
            if a == 0 and b == 0:
                continue
            idx = _source_positions(xp, out.shape[d], a, b, mode)
            self.steps.append((d, idx, out.shape))
            out = xp.take(out, idx, axis=d)
        return out

    def backward(self, grad: Any) -> tuple:
        g = grad
        for d, idx, shape in reversed(self.steps):
            g = scatter_into_zeros(shape, (slice(None),) * d + (idx,), g, True)
        return g, None, None


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: Any = None) -> Tensor:
    """Pad the last len(pad)//2 dims: pad = (left, right, top, bottom, ...) from the last dim."""
    pad = _int_tuple(pad)
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2 (got {len(pad)})")
    if len(pad) // 2 > nd:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {nd}")
    pairs = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    pairs = tuple(pairs)
    if mode == "constant":
        value = 0 if value is None else value
        _check_fill(value, input._data.dtype)
        return ConstantPad.apply(input, pairs, value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unknown padding mode '{mode}' (expected constant, "
                                  "reflect, replicate or circular)")
    if value not in (None, 0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if not 1 <= len(pad) // 2 <= 3 or nd not in (len(pad) // 2 + 1, len(pad) // 2 + 2):
        # torch: reflect/replicate/circular pad 1-3 trailing dims of a (batched) input
        raise NotImplementedError(
            f"pad: Padding size {len(pad)} is not supported for {nd}D input tensor with "
            f"mode '{mode}' (supported: 2D or 3D input with padding size 2, 3D or 4D with 4, "
            "4D or 5D with 6)")
    if mode == "circular" and any(min(a, b) < 0 for a, b in pairs):
        # torch crops first, then wraps around what is left
        return _circular_with_crop(input, pairs)
    for d, (a, b) in enumerate(pairs):
        n = input._data.shape[d]
        if mode == "reflect" and (a >= n or b >= n) and (a or b):
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({a}, {b}) at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (a > n or b > n):
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once: padding ({a}, {b}) "
                f"at dimension {d} of input {list(input.shape)}")
        if mode == "replicate" and n == 0 and (a or b):
            raise RuntimeError(f"pad: cannot replicate-pad an empty dimension {d}")
        if n + a + b < 0:
            raise RuntimeError(f"pad: {mode} padding ({a}, {b}) at dimension {d} of input "
                               f"{list(input.shape)} gives a negative size {n + a + b}")
    # negative padding crops; as in torch, some padded dim must keep at least one element
    padded = pairs[nd - len(pad) // 2:]
    sizes = [n + a + b for n, (a, b) in zip(input._data.shape[nd - len(padded):], padded)]
    if padded and all(s < 1 for s in sizes):
        raise RuntimeError(f"pad: input {list(input.shape)} is too small for {mode} padding "
                           f"{pad}: calculated output sizes {sizes}")
    out = IndexPad.apply(input, pairs, mode)
    if mode == "circular":  # torch pads circularly in Python, ending in a CopySlices node
        return out
    kind = "Reflection" if mode == "reflect" else "Replication"
    return torch_named(out, f"{kind}Pad{len(pad) // 2}D")  # torch's node per padded dims


def _check_fill(value: Any, dtype: Any) -> None:
    """torch refuses a finite fill value that overflows the tensor's dtype (numpy would give
    inf, or raise OverflowError for integers)."""
    if value == 0 or dtype.kind == "b" or not isinstance(value, (int, float)) or \
            isinstance(value, bool):
        return
    from .. import dtypes  # noqa: PLC0415

    kind = dtypes.of_array(backend.numpy.empty(0, dtype))
    if kind.itemsize >= 8 or kind.is_complex or not math.isfinite(value):
        return
    info = dtypes.finfo(kind) if kind.is_floating_point else dtypes.iinfo(kind)
    ok = info.min <= value <= info.max  # as torch: no rounding into range
    if not ok:
        raise RuntimeError(f"pad: value {value} cannot be converted to type {dtype} without "
                           "overflow")


def _int_tuple(pad: Any) -> tuple:
    """torch's check of `pad`: a tuple or list of ints (not floats, bools, or a tensor)."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' must be tuple of ints, not "
                        f"{type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not hasattr(p, "__index__"):
            raise TypeError(f"pad(): argument 'pad' must be tuple of ints, but found element "
                            f"of type {type(p).__name__} at pos {i}")
    return tuple(operator.index(p) for p in pad)


def _circular_with_crop(input: Tensor, pairs: tuple) -> Tensor:
    """Circular padding with some negative pads: crop by those, then wrap the positive ones."""
    crops = tuple((min(a, 0), min(b, 0)) for a, b in pairs)
    for d, ((a, b), n) in enumerate(zip(pairs, input._data.shape)):
        if n + a + b < 0:
            raise RuntimeError(f"pad: Negative padding value is resulting in an empty dimension: "
                               f"padding ({a}, {b}) at dimension {d} of input "
                               f"{list(input.shape)}")
    cropped = ConstantPad.apply(input, crops, 0)
    wraps = tuple((max(a, 0), max(b, 0)) for a, b in pairs)
    for d, ((a, b), n) in enumerate(zip(wraps, cropped._data.shape)):
        if a > n or b > n:
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once: padding "
                f"{pairs[d]} at dimension {d} of input {list(input.shape)} leaves {n} "
                f"element(s) to wrap around after cropping")
    if all(a == 0 and b == 0 for a, b in wraps):
        return cropped
    return IndexPad.apply(cropped, wraps, "circular")
