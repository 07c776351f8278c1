"""Sparse CSR matrices: construction, conversion to and from COO and dense, and their gradients.

A CSR matrix is a `CSR` payload (storage.py). Products and to_dense reuse the COO ops
(`SparseMM` and `ToDense` accept CSR), so gradients reaching a CSR tensor are COO payloads on
its coordinates, which `SparseCsrTensor` reads back into the values' gradient.
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd.node import Op
from ..sparse.storage import COO, CSR, not_implemented, scatter_add
from ..sparse.tensor import SparseTensor, sparse_apply
from ..tensor import Tensor
from ._util import shape_str
from .complex import _dtype_name
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


class SparseSampledAddmm(Op):
    """beta * input + alpha * (mat1 @ mat2), computed only at input's entries (CSR result).

    With G the gradient at those entries: d input = beta * G (on its entries),
    d mat1 = alpha * G @ mat2^T, d mat2 = alpha * mat1^T @ G.
    """

    def forward(self, x: CSR, mat1: Any, mat2: Any, beta: Any, alpha: Any) -> CSR:
        rows, cols = x.row_indices(), x.col_indices
        self.coords = backend.module_of(x.values).stack([rows, cols])
        self.shape, self.mat1, self.mat2, self.beta, self.alpha = x.shape, mat1, mat2, beta, alpha
        products = (mat1[rows] * mat2[:, cols].T).sum(axis=1)  # (nnz,): row . column
        values = beta * x.values + alpha * products
        return CSR(x.crow_indices, x.col_indices, values.astype(x.values.dtype), x.shape)

    def backward(self, grad: Any) -> tuple:
        g = grad_at(raw(grad, "sampled_addmm"), self.coords)
        rows, cols = self.coords
        need_x, need_1, need_2 = (e is not None for e in self.next_edges[:3])
        xp = backend.module_of(g)
        gx = g1 = g2 = None
        if need_x:
            gx = COO(self.coords, g * self.beta, self.shape, True)
        if need_1:
            g1 = xp.zeros(self.mat1.shape, g.dtype)
            scatter_add(g1, rows, (self.alpha * g)[:, None] * self.mat2[:, cols].T)
        if need_2:
            g2t = xp.zeros(self.mat2.shape[::-1], g.dtype)  # rows of mat2^T, one per column
            scatter_add(g2t, cols, (self.alpha * g)[:, None] * self.mat1[rows])
            g2 = g2t.T
        return gx, g1, g2, None, None


def sampled_addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1.0,
                  alpha: Any = 1.0) -> SparseTensor:
    """beta * input + alpha * (mat1 @ mat2) at the entries of the CSR matrix `input` only.

    >>> pattern = ember.eye(2).to_sparse_csr()
    >>> ember.sparse.sampled_addmm(pattern, ember.ones(2, 3), ember.ones(3, 2)).to_dense()
    tensor([[4., 0.],
            [0., 4.]])
    """
    if not isinstance(input, SparseTensor) or not isinstance(input._data, CSR):
        raise NotImplementedError(f"sampled_addmm is implemented for a sparse CSR input only, "
                                  f"got layout {input.layout!r}")
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m._sparse_layout:
            raise not_implemented(f"sampled_addmm with a sparse {name}", m._data.layout_name)
        if m.ndim != 2:
            raise RuntimeError(f"sampled_addmm: Expected {name} to be a matrix, got {m.ndim}-D "
                               f"tensor")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"sparse_sampled_addmm: Expected self to be a floating-point or "
                           f"complex tensor, but got {_dtype_name(input._data)}")
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and mat2 to have the same dtype, but "
                           f"got {_dtype_name(mat1._data)} and {_dtype_name(mat2._data)}")
    if mat1.dtype is not input.dtype:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and self to have the same dtype, but "
                           f"got {_dtype_name(mat1._data)} and {_dtype_name(input._data)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x"
                           f"{mat2.shape[1]})")
    if input.shape[0] != mat1.shape[0]:
        raise RuntimeError("sampled_addmm: self.shape[-2] must match mat1.shape[-2]")
    if input.shape[1] != mat2.shape[1]:
        raise RuntimeError("sampled_addmm: self.shape[-1] must match mat2.shape[-1]")
    return sparse_apply(SparseSampledAddmm, input, mat1, mat2, beta, alpha)


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
