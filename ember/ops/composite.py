"""torch functions that are compositions of Ember's differentiable ops (no backward of their
own): the scatter-into-a-copy family, the numpy-style splits, sum_to_size, Cholesky solves,
addbmm, diagflat and a few predicates."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from ._util import torch_named, wrap_dim


def _embed(input: Tensor, src: Tensor, key: tuple, what: str) -> Tensor:
    """A copy of input with src written at input[key]; differentiable in both."""
    target_shape = input[key].shape
    if tuple(src.shape) != tuple(target_shape):
        raise RuntimeError(f"{what}: expected src to have a size equal to the slice of self. "
                           f"src size = {list(src.shape)}, slice size = {list(target_shape)}")
    out = input.clone()
    out[key] = src
    return out


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    dim = wrap_dim(dim, input.ndim, "select_scatter")
    return _embed(input, src, (slice(None),) * dim + (index,), "select_scatter")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    dim = wrap_dim(dim, input.ndim, "slice_scatter")
    return _embed(input, src, (slice(None),) * dim + (slice(start, end, step),),
                  "slice_scatter")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of input whose diagonal (as `input.diagonal(offset, dim1, dim2)`) is src."""
    target = input.diagonal(offset, dim1, dim2)
    if tuple(src.shape) != tuple(target.shape):
        raise RuntimeError(f"diagonal_scatter: expected src to have a size equal to the "
                           f"diagonal of self. src size = {list(src.shape)}, diagonal size = "
                           f"{list(target.shape)}")
    out = input.clone()
    out.diagonal(offset, dim1, dim2).copy_(src)
    return out


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on the `offset` diagonal of a square matrix."""
    from .layout import diag_embed  # noqa: PLC0415

    return diag_embed(input.reshape(-1), offset)


def _split_along(input: Tensor, sections: Any, dim: int, name: str, min_dims: int) -> tuple:
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return input.tensor_split(sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _split_along(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _split_along(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _split_along(input, indices_or_sections, 2, "dsplit", 3)


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    sizes = [int(s) for s in split_sizes]
    dim = wrap_dim(dim, input.ndim, "split_with_sizes")
    if sum(sizes) != input.shape[dim] or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[dim]} (input tensor's size at dimension {dim}), but "
                           f"got split_sizes={sizes}")
    return input.split(sizes, dim)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """Sum input down to `size` (which input must broadcast from), as a gradient is reduced."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple)) else size
    shape = tuple(int(s) for s in shape)
    lead = input.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != input.shape[lead + i] for i, s in enumerate(shape)):
        raise RuntimeError(f"size {{{', '.join(map(str, shape))}}} is not expandable to size "
                           f"{{{', '.join(map(str, input.shape))}}}.")
    out = input.sum(tuple(range(lead))) if lead else input
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and out.shape[i] != 1)
    return out.sum(dims, keepdim=True) if dims else out


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return torch_named(input.narrow(dim, start, length).clone(), "NarrowCopy")


def is_nonzero(input: Tensor) -> bool:
    if input.numel() != 1:
        if input.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise IndexError(f"addbmm: batch1 and batch2 must be 3-D tensors (batch, n, m), got "
                         f"{batch1.ndim}-D and {batch2.ndim}-D")  # torch: IndexError too
    products = (batch1 @ batch2).sum(0)
    scaled = products if alpha == 1 else products * alpha
    if beta == 0:  # input is ignored, NaNs included, as torch
        return torch_named(scaled, "Addbmm")
    return torch_named((input if beta == 1 else input * beta) + scaled, "Addbmm")


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B, given A's Cholesky factor (lower L with A = L L^H, or upper U with
    A = U^H U when upper=True)."""
    from .decomp import _square, solve_triangular  # noqa: PLC0415

    _square("cholesky_solve", L)
    if upper:
        y = solve_triangular(L.mH, B, upper=False)
        return solve_triangular(L, y, upper=True)
    y = solve_triangular(L, B, upper=False)
    return solve_triangular(L.mH, y, upper=True)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """A^-1 from A's Cholesky factor."""
    from ..creation import eye  # noqa: PLC0415
    from .decomp import _square  # noqa: PLC0415

    _square("cholesky_inverse", L)

    n = L.shape[-1]
    identity = eye(n, dtype=L.dtype, device=L.device).expand(*L.shape[:-2], n, n)
    return cholesky_solve(identity, L, upper)


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    from .. import special  # noqa: PLC0415

    return special.i0(input, out=out)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> tuple:
    return b.triangular_solve(A, upper, transpose, unitriangular)
