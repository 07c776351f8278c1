"""LU factorisation with partial pivoting (numpy has none) and what is built on it: lu_factor,
lu_unpack, lu_solve, torch.lu.

The pivots are found on the raw arrays, column by column, every matrix of a batch at once
(LAPACK's getrf order: the largest |value| in the column, |Re| + |Im| for complex values,
first one on ties). When a gradient is wanted, L and U are then rebuilt from the row-permuted
input with differentiable ops (the same eliminations, unpivoted), so gradients of every order
come by composition and agree with torch's analytic ones, real or complex.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, return_types
from ..autograd.grad_mode import state as grad_state
from ..tensor import Tensor


def _check_input(op: str, A: Any) -> None:
    """torch's checks: 2 or more dims, and a dtype its getrf takes (integer, bool and half
    inputs raise NotImplementedError, as torch's dispatch does)."""
    from .decomp import _check_dtype  # noqa: PLC0415

    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{op}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    _check_dtype(op, A, half="lu", integer="lu")


def _dtype_name(t: Tensor) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(t.dtype.name if hasattr(t.dtype, "name") else "", str(t.dtype))


def _factor_arrays(a: Any) -> tuple:
    """(packed LU, 0-based pivot rows (.., k), row permutation (.., m), info (..)) of `a`."""
    xp = backend.module_of(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = a.reshape((math.prod(batch), m, n)).copy()  # (-1, m, n) is ambiguous when empty
    b = lu.shape[0]
    rows = xp.arange(b)
    pivots = xp.zeros((b, k), dtype=xp.int64)
    perm = xp.broadcast_to(xp.arange(m), (b, m)).copy()
    info = xp.zeros(b, dtype=xp.int32)
    for j in range(k):
        p = xp.argmax(_pivot_size(lu[:, j:, j]), axis=1) + j if m > j else xp.full(b, j)
        pivots[:, j] = p
        row_j = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = row_j
        perm_j = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = perm_j
        d = lu[:, j, j]
        zero = d == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(xp.int32)
        safe = xp.where(zero, 1, d)
        lu[:, j + 1:, j] = lu[:, j + 1:, j] / safe[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(batch + (m, n)), pivots.reshape(batch + (k,)),
            perm.reshape(batch + (m,)), info.reshape(batch))


def _pivot_size(column: Any) -> Any:
    """What getrf compares to choose a pivot: |x|, or |Re x| + |Im x| for complex x (BLAS's
    izamax), so that complex pivots come out as torch's."""
    xp = backend.module_of(column)
    if column.dtype.kind == "c":
        return xp.abs(column.real) + xp.abs(column.imag)
    return xp.abs(column)


def _unpivoted_lu(PA: Tensor) -> tuple:
    """L (m x k, unit lower) and U (k x n) of an already pivoted PA, with differentiable ops:
    at each step the pivot row is U's next row, the column below / pivot is L's next column,
    and the Schur complement is what is left to factor."""
    from ..creation import ones, zeros  # noqa: PLC0415
    from .join import cat  # noqa: PLC0415

    m, n = PA.shape[-2:]
    k = min(m, n)
    batch = tuple(PA.shape[:-2])
    opts = {"dtype": PA.dtype, "device": PA.device}
    if k == 0:  # m x 0 and 0 x n: empty slices of PA, so the graph still reaches it
        return PA[..., :, :0], PA[..., :0, :]
    S = PA
    l_cols, u_rows = [], []
    for j in range(k):
        pivot = S[..., 0:1, 0:1]
        denom = pivot + (pivot.detach() == 0).to(PA.dtype)  # a zero pivot has zeros below it
        col = S[..., 1:, 0:1] / denom
        u_rows.append(cat([zeros(batch + (1, j), **opts), S[..., 0:1, :]], -1))
        l_cols.append(cat([zeros(batch + (j, 1), **opts), ones(batch + (1, 1), **opts), col], -2))
        S = S[..., 1:, 1:] - col @ S[..., 0:1, 1:]
    return cat(l_cols, -1), cat(u_rows, -2)


def _perm_matrix(perm: Any, dtype: Any, device: Any) -> Tensor:
    """P with A = P @ (A[perm]): P[perm[i], i] = 1."""
    xp = backend.module_of(perm)
    m = perm.shape[-1]
    eye = xp.eye(m, dtype=dtype)
    P = xp.swapaxes(eye[perm], -1, -2)  # rows of I in perm order, transposed
    return Tensor._make(xp.ascontiguousarray(P))


def _gather_rows(A: Tensor, perm: Any) -> Tensor:
    from .indexing import take_along_dim  # noqa: PLC0415

    xp = backend.module_of(perm)
    index = xp.broadcast_to(perm[..., :, None], tuple(A.shape)).copy()
    return take_along_dim(A, Tensor._make(index), -2)


def _factor(op: str, A: Tensor, pivot: bool) -> tuple:
    """(L, U, pivots as torch gives them (int32, 1-based), perm, info)."""
    _check_input(op, A)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")
    data = A._data
    lu, piv, perm, info = _factor_arrays(data)
    pivots = Tensor._make((piv + 1).astype("int32"))
    if A._requires_grad and grad_state.enabled:
        L, U = _unpivoted_lu(_gather_rows(A, perm))
    else:
        xp = backend.module_of(lu)
        m, n = lu.shape[-2:]
        k = min(m, n)
        L = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
        U = xp.triu(lu[..., :k, :])
        L, U = Tensor._make(L), Tensor._make(U)
    return L, U, pivots, perm, info


def _pack(L: Tensor, U: Tensor) -> Tensor:
    """The m x n matrix holding L's strict lower triangle and U (getrf's layout)."""
    from .pad import pad  # noqa: PLC0415

    m, k = L.shape[-2:]
    n = U.shape[-1]
    low = pad(L.tril(-1), (0, n - k)) if n > k else L.tril(-1)
    up = pad(U, (0, 0, 0, m - k)) if m > k else U
    return low + up


def linalg_lu_fn(A: Tensor, *, pivot: bool = True, out: Any = None) -> return_types.linalg_lu:
    """A = P @ L @ U with P a permutation, L unit lower (m x k), U upper (k x n)."""
    L, U, _, perm, _ = _factor("linalg.lu", A, pivot)
    return return_types.linalg_lu(_perm_matrix(perm, A._data.dtype, A.device), L, U)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False,
                 out: Any = None) -> return_types.linalg_lu_factor_ex:
    """The packed LU, the pivots (1-based, int32) and info (j where U[j-1, j-1] == 0, else 0)."""
    L, U, pivots, _, info = _factor("linalg.lu_factor_ex", A, pivot)
    info_t = Tensor._make(info)
    if check_errors and bool((info > 0).any()):
        j = int(info.reshape(-1)[(info.reshape(-1) > 0).argmax()])
        raise RuntimeError(f"linalg.lu_factor_ex: U[{j},{j}] is zero and using it on lu_solve "
                           f"would result in a division by zero.")
    return return_types.linalg_lu_factor_ex(_pack(L, U), pivots, info_t)


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> return_types.linalg_lu_factor:
    """The packed LU and pivots; RuntimeError when U has a zero on its diagonal."""
    L, U, pivots, _, info = _factor("linalg.lu_factor", A, pivot)
    if bool((info > 0).any()):
        flat = info.reshape(-1)
        first = int(flat[(flat > 0).argmax()])
        where = "" if A.dim() == 2 else f"(Batch element {int((flat > 0).argmax())}): "
        raise RuntimeError(
            f"torch.linalg.lu_factor: {where}U[{first},{first}] is zero and using it on lu_solve "
            "would result in a division by zero. If you still want to perform the "
            "factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return return_types.linalg_lu_factor(_pack(L, U), pivots)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> tuple:
    """torch.lu: (LU, pivots) or (LU, pivots, infos); never raises for a singular matrix."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def _perm_from_pivots(pivots: Any, m: int) -> Any:
    """The row order A[perm] = L @ U from getrf's 1-based sequential row swaps."""
    xp = backend.module_of(pivots)
    batch = pivots.shape[:-1]
    piv = pivots.reshape((math.prod(batch), pivots.shape[-1])).astype("int64") - 1
    b = piv.shape[0]
    rows = xp.arange(b)
    perm = xp.broadcast_to(xp.arange(m), (b, m)).copy()
    for j in range(piv.shape[1]):
        p = piv[:, j]
        if bool(((p < 0) | (p >= m)).any()):
            raise RuntimeError("lu_unpack: pivots out of range: each must be in [1, "
                               f"{m}]")
        perm_j = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = perm_j
    return perm.reshape(batch + (m,))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,  # noqa: N803
              unpack_pivots: bool = True, *, out: Any = None) -> return_types.lu_unpack:
    """P, L, U from lu_factor's packed form (empty tensors for the parts not asked)."""
    from ..creation import empty, eye  # noqa: PLC0415

    if LU_pivots.dtype.name != "int32":
        raise RuntimeError(f"lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           f"torch.int32 dtype. Note: this function is intended to be used with "
                           f"the output produced by torch.linalg.lu_factor (got {LU_pivots.dtype})")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    opts = {"dtype": LU_data.dtype, "device": LU_data.device}
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, **opts)
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty(0, **opts)
    if unpack_pivots:
        perm = _perm_from_pivots(LU_pivots._data, m)
        P = _perm_matrix(perm, LU_data._data.dtype, LU_data.device)
    else:
        P = empty(0, **opts)
    return return_types.lu_unpack(P, L, U)


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
                    adjoint: bool = False, out: Any = None) -> Tensor:
    """X with A X = B (X A = B if not left; A^H in place of A if adjoint), A = P L U given by
    lu_factor: two triangular solves and a row permutation."""
    from .decomp import solve_triangular  # noqa: PLC0415

    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    m = LU.shape[-1]
    if LU.shape[-2] != m:
        raise RuntimeError("linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{LU.shape[-2]} by {m} matrices")
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != m:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({m}x{m} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    P, L, U = lu_unpack(LU, pivots)
    Pt = P.mT
    if left and not adjoint:  # P L U X = B
        Y = solve_triangular(L, Pt @ B, upper=False, unitriangular=True)
        return solve_triangular(U, Y, upper=True)
    if left:  # U^H L^H P^H X = B
        Y = solve_triangular(U.mH, B, upper=False)
        return P @ solve_triangular(L.mH, Y, upper=True, unitriangular=True)
    if not adjoint:  # X P L U = B
        Y = solve_triangular(U, B, upper=True, left=False)
        return solve_triangular(L, Y, upper=False, left=False, unitriangular=True) @ Pt
    # X U^H L^H P^H = B
    Y = solve_triangular(L.mH, B @ P, upper=True, left=False, unitriangular=True)
    return solve_triangular(U.mH, Y, upper=False, left=False)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Any = None) -> Tensor:  # noqa: N803
    """torch.lu_solve(b, LU_data, LU_pivots): linalg.lu_solve(LU_data, LU_pivots, b)."""
    return linalg_lu_solve(LU_data, LU_pivots, b)
