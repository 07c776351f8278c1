"""Sparse CSR matrices: construction, conversion to and from COO and dense, and their gradients.

A CSR matrix is a `CSR` payload (storage.py). Products and to_dense reuse the COO ops
(`SparseMM` and `ToDense` accept CSR), so gradients reaching a CSR tensor are COO payloads on
its coordinates, which `SparseCsrTensor` reads back into the values' gradient.
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd.node import Op
from ..sparse.storage import COO, CSR
from ..sparse.tensor import SparseTensor, sparse_apply
from ..tensor import Tensor
from ._util import shape_str
from .sparse_coo import dense_of, grad_at, raw


def _coordinates(x: CSR) -> Any:
    return backend.module_of(x.values).stack([x.row_indices(), x.col_indices])


class SparseCsrTensor(Op):
    """values -> CSR matrix; the values' gradient is the gradient read at their coordinates."""

    def forward(self, values: Any, crow: Any, col: Any, shape: tuple) -> CSR:
        out = CSR(crow, col, values, shape)
        self.coords = _coordinates(out)
        return out

    def backward(self, grad: Any) -> tuple:
        return grad_at(raw(grad, "sparse_csr_tensor"), self.coords), None, None, None


class CsrValues(Op):
    """A CSR matrix's entries; their gradient is a (coalesced) COO on its coordinates."""

    def forward(self, x: CSR) -> Any:
        self.pattern = COO(_coordinates(x), x.values, x.shape, True)
        return x.values

    def backward(self, grad: Any) -> COO:
        return self.pattern.like(raw(grad, "values"), coalesced=True)


class ToSparseCsr(Op):
    """COO or dense -> CSR (coalesced, so rows come sorted); the gradient passes back."""

    def forward(self, x: Any, from_dense: bool) -> CSR:
        self.from_dense = from_dense
        xp = backend.module_of(x.values if isinstance(x, COO) else x)
        if from_dense:
            rows, cols = xp.nonzero(x)
            values = x[rows, cols]
        else:
            c = x.coalesce()
            rows, cols, values = c.indices[0], c.indices[1], c.values
        counts = xp.bincount(rows, minlength=x.shape[0]) if rows.size else xp.zeros(
            x.shape[0], dtype=dtypes.int64.np)
        crow = xp.concatenate([xp.zeros(1, dtype=dtypes.int64.np),
                               xp.cumsum(counts).astype(dtypes.int64.np)])
        return CSR(crow, cols.astype(dtypes.int64.np), values, x.shape)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "to_sparse_csr")
        return (dense_of(g) if self.from_dense else g), None


class CsrToCoo(Op):
    """CSR -> COO (the same entries): the identity for the gradient."""

    def forward(self, x: CSR) -> COO:
        return x.to_coo()

    def backward(self, grad: Any) -> Any:
        return raw(grad, "to_sparse")


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *,
                      dtype: Any = None, device: Any = None, pin_memory: bool = False,
                      requires_grad: bool = False,
                      check_invariants: bool | None = None) -> SparseTensor:
    """A CSR matrix: row r holds `values[crow[r]:crow[r+1]]` at columns `col_indices[...]`.

    >>> ember.sparse_csr_tensor([0, 1, 2], [1, 0], [5.0, 6.0], (2, 2)).to_dense()
    tensor([[0., 5.],
            [6., 0.]])
    """
    from .. import creation  # noqa: PLC0415

    dev = None if device is None else backend.as_device(device)

    def index(x: Any) -> Any:
        t = x if isinstance(x, Tensor) else creation.tensor(x, dtype=dtypes.int64)
        data = t._data.astype(dtypes.int64.np, copy=False)
        return data if dev is None else backend.to_device(data, dev)

    crow, col = index(crow_indices), index(col_indices)
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype, device=dev)
    if dtype is not None or dev is not None:
        values = values.to(device=dev, dtype=dtype)
    if crow.ndim != 1 or col.ndim != 1 or values.ndim != 1:
        raise RuntimeError("sparse_csr_tensor: Ember supports 2-D CSR matrices (1-D "
                           "crow_indices, col_indices and values) only")
    if col.shape[0] != values.shape[0]:
        raise RuntimeError(f"col_indices and values must have the same number of elements, but "
                           f"got {col.shape[0]} and {values.shape[0]}")
    rows = crow.shape[0] - 1
    if size is None:
        size = (rows, int(col.max()) + 1 if col.size else 0)
    size = tuple(int(s) for s in size)
    if len(size) != 2 or size[0] != rows:
        raise RuntimeError(f"sparse_csr_tensor: size ({shape_str(size)}) does not match "
                           f"crow_indices of length {crow.shape[0]} (expected {rows} rows)")
    if int(crow[0]) != 0 or int(crow[-1]) != col.shape[0] or (
            rows and bool((crow[1:] < crow[:-1]).any())):
        raise RuntimeError("crow_indices must start at 0, end at nnz and never decrease")
    if col.size and (int(col.min()) < 0 or int(col.max()) >= size[1]):
        raise RuntimeError(f"col_indices must be in [0, {size[1]}), got values in "
                           f"[{int(col.min())}, {int(col.max())}]")
    out = sparse_apply(SparseCsrTensor, values, crow, col, size)
    if requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def to_sparse_csr(x: Tensor) -> SparseTensor:
    """A 2-D dense or COO tensor as CSR."""
    if x.ndim != 2:
        raise RuntimeError(f"to_sparse_csr: Ember supports 2-D matrices only, got "
                           f"({shape_str(x.shape)})")
    if isinstance(x, SparseTensor):
        if isinstance(x._data, CSR):
            return x
        if x._data.sparse_dim != 2:
            raise RuntimeError("to_sparse_csr: the COO tensor must have 2 sparse dims")
        return sparse_apply(ToSparseCsr, x, False)
    return sparse_apply(ToSparseCsr, x, True)


def csr_to_coo(x: SparseTensor) -> SparseTensor:
    return sparse_apply(CsrToCoo, x)


def values(x: SparseTensor) -> Tensor:
    return CsrValues.apply(x)
