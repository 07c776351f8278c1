"""ember.linalg: norms, matrix functions and decompositions under torch.linalg's names."""

from __future__ import annotations

import math
from typing import Any

from . import return_types
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
from .ops.eig import eig, eigvals  # noqa: F401
from .ops.linalg import matmul, tensordot  # noqa: F401 (torch.linalg re-exports these)
from .ops.lu import linalg_lu_fn as lu  # noqa: F401
from .ops.lu import linalg_lu_solve as lu_solve  # noqa: F401
from .ops.lu import lu_factor, lu_factor_ex  # noqa: F401
from .ops.matfun import householder_product, matrix_exp  # noqa: F401
from .ops.pointwise import cross as _cross
from .ops.reduce import norm as _norm
from .tensor import Tensor


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over `dim` (all elements by default)."""
    op = "linalg.vector_norm"
    _check_norm_input(op, x, dtype)
    if isinstance(ord, str):
        raise TypeError(f"{op}(): argument 'ord' (position 2) must be Number, not str")
    if ord < 0 or ord == math.inf:  # min and max of nothing: no identity
        dims = range(x.dim()) if dim is None else [dim] if isinstance(dim, int) else dim
        if x.numel() == 0 and (x.dim() == 0 or any(x.shape[d] == 0 for d in dims)):
            raise RuntimeError(f"{op} cannot compute the {ord} norm on an empty tensor because "
                               "the operation does not have an identity")
    return _norm(x, ord, dim, keepdim, dtype)


def _check_norm_input(op: str, x: Tensor, dtype: Any) -> None:
    """torch's checks: a floating or complex input, and a `dtype` it converts to without
    narrowing (complex only for complex input)."""
    from . import dtypes  # noqa: PLC0415

    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        from .ops.decomp import _torch_dtype_name  # noqa: PLC0415

        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_dtype_name(x._data)}")
    if dtype is None:
        return
    dtype = dtypes.to_dtype(dtype)
    if dtype.is_complex and not x.dtype.is_complex:
        raise RuntimeError(f"{op}: dtype should be real for real inputs, but got {dtype}")
    if dtypes.promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(f"{op}: the dtype of the input ({x.dtype}) should be convertible "
                           f"without narrowing to the specified dtype ({dtype})")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """A vector norm, or a matrix norm when `dim` names two dims (or A is 2-D and ord is set)."""
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {dims}")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.dim()}D.")
    matrix = len(dims) == 2 if dim is not None else A.dim() == 2
    if matrix or isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim`, broadcasting the other dims."""
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"linalg.cross: expected scalar type {_scalar_name(input)} but found "
                           f"{_scalar_name(other)}")
    return _cross(input, other, dim)


def _scalar_name(t: Tensor) -> str:
    from .ops.decomp import _torch_dtype_name  # noqa: PLC0415

    return _torch_dtype_name(t._data)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """(inverse, info): info is 0 for an invertible matrix, else the (1-based) position of the
    first zero pivot of its LU factorisation (LAPACK's getrf); the inverse of such a matrix is
    NaN (torch leaves what getri gives). Raises only with check_errors."""
    from .creation import zeros  # noqa: PLC0415
    from .ops.decomp import _square  # noqa: PLC0415

    _square("linalg.inv_ex", A, half="low")
    try:
        return return_types.linalg_inv_ex(inv(A), zeros(A.shape[:-2], dtype=_int32(),
                                                        device=A.device))
    except LinAlgError:
        if check_errors:
            raise
    info = _lu_info(A)
    singular = (info > 0)[..., None, None]
    eye = eye_like(A)
    inverse = inv(A.masked_fill(singular, 0) + eye * singular).masked_fill(singular, math.nan)
    return return_types.linalg_inv_ex(inverse, info)


def _lu_info(A: Tensor) -> Tensor:
    """getrf's info for each matrix: the 1-based column of the first zero pivot, else 0."""
    from .ops.lu import _factor_arrays  # noqa: PLC0415

    return Tensor._make(_factor_arrays(A.detach()._data)[3])


def eye_like(A: Tensor) -> Tensor:
    from .creation import eye  # noqa: PLC0415

    return eye(A.shape[-1], dtype=A.dtype, device=A.device)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    """(L, info): info is 0 where A is positive definite, else the order of its first leading
    minor that is not (LAPACK's convention); L is then zeros. Raises only with check_errors."""
    from .creation import zeros  # noqa: PLC0415
    from .ops.decomp import _square  # noqa: PLC0415

    _square("linalg.cholesky_ex", A, half="cholesky")
    try:
        return return_types.linalg_cholesky_ex(cholesky(A, upper=upper),
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
    return return_types.linalg_cholesky_ex(L, info)


def _positive_definite(A: Tensor) -> bool:
    try:
        cholesky(A)
        return True
    except RuntimeError:
        return False


def _int32() -> Any:
    from . import dtypes  # noqa: PLC0415

    return dtypes.int32


from .ops.decomp import LinAlgError  # noqa: E402,F401


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of each matrix (torch.diagonal with the matrix dims last by default)."""
    return A.diagonal(offset, dim1, dim2)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Columns x^0, x^1, ..., x^(N-1) (increasing powers, unlike torch.vander), as a running
    product (torch's way: integer inputs give int64)."""
    from .creation import ones_like  # noqa: PLC0415
    from .ops.decomp import _LOW_PRECISION, _torch_dtype_name  # noqa: PLC0415
    from .ops.join import cat  # noqa: PLC0415

    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    if x.dtype.name == "bool" or x.dtype.name in _LOW_PRECISION:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {_torch_dtype_name(x._data)}")
    n = x.shape[-1] if N is None else N
    if n < 2:
        raise RuntimeError(f"N must be greater than 1. (got {n})")
    column = x.unsqueeze(-1)
    return cat([ones_like(column), column.expand(*x.shape, n - 1)], -1).cumprod(-1)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> tuple:
    """(X, info) of solve. For a singular A, info is the 1-based position of the first zero
    pivot of its LU factorisation (LAPACK's getrf, as torch) and X the least-squares solution;
    raises only with check_errors."""
    from .creation import zeros  # noqa: PLC0415

    try:
        X = solve(A, B, left=left)
        return return_types.linalg_solve_ex(X, zeros(A.shape[:-2], dtype=_int32(),
                                                      device=A.device))
    except RuntimeError:
        if check_errors:
            raise
    info = _lu_info(A)
    P = pinv(A)
    if not left:
        return return_types.linalg_solve_ex(B @ P, info)
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    X = (P @ B.unsqueeze(-1)).squeeze(-1) if vector else P @ B
    return return_types.linalg_solve_ex(X, info)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse under tensordot: A reshaped to a square matrix over its first `ind` dims."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    import math  # noqa: PLC0415

    rows, cols = A.shape[:ind], A.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != "
                           f"{math.prod(rows)}")
    return inv(A.reshape(math.prod(rows), -1)).reshape(*cols, *rows)


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B."""
    import math  # noqa: PLC0415

    if dims is not None:
        order = [d for d in range(A.ndim) if d not in [d % A.ndim for d in dims]]
        A = A.permute(*order, *[d % A.ndim for d in dims])
    x_shape = A.shape[B.ndim:]
    return solve(A.reshape(B.numel(), math.prod(x_shape)), B.reshape(-1)).reshape(x_shape)
