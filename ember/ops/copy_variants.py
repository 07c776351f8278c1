"""torch's `*_copy` functions: each view op's result as a fresh contiguous tensor that shares
no memory with its input (torch.func and export use them where aliasing is not allowed).

    diagonal_copy(x) == x.diagonal().clone(memory_format=contiguous_format)

The gradient is the view op's own, through the copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import memory_layout
from ..tensor import Tensor


def _fresh(view: Tensor) -> Tensor:
    return view.clone(memory_format=memory_layout.contiguous_format)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims, as a view (torch.adjoint is x.mH)."""
    return input.adjoint()


def alias_copy(input: Tensor) -> Tensor:
    return _fresh(input)


def detach_copy(input: Tensor) -> Tensor:
    """A copy cut from the graph (torch's result claims to require grad but cannot backward)."""
    return _fresh(input.detach())


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return _fresh(input.diagonal(offset, dim1, dim2))


def expand_copy(input: Tensor, size: Sequence[int], *, implicit: bool = False) -> Tensor:
    return _fresh(input.expand(*size))


def permute_copy(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _fresh(input.permute(*dims))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    return _fresh(input.select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
               step: int = 1) -> Tensor:
    key = (slice(None),) * (dim % max(input.ndim, 1)) + (slice(start, end, step),)
    return _fresh(input[key])


def split_copy(input: Tensor, split_size: Any, dim: int = 0) -> tuple:
    return tuple(_fresh(piece) for piece in input.split(split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return tuple(_fresh(piece) for piece in input.split_with_sizes(split_sizes, dim))


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:
    return _fresh(input.squeeze() if dim is None else input.squeeze(dim))


def t_copy(input: Tensor) -> Tensor:
    return _fresh(input.t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _fresh(input.transpose(dim0, dim1))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:
    return tuple(_fresh(piece) for piece in input.unbind(dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    return _fresh(input.unfold(dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    return _fresh(input.unsqueeze(dim))


def view_copy(input: Tensor, *shape: Any) -> Tensor:
    """view_copy(x, size) or view_copy(x, dtype), as Tensor.view."""
    return _fresh(input.view(*shape))


def view_as_real_copy(input: Tensor) -> Tensor:
    from .complex import view_as_real  # noqa: PLC0415

    return _fresh(view_as_real(input))


def view_as_complex_copy(input: Tensor) -> Tensor:
    from .complex import view_as_complex  # noqa: PLC0415

    return _fresh(view_as_complex(input))


def values_copy(input: Tensor) -> Tensor:
    """The stored values of a sparse tensor, as a fresh dense tensor."""
    return _fresh(input.values())


def indices_copy(input: Tensor) -> Tensor:
    return _fresh(input.indices())


def crow_indices_copy(input: Tensor) -> Tensor:
    return _fresh(input.crow_indices())


def col_indices_copy(input: Tensor) -> Tensor:
    return _fresh(input.col_indices())
