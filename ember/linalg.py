"""ember.linalg: norms, matrix functions and decompositions under torch.linalg's names."""

from __future__ import annotations

from typing import Any

from .ops.decomp import (  # noqa: F401 (torch.linalg's names)
    cholesky,
    cond,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
    vecdot,
)
from .ops.linalg import matmul, tensordot  # noqa: F401 (torch.linalg re-exports these)
from .ops.matfun import householder_product, matrix_exp  # noqa: F401
from .ops.lu import linalg_lu_fn as lu  # noqa: F401
from .ops.lu import linalg_lu_solve as lu_solve  # noqa: F401
from .ops.lu import lu_factor, lu_factor_ex  # noqa: F401
from .ops.pointwise import cross as _cross
from .ops.reduce import norm as _norm
from .tensor import Tensor


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all elements by default)."""
    return _norm(x, ord, dim, keepdim, dtype)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """A vector norm, or a matrix norm when `dim` names two dims (or A is 2-D and ord is set)."""
    if ord is None:
        return _norm(A, 2, dim, keepdim, dtype)
    matrix = (isinstance(dim, (tuple, list)) and len(dim) == 2) or (dim is None and A.dim() == 2)
    if isinstance(ord, str) or matrix:
        if dim is None and A.dim() != 2:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.dim()}D.")
        return matrix_norm(A, ord, tuple(dim) if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    return _norm(A, ord, dim, keepdim, dtype)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    return _cross(input, other, dim)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> tuple:
    from .creation import zeros  # noqa: PLC0415

    return inv(A), zeros(A.shape[:-2], dtype=_int32())


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    """(L, info): info is 0 where A is positive definite, else the order of its first leading
    minor that is not (LAPACK's convention); L is then zeros. Raises only with check_errors."""
    from . import return_types  # noqa: PLC0415
    from .creation import zeros  # noqa: PLC0415

    try:
        return return_types.cholesky_ex(cholesky(A, upper=upper),
                                        zeros(A.shape[:-2], dtype=_int32(), device=A.device))
    except RuntimeError:
        if check_errors:
            raise
    info = zeros(A.shape[:-2], dtype=_int32(), device=A.device)
    L = zeros(A.shape, dtype=A.dtype, device=A.device)
    n = A.shape[-1]
    flat_A, flat_L, flat_info = A.reshape(-1, n, n), L.view(-1, n, n), info.view(-1)
    for i in range(flat_A.shape[0]):
        try:
            flat_L[i] = cholesky(flat_A[i], upper=upper)
        except RuntimeError:
            flat_info[i] = next(k for k in range(1, n + 1)
                                if not _positive_definite(flat_A[i, :k, :k]))
    return return_types.cholesky_ex(L, info)


def _positive_definite(A: Tensor) -> bool:
    try:
        cholesky(A)
        return True
    except RuntimeError:
        return False


def _int32() -> Any:
    from . import dtypes  # noqa: PLC0415

    return dtypes.int32
