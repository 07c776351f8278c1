"""`ember.Size`: the tuple subclass that `Tensor.shape` returns."""

from __future__ import annotations

from typing import Any


class Size(tuple):
    """A tensor's shape: a tuple of ints with torch's repr and `numel()`."""

    def __new__(cls, sizes: Any = ()) -> Size:
        return super().__new__(cls, (_as_int(s) for s in sizes))

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"ember.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))


def _as_int(s: Any) -> int:
    if isinstance(s, float) or not hasattr(s, "__index__"):
        raise TypeError(f"ember.Size() takes an iterable of 'int' (item is "
                        f"'{type(s).__name__}')")
    return int(s)
