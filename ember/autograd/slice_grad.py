"""A gradient that is zero except on one slice: what the backward of `x[a:b]` produces.

Written out, it is a zeros array of x's shape with the slice's gradient in it. When several
slices of one tensor each send their gradient back (`qkv.split(C, dim=2)` in every attention
layer, an LSTM's `gates.chunk(4, 1)`), the engine would make one full-size zeros array per
slice and then add them all together. Kept as (key, values) pieces instead, the slices of one
tensor join without arithmetic and are written out once: into an empty array when they tile
it (as torch's SplitBackward concatenates), else into zeros; and a piece meeting an ordinary
gradient is added into it where it lands (GPT's split fwd + bwd 0.41 -> 0.15 ms).

Only the engine sees these: it writes one out (`materialize`) before anything else can look
at it (a node's backward, hooks, `.grad`, `autograd.grad`'s results).
"""

from __future__ import annotations

from typing import Any

from .. import backend


class SliceGrad:
    """zeros(shape) plus each piece's `values` at its basic-indexing `key` (a key repeats no
    position; two pieces may overlap, and then add)."""

    __slots__ = ("shape", "pieces")

    def __init__(self, shape: tuple, key: tuple, values: Any) -> None:
        self.shape, self.pieces = shape, [(key, values)]

    @property
    def dtype(self) -> Any:
        return self.pieces[0][1].dtype

    def merge(self, other: SliceGrad) -> bool:
        """Take other's pieces in (no arithmetic yet), if it is a gradient of the same array."""
        if other.shape != self.shape or other.dtype != self.dtype:
            return False
        self.pieces += other.pieces
        return True

    def add_to(self, out: Any) -> Any:
        """out[key] += values for every piece (out: an array of `shape`, changed in place)."""
        for key, values in self.pieces:
            out[key] += values
        return out

    def materialize(self) -> Any:
        """The whole array: written piece by piece when the pieces tile it (split, chunk: no
        zeros and no additions, like torch's SplitBackward's cat), else zeros plus pieces."""
        xp = backend.module_of(self.pieces[0][1])
        if _tile(self.pieces, self.shape):
            out = xp.empty(self.shape, self.dtype)
            for key, values in self.pieces:
                out[key] = values
            return out
        out = xp.zeros(self.shape, self.dtype)
        first_key, first_values = self.pieces[0]
        out[first_key] = first_values
        for key, values in self.pieces[1:]:
            out[key] += values
        return out


def _tile(pieces: list, shape: tuple) -> bool:
    """Whether the keys are step-1 slices of one dim (every earlier dim whole, no later dim
    named) that cover it exactly once."""
    if len(pieces) < 2:
        return False
    dim, spans = None, []
    for key, _ in pieces:
        if not key or any(k != _WHOLE for k in key[:-1]) or key[-1].__class__ is not slice:
            return False
        if dim is None:
            dim = len(key) - 1
        elif len(key) - 1 != dim:
            return False
        start, stop, step = key[-1].indices(shape[dim])
        if step != 1:
            return False
        spans.append((start, stop))
    spans.sort()
    end = 0
    for start, stop in spans:
        if start != end:
            return False
        end = stop
    return end == shape[dim]


_WHOLE = slice(None)


def materialized(g: Any) -> Any:
    """g itself, or the array a SliceGrad stands for."""
    return g.materialize() if g.__class__ is SliceGrad else g
