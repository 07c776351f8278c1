"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad, in 1-D,
2-D and 3-D. Each holds torch's `padding` tuple (left, right[, top, bottom[, front, back]]),
last dim first as F.pad takes it, and calls F.pad with its mode.

    >>> nn.ReflectionPad2d((1, 1, 2, 0))(ember.zeros(1, 3, 4, 4)).shape
    ember.Size([1, 3, 6, 6])
"""

from __future__ import annotations

from typing import Any

from ...ops._util import shape_str
from ...ops.pad import pad
from ...tensor import Tensor
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _padding_tuple(padding: Any, spatial: int) -> tuple:
    """An int pads every side; otherwise 2 values per padded dim, last dim first."""
    if isinstance(padding, int):
        return (padding,) * (2 * spatial)
    return tuple(int(p) for p in padding)  # torch checks the length only in forward (F.pad)


class _PadNd(Module):
    _spatial = 2
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _padding_tuple(padding, self._spatial)

    def forward(self, input: Tensor) -> Tensor:
        n = self._spatial
        if input.ndim not in (n + 1, n + 2):  # torch: ValueError for circular padding
            error = ValueError if self._mode == "circular" else NotImplementedError
            raise error(f"{type(self).__name__}: expected a {n + 1}D or {n + 2}D input, got "
                        f"input of shape ({shape_str(input.shape)})")
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`: padding (left, right) or an int."""

    _spatial = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with `value`: padding (left, right, top, bottom) or an int."""


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with `value`: (left, right, top, bottom, front, back) or an int."""

    _spatial = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros: padding (left, right) or an int."""

    _spatial = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros: padding (left, right, top, bottom) or an int."""


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros: (left, right, top, bottom, front, back) or an int."""

    _spatial = 3


class ReflectionPad1d(_PadNd):
    """Mirror the input at its edges (the edge itself not repeated) along the last dim."""

    _spatial, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the input at its edges (the edge itself not repeated) along the last 2 dims."""

    _mode = "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the input at its edges (the edge itself not repeated) along the last 3 dims."""

    _spatial, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge values along the last dim."""

    _spatial, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge values along the last 2 dims."""

    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge values along the last 3 dims."""

    _spatial, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap around: the left padding comes from the right end and vice versa (last dim)."""

    _spatial, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap around periodically along the last 2 dims."""

    _mode = "circular"


class CircularPad3d(_PadNd):
    """Wrap around periodically along the last 3 dims."""

    _spatial, _mode = 3, "circular"
