"""Sparse COO operations with their gradients (torch.sparse_coo_tensor, to_dense, sparse.mm...).

A sparse tensor's `_data` is a `COO` payload (ember/sparse/storage.py); its gradient is a `COO`
too, read with sum semantics: repeated coordinates add up, like the tensor itself. So the
gradient reaching `values` is the incoming gradient *looked up* at each entry's coordinates
(`grad_at`), and an op that needs one value per coordinate (softmax, sqrt of the values...)
works on the coalesced tensor.

Linear ops (scaling, adding, transposing, summing, to_dense, the products) keep whatever
coordinates they are given, as torch does: `s * 2` of an uncoalesced tensor stays uncoalesced.
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd.node import Node, Op
from ..sparse.storage import COO, CSR, SparseStorage, scatter_add
from ..sparse.tensor import SparseTensor, sparse_apply
from ..tensor import Tensor
from ._util import shape_str, wrap_dim


def raw(grad: Any, op: str) -> Any:
    """The incoming gradient as an array or payload; sparse ops have no double backward."""
    if isinstance(grad, Tensor):
        raise NotImplementedError(f"{op}: double backward (create_graph=True) through sparse "
                                  "operations is not supported")
    return grad


def dense_of(grad: Any) -> Any:
    """A gradient as a dense array (a sparse gradient is scattered out)."""
    return grad.to_dense_array() if isinstance(grad, SparseStorage) else grad


def grad_at(grad: Any, indices: Any) -> Any:
    """The gradient's values at the coordinate columns `indices`: one row per entry."""
    if isinstance(grad, COO):
        if grad.indices is indices and grad.coalesced:
            return grad.values
        return grad.lookup(indices)
    return dense_of(grad)[tuple(indices)]


def masked(grad: Any, pattern: COO) -> COO:
    """`grad` kept only at the coordinates of the coalesced `pattern` (torch's sparse_mask)."""
    return pattern.like(grad_at(grad, pattern.indices), coalesced=True)


# ------------------------------------------------------------------------------------------
# Construction and conversion
# ------------------------------------------------------------------------------------------


class SparseCooTensorWithDimsAndTensors(Op):
    """values -> sparse tensor; the values' gradient is the gradient read at their coordinates."""

    def forward(self, values: Any, indices: Any, shape: tuple, coalesced: bool) -> COO:
        self.indices = indices
        return COO(indices, values, shape, coalesced)

    def backward(self, grad: Any) -> tuple:
        return grad_at(raw(grad, "sparse_coo_tensor"), self.indices), None, None, None


class Values(Op):
    """values of a coalesced tensor; their gradient is a sparse tensor on its coordinates."""

    def forward(self, x: COO) -> Any:
        self.pattern = x
        return x.values

    def backward(self, grad: Any) -> COO:
        return self.pattern.like(raw(grad, "values"), coalesced=True)


class Coalesce(Op):
    """The same tensor with repeats summed: the identity for the gradient."""

    def forward(self, x: COO) -> COO:
        return x.coalesce()

    def backward(self, grad: Any) -> Any:
        return raw(grad, "coalesce")


class ToDense(Op):
    """Scatter the entries out; the gradient is masked to the input's coordinates
    (torch's default masked_grad=True)."""

    def forward(self, x: SparseStorage) -> Any:
        self.pattern = x.to_coo() if isinstance(x, CSR) else x
        return x.to_dense_array()

    def backward(self, grad: Any) -> COO:
        return masked(raw(grad, "to_dense"), self.pattern.coalesce())


class ToSparse(Op):
    """dense -> COO of its nonzero entries (the first `sparse_dim` dims sparse); the gradient
    flows back densely, as torch's to_sparse."""

    def forward(self, x: Any, sparse_dim: int) -> COO:
        xp = backend.module_of(x)
        lead = x.shape[:sparse_dim]
        flat = x.reshape((-1,) + x.shape[sparse_dim:]) if sparse_dim else x.reshape((1,) + x.shape)
        nonzero = flat != 0
        if flat.ndim > 1:
            nonzero = nonzero.reshape(flat.shape[0], -1).any(axis=1)
        keep = xp.flatnonzero(nonzero)
        indices = xp.stack(xp.unravel_index(keep, lead)) if sparse_dim else xp.zeros(
            (0, keep.shape[0]), dtype=dtypes.int64.np)
        return COO(indices.astype(dtypes.int64.np).reshape(sparse_dim, -1), flat[keep],
                   x.shape, True)

    def backward(self, grad: Any) -> tuple:
        return dense_of(raw(grad, "to_sparse")), None


class ToCopy(Op):
    """Move the entries to another dtype and/or device (torch's _to_copy); the gradient moves
    back."""

    def forward(self, x: SparseStorage, np_dtype: Any, device: Any) -> SparseStorage:
        self.dtype, self.device = x.values.dtype, backend.device_of(x.values)

        def move(array: Any, values: bool = False) -> Any:
            if device is not None:
                array = backend.to_device(array, device)
            return array.astype(np_dtype) if values and np_dtype is not None else array

        if isinstance(x, CSR):
            return CSR(move(x.crow_indices), move(x.col_indices), move(x.values, True), x.shape)
        return COO(move(x.indices), move(x.values, True), x.shape, x.coalesced)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "to")
        if isinstance(g, COO):
            g = COO(backend.to_device(g.indices, self.device),
                    backend.to_device(g.values, self.device).astype(self.dtype), g.shape,
                    g.coalesced)
        else:
            g = backend.to_device(g, self.device).astype(self.dtype)
        return g, None, None


# ------------------------------------------------------------------------------------------
# Linear ops: they keep the coordinates they are given
# ------------------------------------------------------------------------------------------


class Scale(Op):
    """s * c for a number c."""

    def forward(self, x: COO, c: Any) -> COO:
        self.c = c
        return x.like(x.values * c)

    def backward(self, grad: Any) -> tuple:
        return raw(grad, "mul") * self.c, None


class Div(Op):
    """s / c for a number c (torch divides the values; zero stays zero)."""

    def forward(self, x: COO, c: Any) -> COO:
        self.c = c
        return x.like(self.divide(x.values))

    def divide(self, values: Any) -> Any:
        with backend.errstate(backend.module_of(values), divide="ignore", invalid="ignore"):
            return values / self.c

    def backward(self, grad: Any) -> tuple:  # d(s / c) = grad / c
        g = raw(grad, "div")
        return (g.like(self.divide(g.values)) if isinstance(g, COO) else self.divide(g)), None


class Clone(Op):
    """A copy of the payload (COO or CSR): the identity for the gradient."""

    def forward(self, x: SparseStorage) -> SparseStorage:
        return x.copy()

    def backward(self, grad: Any) -> Any:
        return raw(grad, "clone")


class AddSparse(Op):
    """a + alpha * b of two sparse tensors: the entries of both; coalesced when both are (torch
    merges two coalesced tensors), else left uncoalesced."""

    def forward(self, a: COO, b: COO, alpha: Any) -> COO:
        self.alpha = alpha
        if a.shape != b.shape:
            raise RuntimeError(f"add: expected sizes to match, got ({shape_str(a.shape)}) and "
                               f"({shape_str(b.shape)})")
        out = a + (b if alpha == 1 else b.like(b.values * alpha))
        return out.coalesce() if a.coalesced and b.coalesced else out

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "add")
        return g, (g if self.alpha == 1 else g * self.alpha), None


class Transpose(Op):
    """Swap two sparse dims of the coordinates."""

    def forward(self, x: COO, d0: int, d1: int) -> COO:
        self.dims = (d0, d1)
        return transpose_payload(x, d0, d1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "transpose")
        d0, d1 = self.dims
        if isinstance(g, COO):
            return transpose_payload(g, d0, d1), None, None
        return backend.module_of(g).swapaxes(g, d0, d1), None, None


def transpose_payload(x: COO, d0: int, d1: int) -> COO:
    order = list(range(x.sparse_dim))
    order[d0], order[d1] = d1, d0
    shape = list(x.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    return COO(x.indices[order], x.values, tuple(shape), False)


class MulDense(Op):
    """s * d elementwise (d dense, same shape): a sparse result on s's coordinates.

    d(s*d)/ds = grad * d on s's coordinates; d(s*d)/dd = grad * s, a sparse gradient when d
    is a leaf (as torch's .grad), dense when it flows on into other ops.
    """

    def forward(self, x: COO, d: Any) -> COO:
        if tuple(d.shape) != x.shape:
            raise RuntimeError(f"mul: sparse ({shape_str(x.shape)}) * dense "
                               f"({shape_str(d.shape)}): only same-shape products are "
                               "supported for sparse tensors")
        self.x, self.d = x, d
        return x.like(x.values * d[tuple(x.indices)])

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "mul")
        x, d = self.x, self.d
        gx = gd = None
        pattern = x.coalesce()  # one value per coordinate: repeats would count twice
        if self.next_edges[0] is not None:
            gx = pattern.like(grad_at(g, pattern.indices) * d[tuple(pattern.indices)],
                              coalesced=True)
        edge = self.next_edges[1]
        if edge is not None:
            gd = pattern.like(grad_at(g, pattern.indices) * pattern.values, coalesced=True)
            if isinstance(edge[0], Node):
                gd = gd.to_dense_array()
        return gx, gd


class SparseMM(Op):
    """sparse (m, k) @ dense (k, n) -> dense (m, n).

    dD = S^T @ G. dS is masked to S's coordinates for torch.sparse.mm (`masked`), dense
    (G @ D^T) for torch.mm / @, as torch gives them.
    """

    def forward(self, x: SparseStorage, d: Any, masked_grad: bool) -> Any:
        coo = x.to_coo() if isinstance(x, CSR) else x
        self.x, self.d, self.masked = coo, d, masked_grad
        xp = backend.module_of(d)
        rows, cols = coo.indices[0], coo.indices[1]
        out = xp.zeros((coo.shape[0],) + tuple(d.shape[1:]), dtype=d.dtype)
        if coo.nnz:
            scatter_add(out, rows, coo.values.reshape((-1,) + (1,) * (d.ndim - 1)) * d[cols])
        return out

    def backward(self, grad: Any) -> tuple:
        g = dense_of(raw(grad, "mm"))
        x, d = self.x, self.d
        xp = backend.module_of(g)
        gx = gd = None
        if self.next_edges[0] is not None:
            if self.masked:
                c = x.coalesce()
                per = g[c.indices[0]] * d[c.indices[1]]
                gx = c.like(per.reshape(per.shape[0], -1).sum(axis=1), coalesced=True)
            else:
                gx = g.reshape(g.shape[0], -1) @ d.reshape(d.shape[0], -1).T
        if self.next_edges[1] is not None:
            gd = xp.zeros(d.shape, dtype=g.dtype)
            if x.nnz:
                scale = x.values.reshape((-1,) + (1,) * (d.ndim - 1))
                scatter_add(gd, x.indices[1], scale * g[x.indices[0]])
        return gx, gd, None


# ------------------------------------------------------------------------------------------
# Functions (the public API lives in ember/sparse/__init__.py and ember/__init__.py)
# ------------------------------------------------------------------------------------------


def sparse_coo_tensor(indices: Any = None, values: Any = None, size: Any = None, *,
                      dtype: Any = None, device: Any = None, pin_memory: bool = False,
                      requires_grad: bool = False, check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> SparseTensor:
    """A sparse COO tensor with entries `values` at the coordinate columns of `indices`.

    >>> s = ember.sparse_coo_tensor([[0, 1], [2, 0]], [3.0, 4.0], (2, 3))
    >>> s.to_dense()
    tensor([[0., 0., 3.],
            [4., 0., 0.]])

    Gradients flow to `values` when it requires grad; with `requires_grad=True` the result
    is a leaf whose `.grad` is sparse.
    """
    from .. import creation  # noqa: PLC0415

    dev = None if device is None else backend.as_device(device)
    if indices is None and values is None:  # sparse_coo_tensor(size=...): no entries
        if size is None:
            raise TypeError("sparse_coo_tensor() needs indices and values, or size")
        size = (size,) if isinstance(size, int) else tuple(size)
        indices = creation.zeros(len(size), 0, dtype=dtypes.int64, device=dev)
        values = creation.zeros(0, dtype=dtype, device=dev)
    if not isinstance(indices, Tensor):
        indices = creation.tensor(indices, dtype=dtypes.int64, device=dev)
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype, device=dev)
    if dtype is not None or dev is not None:
        values = values.to(device=dev, dtype=dtype)
    idx = indices._data
    if dev is not None:
        idx = backend.to_device(idx, dev)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an int64 tensor, got {indices.dtype}")
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: ({shape_str(idx.shape)})")
    idx = idx.astype(dtypes.int64.np, copy=False)
    nnz = idx.shape[1]
    if values.ndim == 0 or values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0] if values.ndim else 0}")
    sdim = idx.shape[0]
    if size is None:
        lead = [int(m) + 1 for m in idx.max(axis=1)] if nnz else [0] * sdim
        size = tuple(lead) + tuple(values.shape[1:])
    size = tuple(int(s) for s in (size if not isinstance(size, int) else (size,)))
    if len(size) != sdim + values.ndim - 1:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sdim}) + dense_dim "
                           f"({values.ndim - 1}), but got {len(size)}")
    if tuple(values.shape[1:]) != size[sdim:]:
        expected = shape_str((nnz,) + size[sdim:])
        raise RuntimeError(f"values has incorrect size, expected ({expected}), got "
                           f"({shape_str(values.shape)})")
    for d in range(sdim):  # always checked (torch checks under check_invariants=True)
        if nnz and (int(idx[d].min()) < 0 or int(idx[d].max()) >= size[d]):
            bad = int(idx[d].max()) if int(idx[d].max()) >= size[d] else int(idx[d].min())
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {bad}")
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    out = sparse_apply(SparseCooTensorWithDimsAndTensors, values, idx, size, coalesced)
    if requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def as_sparse(x: Any, op: str) -> SparseTensor:
    if not isinstance(x, SparseTensor):
        raise TypeError(f"{op}: expected a sparse tensor, got {type(x).__name__}")
    return x


def to_dense(x: SparseTensor, dtype: Any = None) -> Tensor:
    out = ToDense.apply(x)
    return out if dtype is None else out.to(dtype)


def to_sparse(x: Tensor, sparse_dim: int | None = None) -> SparseTensor:
    """A dense tensor's nonzero entries as a coalesced COO tensor (`sparse_dim` leading dims)."""
    if isinstance(x, SparseTensor):
        if sparse_dim is not None and x._data.layout_name == "sparse_coo" and \
                sparse_dim != x._data.sparse_dim:
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               f"argument != self.sparse_dim() is not supported (got "
                               f"{sparse_dim}, self has {x._data.sparse_dim})")
        if isinstance(x._data, CSR):
            from .sparse_csr import csr_to_coo  # noqa: PLC0415

            return csr_to_coo(x)
        return x
    sdim = x.ndim if sparse_dim is None else sparse_dim
    if not 0 <= sdim <= x.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim argument must be in [0, {x.ndim}], got "
                           f"{sparse_dim}")
    return sparse_apply(ToSparse, x, sdim)


def coalesce(x: SparseTensor) -> SparseTensor:
    if x._data.coalesced:
        return x
    return sparse_apply(Coalesce, x)


def values(x: SparseTensor) -> Tensor:
    """The values of a coalesced tensor (differentiable), as torch's values()."""
    if not x._data.coalesced:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                           ".coalesce() first")
    return Values.apply(x)


def scale(x: SparseTensor, c: Any) -> SparseTensor:
    return sparse_apply(Scale, x, c)


def add(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """sparse + sparse (sparse), dense + sparse (dense); sparse + dense is refused as torch."""
    a_sparse, b_sparse = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if a_sparse and b_sparse:
        return sparse_apply(AddSparse, a, b, alpha)
    if a_sparse:
        if isinstance(b, Tensor) and b.ndim > 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        raise RuntimeError("add: adding a number to a sparse tensor would make it dense; "
                           "use s.to_dense() + c")
    dense = to_dense(b)
    return a + (dense if alpha == 1 else dense * alpha)


def mul(a: Any, b: Any) -> SparseTensor:
    """sparse * number, sparse * dense (same shape) or sparse * sparse (both coalesced)."""
    if not isinstance(a, SparseTensor):
        a, b = b, a
    if isinstance(b, SparseTensor):
        return mul(to_dense(b), a) if a._data.nnz <= b._data.nnz else mul(to_dense(a), b)
    if isinstance(b, Tensor) and b.ndim > 0:
        return sparse_apply(MulDense, a, b)
    return scale(a, b._data if isinstance(b, Tensor) else b)


def transpose(x: SparseTensor, dim0: int, dim1: int) -> SparseTensor:
    d0, d1 = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    if max(d0, d1) >= x._data.sparse_dim:
        raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got "
                           f"sparse_dim: {x._data.sparse_dim}, d0: {d0}, d1: {d1}")
    if d0 == d1:
        return x
    return sparse_apply(Transpose, x, d0, d1)


def t(x: SparseTensor) -> SparseTensor:
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def mm(mat1: Any, mat2: Any, masked_grad: bool = False) -> Tensor:
    """sparse @ dense -> dense; dense @ sparse through (sparse^T @ dense^T)^T."""
    if isinstance(mat1, SparseTensor) and isinstance(mat2, SparseTensor):
        return mm(mat1, to_dense(mat2), masked_grad)
    if not isinstance(mat1, SparseTensor):
        return mm(t(mat2) if isinstance(mat2._data, COO) else _csr_t(mat2),
                  mat1.t(), masked_grad).t()
    if mat1.ndim != 2 or mat2.ndim not in (1, 2):
        raise RuntimeError(f"mm: expected a 2-D sparse matrix and a 1-D or 2-D dense tensor, "
                           f"got shapes ({shape_str(mat1.shape)}) and ({shape_str(mat2.shape)})")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {shape_str(mat2.shape)})")
    if isinstance(mat1._data, COO) and (mat1._data.sparse_dim != 2):
        raise RuntimeError("mm: the sparse matrix must have 2 sparse dims and no dense dims")
    if mat1._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"mm: expected mat1 and mat2 to have the same dtype, but got: "
                           f"{mat1.dtype.name} != {mat2.dtype.name}")
    return SparseMM.apply(mat1, mat2, masked_grad)


def _csr_t(x: SparseTensor) -> SparseTensor:
    from .sparse_csr import csr_to_coo  # noqa: PLC0415

    return t(csr_to_coo(x))


def sparse_mask(dense: Tensor, mask: SparseTensor) -> SparseTensor:
    """`dense`'s values at `mask`'s coordinates (mask coalesced first), as a sparse tensor."""
    if tuple(dense.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(dense.shape)} but mask has size {list(mask.shape)}")
    pattern = mask._data.coalesce()
    idx = Tensor._make(pattern.indices)
    picked = dense[tuple(idx[d] for d in range(pattern.sparse_dim))]
    return sparse_apply(SparseCooTensorWithDimsAndTensors, picked, pattern.indices,
                        pattern.shape, True)


def map_values(x: SparseTensor, fn: Any) -> SparseTensor:
    """A zero-preserving elementwise function (abs, sqrt, sin...) applied to the coalesced
    entries; gradients flow through `fn`'s own."""
    c = coalesce(x)
    return sparse_apply(SparseCooTensorWithDimsAndTensors, fn(Values.apply(c)),
                        c._data.indices, c.shape, True)


def is_sparse_array(data: Any) -> bool:
    return isinstance(data, SparseStorage)
