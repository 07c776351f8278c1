"""Indexing, reshaping and joining sparse COO tensors: `s[i]`, select, index_select,
narrow_copy, unsqueeze, permute, cat and stack, with their gradients.

Each op sends the input's entries to output entries, moving coordinates (a sparse dim) or
slicing the values (a dense dim). Its gradient sits on the input's coalesced coordinates: the
output gradient read at the coordinates each entry went to (`grad_at`), with the values map
undone. The input is coalesced first so that repeated coordinates are not counted twice.

torch runs the forward of these ops but has no sparse backward for most of them (select,
index_select, narrow_copy, cat, unsqueeze raise when differentiated); Ember's gradients are
the ones of the same ops on the dense tensor, read at the input's entries.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from .. import backend, dtypes
from ..autograd.node import Op
from ..sparse.storage import COO, CSR, not_implemented, scatter_add
from ..sparse.tensor import SparseTensor
from ..tensor import Tensor
from ._util import torch_named, wrap_dim
from .sparse_coo import dense_of, grad_at, raw


def _wrap(out: Tensor) -> Tensor:
    """An op's result: a SparseTensor when its payload is sparse (select may return dense)."""
    if isinstance(out._data, COO):
        out.__class__ = SparseTensor
    return out


def _pattern_grad(c: COO, src: Any, rows: Any) -> COO:
    """The gradient on the coalesced input `c`: `rows` (one per output entry) added into the
    entries `src` they came from."""
    xp = backend.module_of(c.values)
    values = xp.zeros(c.values.shape, rows.dtype)
    if src.shape[0]:
        scatter_add(values, src, rows)
    return c.like(values, coalesced=True)


def _along(axis: int, key: Any) -> tuple:
    return (slice(None),) * axis + (key,)


# ------------------------------------------------------------------------------------------
# select, index_select, narrow_copy: keep some entries (sparse dim) or slice the values
# ------------------------------------------------------------------------------------------


def _select_entries(x: COO, dim: int, index: int) -> tuple:
    """The entries with coordinate `index` on sparse dim `dim`, and their coordinates
    without that dim."""
    xp = backend.module_of(x.indices)
    keep = xp.flatnonzero(x.indices[dim] == index)
    rows = [d for d in range(x.sparse_dim) if d != dim]
    return keep, x.indices[rows][:, keep]


class Select(Op):
    """x.select(dim, index). On a sparse dim: the entries at `index`, that dim dropped (a dense
    result, their sum, once no sparse dim is left). On a dense dim: every entry's values at
    `index`."""

    def forward(self, x: COO, dim: int, index: int) -> Any:
        self.x, self.dim, self.index = x, dim, index
        shape = x.shape[:dim] + x.shape[dim + 1:]
        if dim >= x.sparse_dim:
            values = backend.module_of(x.values).take(x.values, index, axis=1 + dim - x.sparse_dim)
            return COO(x.indices, values, shape, x.nnz <= 1)
        keep, indices = _select_entries(x, dim, index)
        if x.sparse_dim == 1:  # no sparse dim left: a dense tensor
            return x.values[keep].sum(axis=0, dtype=x.values.dtype)
        return COO(indices, x.values[keep], shape, keep.shape[0] <= 1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "select")
        c = self.x.coalesce()
        xp = backend.module_of(c.values)
        if self.dim >= c.sparse_dim:  # d(values[:, index]) / d values puts g back at index
            values = xp.zeros(c.values.shape, c.values.dtype)
            values[_along(1 + self.dim - c.sparse_dim, self.index)] = grad_at(g, c.indices)
            return c.like(values, coalesced=True), None, None
        keep, indices = _select_entries(c, self.dim, self.index)
        if c.sparse_dim == 1:  # the dense result is the sum of the kept entries
            rows = xp.broadcast_to(dense_of(g), (keep.shape[0],) + c.dense_shape)
        else:
            rows = grad_at(g, indices)
        return _pattern_grad(c, keep, rows), None, None


def _index_entries(x: COO, dim: int, index: Any) -> tuple:
    """For index_select on sparse dim `dim`: which entry each output entry copies (`src`) and
    the output coordinates, ordered by position in `index` (as torch)."""
    xp = backend.module_of(x.indices)
    coord = x.indices[dim]
    order = xp.argsort(coord, kind="stable")
    ordered = coord[order]
    lo = xp.searchsorted(ordered, index, side="left")
    counts = xp.searchsorted(ordered, index, side="right") - lo
    total = int(counts.sum())
    first = xp.cumsum(counts) - counts  # where each position's run starts in the output
    src = order[xp.repeat(lo - first, counts) + xp.arange(total)]
    indices = x.indices[:, src]
    indices[dim] = xp.repeat(xp.arange(index.shape[0], dtype=indices.dtype), counts)
    return src, indices


class IndexSelect(Op):
    """x.index_select(dim, index): entries copied once per occurrence of their coordinate in
    `index` (a sparse dim), or the values gathered along a dense dim."""

    def forward(self, x: COO, dim: int, index: Any) -> COO:
        self.x, self.dim, self.index = x, dim, index
        shape = x.shape[:dim] + (index.shape[0],) + x.shape[dim + 1:]
        if dim >= x.sparse_dim:
            values = backend.module_of(x.values).take(x.values, index, axis=1 + dim - x.sparse_dim)
            return COO(x.indices, values, shape, x.nnz <= 1)
        src, indices = _index_entries(x, dim, index)
        return COO(indices, x.values[src], shape, src.shape[0] <= 1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "index_select")
        c = self.x.coalesce()
        xp = backend.module_of(c.values)
        if self.dim >= c.sparse_dim:  # gathered values: scatter their gradient back (adding)
            axis = 1 + self.dim - c.sparse_dim
            values = xp.zeros(c.values.shape, c.values.dtype)
            rows = grad_at(g, c.indices)
            scatter_add(xp.moveaxis(values, axis, 0), self.index, xp.moveaxis(rows, axis, 0))
            return c.like(values, coalesced=True), None, None
        src, indices = _index_entries(c, self.dim, self.index)
        return _pattern_grad(c, src, grad_at(g, indices)), None, None


class NarrowCopy(Op):
    """x.narrow_copy(dim, start, length): the entries in [start, start + length) on a sparse
    dim, shifted to start at 0, or that range of the values on a dense dim."""

    def forward(self, x: COO, dim: int, start: int, length: int) -> COO:
        self.x, self.dim, self.start, self.length = x, dim, start, length
        shape = x.shape[:dim] + (length,) + x.shape[dim + 1:]
        if dim >= x.sparse_dim:
            part = _along(1 + dim - x.sparse_dim, slice(start, start + length))
            return COO(x.indices, x.values[part], shape, x.coalesced)
        keep, indices = self._entries(x)
        return COO(indices, x.values[keep], shape, x.coalesced)

    def _entries(self, x: COO) -> tuple:
        xp = backend.module_of(x.indices)
        coord = x.indices[self.dim]
        keep = xp.flatnonzero((coord >= self.start) & (coord < self.start + self.length))
        indices = x.indices[:, keep]
        indices[self.dim] -= self.start
        return keep, indices

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "narrow_copy")
        c = self.x.coalesce()
        if self.dim >= c.sparse_dim:
            values = backend.module_of(c.values).zeros(c.values.shape, c.values.dtype)
            part = _along(1 + self.dim - c.sparse_dim, slice(self.start, self.start + self.length))
            values[part] = grad_at(g, c.indices)
            return c.like(values, coalesced=True), None, None, None
        keep, indices = self._entries(c)
        return _pattern_grad(c, keep, grad_at(g, indices)), None, None, None


# ------------------------------------------------------------------------------------------
# unsqueeze and permute: every entry kept, coordinates or value axes moved
# ------------------------------------------------------------------------------------------


def _insert_zero_row(indices: Any, dim: int) -> Any:
    xp = backend.module_of(indices)
    zero = xp.zeros((1, indices.shape[1]), indices.dtype)
    return xp.concatenate([indices[:dim], zero, indices[dim:]])


class Unsqueeze(Op):
    """A new dim of size 1: a sparse dim (coordinate 0 for every entry) when it comes before
    or right after the sparse dims, else a dense dim of the values."""

    def forward(self, x: COO, dim: int) -> COO:
        self.x, self.dim = x, dim
        shape = x.shape[:dim] + (1,) + x.shape[dim:]
        if dim <= x.sparse_dim:
            return COO(_insert_zero_row(x.indices, dim), x.values, shape, x.nnz <= 1)
        values = backend.module_of(x.values).expand_dims(x.values, 1 + dim - x.sparse_dim)
        return COO(x.indices, values, shape, x.nnz <= 1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "unsqueeze")
        c = self.x.coalesce()
        if self.dim <= c.sparse_dim:
            return c.like(grad_at(g, _insert_zero_row(c.indices, self.dim)), True), None
        rows = grad_at(g, c.indices)
        return c.like(rows.reshape(c.values.shape), coalesced=True), None


class Permute(Op):
    """Reorder the dims: sparse dims among themselves (rows of the coordinates), dense dims
    among themselves (axes of the values)."""

    def forward(self, x: COO, dims: tuple) -> COO:
        self.x, self.dims = x, dims
        sdim = x.sparse_dim
        axes = (0,) + tuple(1 + d - sdim for d in dims[sdim:])
        shape = tuple(x.shape[d] for d in dims)
        return COO(x.indices[list(dims[:sdim])], x.values.transpose(axes), shape, x.nnz <= 1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "permute")
        c = self.x.coalesce()
        sdim = c.sparse_dim
        rows = grad_at(g, c.indices[list(self.dims[:sdim])])
        axes = (0,) + tuple(1 + d - sdim for d in self.dims[sdim:])
        undo = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return c.like(rows.transpose(undo), coalesced=True), None


# ------------------------------------------------------------------------------------------
# cat: entries of every input, shifted along a sparse dim or padded along a dense one
# ------------------------------------------------------------------------------------------


class Cat(Op):
    """cat of sparse tensors along `dim`. A sparse dim shifts each input's coordinates by the
    sizes before it; a dense dim widens every entry's values with zeros outside its part."""

    def forward(self, *parts: COO, dim: int) -> COO:
        xp = backend.module_of(parts[0].values)
        first = parts[0]
        self.parts, self.dim = parts, dim
        self.offsets = [0]
        for p in parts:
            self.offsets.append(self.offsets[-1] + p.shape[dim])
        shape = first.shape[:dim] + (self.offsets[-1],) + first.shape[dim + 1:]
        if dim < first.sparse_dim:
            indices = []
            for p, offset in zip(parts, self.offsets):
                shifted = p.indices.copy()
                shifted[dim] += offset
                indices.append(shifted)
            values = [p.values for p in parts]
        else:
            axis = 1 + dim - first.sparse_dim
            indices, values = [p.indices for p in parts], []
            for p, offset in zip(parts, self.offsets):
                wide = xp.zeros((p.nnz,) + shape[first.sparse_dim:], p.values.dtype)
                wide[_along(axis, slice(offset, offset + p.shape[dim]))] = p.values
                values.append(wide)
        values = xp.concatenate(values)
        return COO(xp.concatenate(indices, axis=1), values, shape, values.shape[0] <= 1)

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "cat")
        out = []
        for need, p, offset in zip(self.next_edges, self.parts, self.offsets):
            if need is None:
                out.append(None)
                continue
            c = p.coalesce()
            if self.dim < c.sparse_dim:
                shifted = c.indices.copy()
                shifted[self.dim] += offset
                out.append(c.like(grad_at(g, shifted), coalesced=True))
            else:
                width = slice(offset, offset + c.shape[self.dim])
                part = _along(1 + self.dim - c.sparse_dim, width)
                out.append(c.like(grad_at(g, c.indices)[part], coalesced=True))
        return tuple(out)


# ------------------------------------------------------------------------------------------
# Functions (SparseTensor's methods and the hooks in join.py / indexing.py call these)
# ------------------------------------------------------------------------------------------


def _coo_input(x: SparseTensor, op: str) -> SparseTensor:
    if isinstance(x._data, CSR):
        raise not_implemented(op, "sparse_csr")
    return x


def select(x: SparseTensor, dim: int, index: int) -> Tensor:
    """x.select(dim, index): sparse while a sparse dim is left (torch returns dense then)."""
    from_csr = isinstance(x._data, CSR)
    if from_csr:  # torch selects from a CSR matrix through COO
        from .sparse_csr import csr_to_coo  # noqa: PLC0415

        x = csr_to_coo(x)
    d = wrap_dim(dim, x.ndim, "select")
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"[{', '.join(map(str, x.shape))}] at dimension {d}")
    out = _wrap(Select.apply(x, d, index % size))
    if from_csr and out._sparse_layout:  # rows of a CSR matrix come sorted and unique
        out._data.coalesced = True
    return torch_named(out, "Select")


def index_select(x: SparseTensor, dim: int, index: Tensor) -> SparseTensor:
    """The slices `index` (1-D int64, negative counts from the end) along `dim`."""
    x = _coo_input(x, "index_select")
    d = wrap_dim(dim, x.ndim, "index_select")
    if (not isinstance(index, Tensor) or index._sparse_layout or index.ndim != 1
            or index.dtype is not dtypes.int64):
        raise IndexError("index_select() argument index must be 1-D strided (non-sparse) "
                         "long-tensor.")
    idx = index._data
    size = x.shape[d]
    if idx.shape[0] and (int(idx.min()) < -size or int(idx.max()) >= size):
        bad = int(idx.max()) if int(idx.max()) >= size else int(idx.min())
        raise IndexError(f"index_select(): index contains {bad} that is out of range for tensor "
                         f"of size [{', '.join(map(str, x.shape))}] at dimension {d}")
    idx = backend.to_device(idx % size if size else idx, x.device)
    return torch_named(_wrap(IndexSelect.apply(x, d, idx)), "IndexSelect")


def narrow_copy(x: SparseTensor, dim: int, start: int, length: int) -> SparseTensor:
    """A copy of `length` slices from `start` along `dim` (torch refuses the view `narrow`)."""
    x = _coo_input(x, "narrow_copy")
    d = wrap_dim(dim, x.ndim, "narrow_copy")
    size = x.shape[d]
    if not (0 <= start and length >= 0 and start + length <= size):
        raise RuntimeError(f"Invalid range to narrow. range(start, start+length) must be a "
                           f"subset of range(0, {size}).")
    return torch_named(_wrap(NarrowCopy.apply(x, d, int(start), int(length))), "NarrowCopy")


def unsqueeze(x: SparseTensor, dim: int) -> SparseTensor:
    x = _coo_input(x, "unsqueeze")
    d = wrap_dim(dim, x.ndim + 1, "unsqueeze")
    return torch_named(_wrap(Unsqueeze.apply(x, d)), "Unsqueeze")


def permute(x: SparseTensor, dims: Sequence[int]) -> SparseTensor:
    """Permute dims; sparse and dense dims may not trade places (as torch)."""
    x = _coo_input(x, "permute")
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(sparse_coo): duplicate dims are not allowed.")
    sdim = x._data.sparse_dim
    if sorted(dims[:sdim]) != list(range(sdim)):
        raise RuntimeError("permute(sparse_coo): transpositions between sparse and dense "
                           "dimensions are not allowed.Only transpositions within sparse and "
                           "dense dimensions are supported.")
    return torch_named(_wrap(Permute.apply(x, dims)), "Permute")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> SparseTensor:
    """cat of sparse COO tensors (same sparse and dense dims; dtypes already promoted)."""
    first = tensors[0]
    for i, t in enumerate(tensors):
        if not t._sparse_layout:
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at "
                               f"position {i}.")
        _coo_input(t, "cat")
    sdim, ddim = first.sparse_dim(), first.dense_dim()
    d = wrap_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if (t.sparse_dim(), t.dense_dim()) != (sdim, ddim):
            raise RuntimeError(f"All tensors must have the same sparse_dim and dense_dim: {sdim}, "
                               f"{ddim}, but tensor at position {i} has {t.sparse_dim()}, "
                               f"{t.dense_dim()}.")
        if any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(f"All tensors must have the same shape: "
                               f"[{', '.join(map(str, first.shape))}] (except in the "
                               f"concatenating dimension), but found shape: "
                               f"[{', '.join(map(str, t.shape))}] at position {i}.")
    return torch_named(_wrap(Cat.apply(*tensors, dim=d)), "Cat")


def stack(tensors: Sequence[Tensor], dim: int = 0) -> SparseTensor:
    """stack = cat of the tensors unsqueezed at `dim` (a sparse dim when dim <= sparse_dim)."""
    for i, t in enumerate(tensors):
        if not t._sparse_layout:
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at "
                               f"position {i}.")
    d = wrap_dim(dim, tensors[0].ndim + 1, "stack")
    return torch_named(cat([unsqueeze(t, d) for t in tensors], d), "Stack")


def _as_index(item: Any) -> int | None:
    """An integer key (int, numpy integer, 0-d integer tensor) as an int; None otherwise."""
    if isinstance(item, bool):
        return None
    if isinstance(item, Tensor):
        return int(item.item()) if item.ndim == 0 and item._data.dtype.kind in "iu" else None
    try:
        return operator.index(item)
    except TypeError:
        return None


def getitem(x: SparseTensor, key: Any) -> Tensor:
    """s[key] for integers, full slices, None and Ellipsis, as torch: an integer selects, None
    unsqueezes. torch refuses other slices (they would be strided views) and tensor indices."""
    items = []
    for item in key if isinstance(key, tuple) else (key,):
        if not (item is None or item is Ellipsis or isinstance(item, slice)):
            item = _as_index(item)
            if item is None:
                raise not_implemented("indexing with tensors, lists or booleans",
                                      x._data.layout_name)
        items.append(item)
    if not isinstance(key, tuple) and (isinstance(key, slice) or key is Ellipsis):
        raise not_implemented("slicing (a strided view)", x._data.layout_name)
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    if used > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    expanded: list = []
    for item in items:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - used))
            used = x.ndim  # a second Ellipsis adds nothing
        else:
            expanded.append(item)
    out: Tensor = x
    dim = source_dim = 0  # position in `out`, and in x (for torch's error messages)
    changed = False
    for position, item in enumerate(expanded):
        if not out._sparse_layout:  # no sparse dim left: the rest indexes a dense tensor
            return out[(slice(None),) * dim + tuple(expanded[position:])]
        if item is None:
            out, dim, changed = unsqueeze(out, dim), dim + 1, True
        elif isinstance(item, slice):
            start, stop, step = item.indices(out.shape[dim])
            if (start, stop, step) != (0, out.shape[dim], 1):
                raise not_implemented("slicing (a strided view)", x._data.layout_name)
            dim, source_dim = dim + 1, source_dim + 1
        else:
            i, size = item, out.shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {source_dim} with "
                                 f"size {size}")
            out, source_dim, changed = select(out, dim, i), source_dim + 1, True
    if not changed:  # torch would return an alias, which sparse tensors do not have
        raise not_implemented("slicing (a strided view)", x._data.layout_name)
    return out
