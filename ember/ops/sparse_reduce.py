"""Reductions over sparse COO tensors: torch.sparse.sum, softmax and log_softmax.

Both read their input coalesced (one value per coordinate), so their gradients, one value
per coordinate too, are never counted twice.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd.node import Op
from ..sparse.storage import COO, linearize, scatter_add
from ..sparse.tensor import SparseTensor, sparse_apply
from ..tensor import Tensor
from ._util import wrap_dim
from .sparse_coo import as_sparse, dense_of, grad_at, raw


class Sum(Op):
    """Sum over some dims: sparse while sparse dims remain, dense otherwise (torch.sparse.sum)."""

    def forward(self, x: COO, dims: tuple) -> Any:
        self.x, self.dims = x, dims
        xp = backend.module_of(x.values)
        sdim = x.sparse_dim
        kept_sparse = [d for d in range(sdim) if d not in dims]
        dense_axes = tuple(1 + d - sdim for d in dims if d >= sdim)
        values = x.values.sum(axis=dense_axes) if dense_axes else x.values
        self.kept_sparse, self.dense_axes = kept_sparse, dense_axes
        if not kept_sparse:
            return values.sum(axis=0) if x.nnz else xp.zeros(values.shape[1:], values.dtype)
        shape = tuple(x.shape[d] for d in kept_sparse) + tuple(
            n for d, n in enumerate(x.shape) if d >= sdim and d not in dims)
        return COO(x.indices[kept_sparse], values, shape, False).coalesce()

    def backward(self, grad: Any) -> tuple:
        g = raw(grad, "sum")
        x = self.x.coalesce()  # one value per coordinate: repeats would count twice
        xp = backend.module_of(x.values)
        if self.kept_sparse:
            per = grad_at(g, x.indices[self.kept_sparse])
        else:
            per = xp.broadcast_to(dense_of(g), (x.nnz,) + tuple(g.shape))
        for axis in self.dense_axes:
            per = xp.expand_dims(per, axis)
        return x.like(xp.broadcast_to(per, x.values.shape).copy(), coalesced=True), None


class Softmax(Op):
    """softmax (or log_softmax) over the specified entries along `dim`; unspecified entries
    count as -inf, so they stay out (torch.sparse.softmax). Works on the coalesced input."""

    def forward(self, x: COO, dim: int, log: bool) -> COO:
        xp = backend.module_of(x.values)
        c = x.coalesce()
        values = c.values
        if dim >= c.sparse_dim:  # a dense dim: an ordinary softmax inside each entry
            axis = 1 + dim - c.sparse_dim
            shifted = values - values.max(axis=axis, keepdims=True)
            lse = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
            self.groups = None
        else:  # entries sharing every other sparse coordinate form one group
            others = [d for d in range(c.sparse_dim) if d != dim]
            key = linearize(c.indices[others], tuple(c.shape[d] for d in others))
            _, group = xp.unique(key, return_inverse=True)
            group = group.reshape(-1)
            count = int(group.max()) + 1 if c.nnz else 0
            top = xp.full((count,) + values.shape[1:], -xp.inf, dtype=values.dtype)
            backend.ufunc_at("maximum", top, group, values)
            shifted = values - top[group]
            total = xp.zeros((count,) + values.shape[1:], dtype=values.dtype)
            scatter_add(total, group, xp.exp(shifted))
            lse = xp.log(total)[group]
            self.groups = (group, count)
        out = shifted - lse
        if not log:
            out = xp.exp(out)
        self.pattern, self.out, self.dim, self.log = c, out, dim, log
        return c.like(out, coalesced=True)

    def backward(self, grad: Any) -> tuple:
        c, out = self.pattern, self.out
        xp = backend.module_of(out)
        g = grad_at(raw(grad, "softmax"), c.indices)
        prob = xp.exp(out) if self.log else out
        weighted = g if self.log else g * out  # log: dx = g - p * sum(g); else p * (g - sum(g p))
        if self.groups is None:
            axis = 1 + self.dim - c.sparse_dim
            total = weighted.sum(axis=axis, keepdims=True)
        else:
            group, count = self.groups
            sums = xp.zeros((count,) + out.shape[1:], dtype=out.dtype)
            scatter_add(sums, group, weighted)
            total = sums[group]
        gx = g - prob * total if self.log else out * (g - total)
        return c.like(gx, coalesced=True), None, None


def sparse_sum(x: SparseTensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """Sum over `dim` (all dims when None): dense when no sparse dim remains (torch.sparse.sum)."""
    x = as_sparse(x, "sparse.sum")
    if dtype is not None:
        x = x.to(dtype)
    dims = tuple(range(x.ndim)) if dim is None else (
        (dim,) if isinstance(dim, int) else tuple(dim))
    dims = tuple(sorted({wrap_dim(d, x.ndim) for d in dims}))
    out = Sum.apply(x, dims)
    if isinstance(out._data, COO):
        out.__class__ = SparseTensor
    return out


def softmax(x: SparseTensor, dim: int, dtype: Any = None, log: bool = False) -> SparseTensor:
    x = as_sparse(x, "sparse.softmax")
    if dtype is not None:
        x = x.to(dtype)
    return sparse_apply(Softmax, x, wrap_dim(dim, x.ndim), log)
