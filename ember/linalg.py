"""ember.linalg: vector and matrix norms, and matrix products under their linalg names."""

from __future__ import annotations

from typing import Any

from .ops.linalg import matmul, tensordot  # noqa: F401 (torch.linalg re-exports these)
from .ops.reduce import norm as _norm
from .tensor import Tensor


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all elements by default)."""
    return _norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The Frobenius norm of the matrices in the last two dims ('fro' only)."""
    if ord != "fro":
        raise ValueError(f"linalg.matrix_norm: Ember computes ord='fro' only (got {ord!r})")
    return _norm(A, 2, dim, keepdim, dtype)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Vector norm of the flattened input (ord=None), a given vector ord, or 'fro'."""
    if ord is None or ord == "fro":
        return _norm(A, 2, dim, keepdim, dtype)
    if isinstance(dim, (tuple, list)) and len(dim) == 2:
        raise ValueError("linalg.norm: matrix norms other than 'fro' are not supported")
    return _norm(A, ord, dim, keepdim, dtype)
