"""`ember.sparse`: products, reductions and softmax over sparse tensors, as torch.sparse.

Sparse tensors themselves (`SparseTensor`, COO and CSR) are built with
`ember.sparse_coo_tensor`, `ember.sparse_csr_tensor` or `dense.to_sparse()`.

>>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2), requires_grad=True)
>>> ember.sparse.mm(s, ember.ones(2, 1)).sum().backward()
>>> s.grad  # sparse, on s's coordinates
"""

from __future__ import annotations

from typing import Any

from ..ops import sparse_coo as _coo
from ..ops import sparse_csr as _csr
from ..ops import sparse_reduce as _reduce
from ..tensor import Tensor
from .tensor import SparseTensor

__all__ = ["SparseTensor", "addmm", "check_sparse_tensor_invariants", "hspmm", "log_softmax",
           "mm", "sampled_addmm", "smm", "softmax", "spdiags", "sum"]


def mm(mat1: Tensor, mat2: Tensor, reduce: str = "sum") -> Tensor:
    """sparse @ dense (dense result); the sparse operand's gradient stays on its coordinates."""
    if reduce != "sum":
        raise NotImplementedError(f"ember.sparse.mm: reduce={reduce!r} is not implemented "
                                  "(only 'sum')")
    return _coo.mm(mat1, mat2, masked_grad=True)


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, beta: float = 1.0,
          alpha: float = 1.0) -> Tensor:
    """beta * mat + alpha * (mat1 @ mat2) with mat1 sparse (gradient on its coordinates)."""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return product + (mat if beta == 1 else mat * beta)


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over `dim` (every dim when None); sparse while a sparse dim remains."""
    return _reduce.sparse_sum(input, dim, dtype)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Softmax over the specified entries along `dim`; missing entries count as -inf."""
    return _reduce.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log of `softmax`, computed stably."""
    return _reduce.softmax(input, dim, dtype, log=True)


def hspmm(mat1: Tensor, mat2: Tensor) -> SparseTensor:
    """sparse @ dense as a hybrid COO tensor: one dense row per row of mat1 with entries."""
    rows = mat1.coalesce()._indices()[0].unique()
    product = mm(mat1, mat2)[rows]
    return _coo.sparse_coo_tensor(rows.unsqueeze(0), product, (mat1.shape[0], mat2.shape[1]),
                                  is_coalesced=True)


def smm(input: Tensor, mat: Tensor) -> SparseTensor:
    """sparse @ dense as a sparse tensor holding every column of the rows of input with
    entries (torch.smm)."""
    hybrid = hspmm(input, mat)
    from ..creation import arange  # noqa: PLC0415
    from ..ops.join import stack  # noqa: PLC0415

    rows = hybrid._indices()[0]
    cols = arange(mat.shape[1], device=mat.device)
    indices = stack([rows.repeat_interleave(mat.shape[1]), cols.repeat(rows.shape[0])])
    return _coo.sparse_coo_tensor(indices, hybrid.values().reshape(-1), tuple(hybrid.shape),
                                  is_coalesced=True)


def spdiags(diagonals: Tensor, offsets: Tensor, shape: Any, layout: Any = None) -> SparseTensor:
    """A sparse matrix of `shape` with row k of `diagonals` on the diagonal `offsets[k]`; as
    scipy's spdiags, the value in column j of that row lands at (j - offsets[k], j).

    >>> ember.sparse.spdiags(ember.tensor([[1., 2., 3.]]), ember.tensor([1]), (2, 3)).to_dense()
    tensor([[0., 2., 0.],
            [0., 0., 3.]])

    Gradients reach `diagonals` (torch has no derivative for spdiags).
    """
    from .. import backend, creation, dtypes  # noqa: PLC0415
    from ..ops.complex import _dtype_name  # noqa: PLC0415

    if not isinstance(offsets, Tensor):
        offsets = creation.tensor(offsets)
    if offsets.dtype is not dtypes.int64:
        raise RuntimeError(f"Offset Tensor must have dtype Long but got "
                           f"{_dtype_name(offsets._data)}")
    if offsets.ndim > 1:
        raise RuntimeError("Offsets must be scalar or vector")
    if diagonals.ndim not in (1, 2):
        raise RuntimeError("Diagonals must be vector or matrix")
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    diag = diagonals.reshape(1, -1) if diagonals.ndim == 1 else diagonals
    offs = [int(o) for o in offsets.reshape(-1).tolist()]
    if diag.shape[0] != len(offs):
        raise RuntimeError(f"Number of diagonals ({diag.shape[0]}) does not match the number of "
                           f"offsets ({len(offs)})")
    if len(set(offs)) != len(offs):
        raise RuntimeError("Offset tensor contains duplicate values")
    rows, cols = (int(n) for n in shape)
    xp = backend.module_of(diag._data)
    which, columns, shifts = [], [], []
    for k, offset in enumerate(offs):  # diagonal k covers columns [start, stop)
        start, stop = max(0, offset), min(cols, rows + offset, diag.shape[1])
        if stop < start:
            raise RuntimeError(f"spdiags: offset {offset} lies outside a matrix of shape "
                               f"({rows}, {cols})")
        columns.append(xp.arange(start, stop, dtype=dtypes.int64.np))
        which.append(xp.full(stop - start, k, dtype=dtypes.int64.np))
        shifts.append(xp.full(stop - start, offset, dtype=dtypes.int64.np))
    column = xp.concatenate(columns)
    values = diag[Tensor._make(xp.concatenate(which)), Tensor._make(column)]
    indices = Tensor._make(xp.stack([column - xp.concatenate(shifts), column]))
    out = _coo.sparse_coo_tensor(indices, values, (rows, cols))
    if layout is None or layout is dtypes.sparse_coo:
        return out
    if layout is dtypes.sparse_csr:
        return out.to_sparse_csr()
    raise NotImplementedError(f"spdiags: layout {layout!r} is not implemented (Ember has "
                              "sparse_coo and sparse_csr)")


sampled_addmm = _csr.sampled_addmm


class check_sparse_tensor_invariants:  # noqa: N801 (torch's name)
    """torch's switch for index checks: Ember always checks a new tensor's indices, so this
    context manager / decorator changes nothing."""

    def __init__(self, enable: bool = True) -> None:
        self.enabled = enable

    @staticmethod
    def is_enabled() -> bool:
        return True

    def __enter__(self) -> check_sparse_tensor_invariants:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, fn: Any) -> Any:
        return fn


sparse_coo_tensor = _coo.sparse_coo_tensor
sparse_csr_tensor = _csr.sparse_csr_tensor
