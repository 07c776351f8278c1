"""Memory formats: `ember.contiguous_format`, `channels_last`, `channels_last_3d`, `preserve_format`.

A tensor's logical shape stays (N, C, H, W); its memory can be laid out N, H, W, C
("channels last", torch.channels_last), which is a numpy array with permuted strides. Ember
honours the layout where a user asks for it (`x.contiguous(memory_format=...)`, `clone`, `to`,
`Module.to`, `empty`, `*_like`, `is_contiguous(memory_format=...)`); its kernels accept any
strides and produce their own layout (torch's conv propagates channels-last; Ember's returns
NCHW), so the format changes memory, never values.
"""

from __future__ import annotations

from typing import Any

from . import backend
from .autograd.node import Op


class memory_format:  # noqa: N801 (torch.memory_format)
    """A named memory layout; compare with `is`."""

    __slots__ = ("name", "order")

    def __init__(self, name: str, order: tuple | None) -> None:
        self.name = name
        self.order = order  # physical dim order, outermost first (None: not a fixed order)

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name


contiguous_format = memory_format("contiguous_format", None)
preserve_format = memory_format("preserve_format", None)
channels_last = memory_format("channels_last", (0, 2, 3, 1))
channels_last_3d = memory_format("channels_last_3d", (0, 2, 3, 4, 1))

_RANKS = {"channels_last": 4, "channels_last_3d": 5}


def check(fmt: Any, ndim: int, op: str) -> memory_format:
    """The format, after checking it is one and fits a tensor of `ndim` dims."""
    if fmt is None:
        return preserve_format
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): memory_format must be ember.memory_format (e.g. "
                        f"ember.channels_last), got {type(fmt).__name__}")
    rank = _RANKS.get(fmt.name)
    if rank is not None and ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format "
                           f"({op}() got a {ndim}-d tensor)")
    return fmt


def _strides_in_order(shape: tuple, order: tuple) -> list:
    """Element strides of a dense tensor whose dims are laid out in `order`."""
    strides = [0] * len(shape)
    step = 1
    for d in reversed(order):
        strides[d] = step
        step *= max(shape[d], 1)
    return strides


def is_laid_out(array: Any, fmt: memory_format) -> bool:
    """Dense in `fmt`'s order; dims of size 1 may have any stride, as in torch."""
    if fmt.order is None:
        return bool(array.flags.c_contiguous)
    if array.ndim != len(fmt.order):
        return False
    want = _strides_in_order(array.shape, fmt.order)
    got = [s // array.itemsize for s in array.strides]
    return all(n == 1 or w == g for n, w, g in zip(array.shape, want, got))


def suggest(array: Any) -> memory_format:
    """The format preserve_format keeps: channels-last stays channels-last, else contiguous."""
    for fmt in (channels_last, channels_last_3d):
        if array.ndim == len(fmt.order) and is_laid_out(array, fmt) \
                and not array.flags.c_contiguous:
            return fmt
    return contiguous_format


def lay_out(array: Any, fmt: memory_format) -> Any:
    """A copy of `array` in `fmt` (logical shape unchanged)."""
    xp = backend.module_of(array)
    if fmt.order is None:  # a copy even when already contiguous: clone() relies on it
        return xp.array(array, order="C", copy=True)
    # a fresh copy: its strides are canonical even for size-1 dims, as torch reports them
    physical = xp.array(array.transpose(fmt.order), order="C", copy=True)
    inverse = [fmt.order.index(d) for d in range(array.ndim)]
    return physical.transpose(inverse)


class ToMemoryFormat(Op):
    """Copy into another layout; values (and so gradients) are unchanged."""

    def forward(self, x: Any, fmt: memory_format) -> Any:
        return lay_out(x, fmt)

    def backward(self, grad: Any) -> Any:
        return grad
