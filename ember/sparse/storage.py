"""What a sparse tensor holds in place of a dense array: `COO` and `CSR` payloads.

A sparse tensor is an ordinary `Tensor` whose `_data` is one of these payloads instead of a
numpy/cupy array (see ember/sparse/tensor.py). They play the part of raw arrays everywhere the
autograd engine passes arrays around: a sparse gradient is a `COO`, and adding two gradients
(`a + b` in the engine's buffers) concatenates two `COO`s, or densifies when one side is dense,
as torch accumulates sparse gradients.

They also answer `shape`, `dtype`, `ndim` and `size` like an array, so `Tensor.shape`,
`.dtype`, `.numel()` work unchanged. Anything else a dense op tries (a numpy ufunc, a numpy
function, an array method) raises NotImplementedError naming the operation and the layout,
which is how an op without sparse support reports it, without a check on the dense hot path.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend


class _ReadOnly:
    """`payload.flags.writeable` is False: the engine never adds a dense gradient into it."""

    writeable = False


def not_implemented(op: str, layout: str) -> NotImplementedError:
    """The error of an operation that has no sparse implementation (torch's wording)."""
    return NotImplementedError(
        f"{op} is not implemented for sparse tensors (layout ember.{layout}); convert with "
        ".to_dense() first"
    )


class SparseStorage:
    """Array-like base of the payloads: shape/dtype answers, clear errors for everything else."""

    __slots__ = ()
    layout_name = "sparse"
    flags = _ReadOnly()
    is_sparse_payload = True
    values: Any
    shape: tuple

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def itemsize(self) -> int:
        return self.values.itemsize

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc.__name__ == "add" and method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs  # dense + sparse gradients in the engine's buffers: dense
            return (a.to_dense_array() + b) if a is self else (a + b.to_dense_array())
        raise not_implemented(ufunc.__name__, self.layout_name)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise not_implemented(func.__name__, self.layout_name)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise not_implemented("converting to a dense array implicitly", self.layout_name)

    def __getitem__(self, key: Any) -> Any:
        raise not_implemented("indexing", self.layout_name)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise not_implemented("index assignment", self.layout_name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise not_implemented(name, self.layout_name)

    def to_dense_array(self) -> Any:
        raise NotImplementedError  # pragma: no cover (both payloads define it)

    def as_tensor(self) -> Any:
        """This payload wrapped as a SparseTensor (the engine's hooks and autograd.grad)."""
        from .tensor import SparseTensor  # noqa: PLC0415 (tensor imports this module)

        return SparseTensor._wrap(self)


class COO(SparseStorage):
    """Coordinate format: `indices` (sparse_dim, nnz) int64, `values` (nnz, *dense_shape).

    Repeated coordinates are allowed (their values add up) until `coalesce()` sums them and
    sorts the coordinates, as torch's uncoalesced tensors.
    """

    __slots__ = ("indices", "values", "shape", "coalesced")
    layout_name = "sparse_coo"

    def __init__(self, indices: Any, values: Any, shape: tuple, coalesced: bool = False) -> None:
        self.indices, self.values = indices, values
        self.shape, self.coalesced = tuple(int(s) for s in shape), bool(coalesced)

    @property
    def sparse_dim(self) -> int:
        return int(self.indices.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[1])

    @property
    def sparse_shape(self) -> tuple:
        return self.shape[: self.sparse_dim]

    @property
    def dense_shape(self) -> tuple:
        return self.shape[self.sparse_dim:]

    def copy(self) -> COO:
        return COO(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def like(self, values: Any, coalesced: bool | None = None) -> COO:
        """Same coordinates, new values."""
        return COO(self.indices, values, self.shape,
                   self.coalesced if coalesced is None else coalesced)

    def linear_index(self) -> Any:
        """Each entry's position in the flattened sparse dims (row-major)."""
        return linearize(self.indices, self.sparse_shape)

    def coalesce(self) -> COO:
        """Sum repeated coordinates and sort them (torch's coalesce)."""
        if self.coalesced:
            return self
        xp = backend.module_of(self.values)
        if self.nnz == 0:
            return COO(self.indices, self.values, self.shape, True)
        unique, inverse = xp.unique(self.linear_index(), return_inverse=True)
        values = xp.zeros((unique.shape[0],) + self.values.shape[1:], self.values.dtype)
        scatter_add(values, inverse.reshape(-1), self.values)
        return COO(unlinearize(unique, self.sparse_shape), values, self.shape, True)

    def to_dense_array(self) -> Any:
        xp = backend.module_of(self.values)
        flat = xp.zeros((math.prod(self.sparse_shape),) + self.dense_shape, self.values.dtype)
        if self.nnz:
            scatter_add(flat, self.linear_index(), self.values)
        return flat.reshape(self.shape)

    def lookup(self, indices: Any) -> Any:
        """The values at the coordinates `indices` (sparse_dim, n): summed over repeats, zero
        where this tensor has no entry (how a gradient is read at an input's coordinates)."""
        xp = backend.module_of(self.values)
        this = self.coalesce()
        out = xp.zeros((indices.shape[1],) + self.dense_shape, self.values.dtype)
        if this.nnz == 0 or indices.shape[1] == 0:
            return out
        keys = this.linear_index()
        wanted = linearize(indices, self.sparse_shape)
        pos = xp.minimum(xp.searchsorted(keys, wanted), keys.shape[0] - 1)
        found = keys[pos] == wanted
        out[found] = this.values[pos[found]]
        return out

    def fill(self, value: Any) -> None:
        """Only zero: torch's zero_() on a sparse tensor drops every entry."""
        if value != 0:
            raise not_implemented("fill_ with a nonzero value", self.layout_name)
        xp = backend.module_of(self.values)
        self.indices = xp.zeros((self.sparse_dim, 0), self.indices.dtype)
        self.values = xp.zeros((0,) + self.dense_shape, self.values.dtype)
        self.coalesced = True

    # -- gradient arithmetic (the engine adds gradients with + and negates with -) --------
    def __add__(self, other: Any) -> Any:
        if isinstance(other, COO):
            return concat(self, other)
        return self.to_dense_array() + other

    __radd__ = __add__

    def __neg__(self) -> COO:
        return self.like(-self.values)

    def __mul__(self, other: Any) -> COO:
        if isinstance(other, SparseStorage) or backend.is_array(other) and other.ndim:
            raise not_implemented("multiply (by a non-scalar, on the raw payload)", "sparse_coo")
        return self.like(self.values * other)

    __rmul__ = __mul__

    def accumulate_into(self, leaf: Any) -> None:
        """`leaf.grad += self` as torch's AccumulateGrad: sparse stays sparse (uncoalesced),
        a dense `.grad` receives it densely."""
        from .tensor import SparseTensor  # noqa: PLC0415

        existing = leaf._grad
        if existing is None:
            leaf._grad = SparseTensor._wrap(self.copy())
        elif isinstance(existing._data, COO):  # in place: torch's grad += new
            existing._data = concat(existing._data, self)
            existing._bump_version()
        else:
            data = existing._data
            if backend.is_writeable(data) and existing.grad_fn is None:
                data += self.to_dense_array()
                existing._bump_version()
            else:
                leaf._grad = type(existing)._make(data + self.to_dense_array())


class CSR(SparseStorage):
    """Compressed sparse rows of a matrix: row r's entries are at crow[r]:crow[r + 1]."""

    __slots__ = ("crow_indices", "col_indices", "values", "shape")
    layout_name = "sparse_csr"

    def __init__(self, crow_indices: Any, col_indices: Any, values: Any, shape: tuple) -> None:
        self.crow_indices, self.col_indices, self.values = crow_indices, col_indices, values
        self.shape = tuple(int(s) for s in shape)

    @property
    def nnz(self) -> int:
        return int(self.col_indices.shape[0])

    def row_indices(self) -> Any:
        """Each entry's row (the COO row index)."""
        xp = backend.module_of(self.values)
        counts = xp.diff(self.crow_indices)
        return xp.repeat(xp.arange(self.shape[0], dtype=self.col_indices.dtype), counts)

    def to_coo(self) -> COO:
        xp = backend.module_of(self.values)
        return COO(xp.stack([self.row_indices(), self.col_indices]), self.values, self.shape,
                   True)

    def to_dense_array(self) -> Any:
        return self.to_coo().to_dense_array()

    def copy(self) -> CSR:
        return CSR(self.crow_indices.copy(), self.col_indices.copy(), self.values.copy(),
                   self.shape)


def linearize(indices: Any, shape: tuple) -> Any:
    """Row-major flat positions of the coordinate columns of `indices` within `shape`."""
    xp = backend.module_of(indices)
    flat = xp.zeros(indices.shape[1], dtype=indices.dtype)
    for d, n in enumerate(shape):
        flat = flat * n + indices[d]
    return flat


def unlinearize(flat: Any, shape: tuple) -> Any:
    """The coordinates (len(shape), n) of row-major flat positions."""
    xp = backend.module_of(flat)
    rows = []
    for n in reversed(shape):
        rows.append(flat % n)
        flat = flat // n
    return xp.stack(rows[::-1]) if rows else xp.zeros((0, flat.shape[0]), flat.dtype)


def scatter_add(out: Any, index: Any, values: Any) -> None:
    """out[index] += values along dim 0, repeated indices each adding (or-ing for bool)."""
    from ..ops.indexing import _add_at  # noqa: PLC0415 (ops import the tensor module)

    if out.dtype.kind == "b":  # torch sums bool entries as a logical or
        backend.ufunc_at("logical_or", out, (index,), values)
        return
    _add_at(backend.module_of(out), out, (index,), values)


def concat(a: COO, b: COO) -> COO:
    """a + b without coalescing: the entries of both, as torch adds uncoalesced tensors."""
    if a.shape != b.shape:
        raise RuntimeError(f"add: expected sizes to match, got {list(a.shape)} and "
                           f"{list(b.shape)}")
    xp = backend.module_of(a.values)
    values = xp.concatenate([a.values, b.values.astype(a.values.dtype, copy=False)])
    return COO(xp.concatenate([a.indices, b.indices], axis=1), values, a.shape,
               a.nnz == 0 and b.coalesced or b.nnz == 0 and a.coalesced)


def add_into(dense: Any, grad: Any, alpha: float) -> None:
    """dense += alpha * grad in place, for a sparse or dense `grad` (optimizer updates)."""
    if not isinstance(grad, COO):
        dense += alpha * grad
        return
    if grad.nnz == 0:
        return
    values = grad.values * alpha if alpha != 1 else grad.values
    flat = dense.reshape((math.prod(grad.sparse_shape),) + grad.dense_shape)
    if flat.base is None or not dense.flags.c_contiguous:  # not a view: add densely instead
        dense += grad.like(values).to_dense_array()
        return
    scatter_add(flat, grad.linear_index(), values.astype(dense.dtype, copy=False))
