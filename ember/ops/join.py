"""Joining and splitting: cat, stack, split, chunk, unbind, tensor_split, hstack, vstack."""

from __future__ import annotations

import math
from typing import Any, Sequence

from .. import backend, dtypes
from ..autograd.node import Op
from ..tensor import Tensor
from ._util import shape_str, torch_named, wrap_dim


class Cat(Op):
    def forward(self, *arrays: Any, dim: int) -> Any:
        self.dim = dim
        self.sizes = [a.shape[dim] for a in arrays]
        xp = backend.module_of(arrays[0])  # numpy keeps transposed inputs' order; torch doesn't
        return xp.ascontiguousarray(xp.concatenate(arrays, axis=dim))

    def backward(self, grad: Any) -> tuple:
        # each input gets back its own slice of the gradient
        lead = (slice(None),) * self.dim
        out, start = [], 0
        for need, n in zip(self.next_edges, self.sizes):
            out.append(grad[lead + (slice(start, start + n),)] if need else None)
            start += n
        return tuple(out)


class Stack(Op):
    def forward(self, *arrays: Any, dim: int) -> Any:
        self.dim = dim
        xp = backend.module_of(arrays[0])
        return xp.ascontiguousarray(xp.stack(arrays, axis=dim))

    def backward(self, grad: Any) -> tuple:
        lead = (slice(None),) * self.dim
        return tuple(grad[lead + (i,)] if need else None
                     for i, need in enumerate(self.next_edges))


def _common_dtype(op: str, tensors: Sequence[Tensor]) -> list:
    if isinstance(tensors, Tensor):  # cat(x, y): a forgotten list
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"Tensor (write {op}([a, b]), not {op}(a, b))")
    if not tensors:
        error = ValueError if op == "cat" else RuntimeError  # torch's choice
        raise error(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, but element {i} is "
                            f"{type(t).__name__}")
    target = tensors[0].dtype
    for t in tensors[1:]:
        target = dtypes.promote_types(target, t.dtype)
    return [t if t._data.dtype == target.np else t.to(target) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None,
        axis: Any = None) -> Tensor:
    if axis is not None:  # numpy's name, as torch
        dim = axis
    tensors = _common_dtype("cat", tensors if isinstance(tensors, Tensor) else list(tensors))
    if tensors[0]._sparse_layout:  # sparse COO inputs (ops/sparse_index.py)
        from .sparse_index import cat as sparse_cat  # noqa: PLC0415

        return sparse_cat(tensors, dim)
    # torch skips legacy empty 1-d tensors of shape (0,)
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    if not kept:
        return tensors[0].clone()
    ref = kept[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd, "cat")
    for i, t in enumerate(kept):
        if t._data.ndim != nd:
            raise RuntimeError(
                f"cat: Tensors must have same number of dimensions: got {nd} and "
                f"{t._data.ndim} (shapes ({shape_str(ref.shape)}) and ({shape_str(t.shape)}))"
            )
        for ax in range(nd):
            if ax != d and t._data.shape[ax] != ref._data.shape[ax]:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref._data.shape[ax]} but got size {t._data.shape[ax]} for tensor number "
                    f"{i} in the list (shapes ({shape_str(ref.shape)}) and "
                    f"({shape_str(t.shape)}))"
                )
    result = Cat.apply(*kept, dim=d)
    if out is not None:
        from .inplace import copy_into_out  # noqa: PLC0415

        return copy_into_out(out, result)
    return result


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = None) -> Tensor:
    if axis is not None:  # numpy's name, as torch
        dim = axis
    tensors = _common_dtype("stack", tensors if isinstance(tensors, Tensor) else list(tensors))
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t._data.shape != ref._data.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got [{', '.join(map(str, ref.shape))}] "
                f"at entry 0 and [{', '.join(map(str, t.shape))}] at entry {i}"
            )
    if ref._sparse_layout:  # sparse COO inputs (ops/sparse_index.py)
        from .sparse_index import stack as sparse_stack  # noqa: PLC0415

        return sparse_stack(tensors, dim)
    d = wrap_dim(dim, ref._data.ndim + 1, "stack")
    return Stack.apply(*tensors, dim=d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    tensors = [t.reshape(1) if t._data.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    from .shape import atleast_2d  # noqa: PLC0415

    tensors = list(tensors)
    if tensors and tensors[0]._sparse_layout:  # a sparse vector becomes a row by unsqueeze
        return cat([t.unsqueeze(0) if t.ndim == 1 else t for t in tensors], 0)
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    out = []
    for t in tensors:
        if t._data.ndim == 0:
            t = t.reshape(1, 1, 1)
        elif t._data.ndim == 1:
            t = t.reshape(1, -1, 1)
        elif t._data.ndim == 2:
            t = t.unsqueeze(-1)
        out.append(t)
    return cat(out, 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    cols = [t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def _narrow_key(dim: int, start: int, length: int) -> tuple:
    return (slice(None),) * dim + (slice(start, start + length),)


def _pieces(tensor: Tensor, sections: list, d: int, name: str | None) -> tuple:
    """Consecutive views of the given sizes along d, shown as torch's node `name` if given."""
    from .indexing import getitem  # noqa: PLC0415

    out, start = [], 0
    for s in sections:
        piece = getitem(tensor, _narrow_key(d, start, s))
        out.append(piece if name is None else torch_named(piece, name))
        start += s
    return tuple(out)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Views of consecutive pieces: equal pieces of a given size, or the given section sizes."""
    d = wrap_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int) or isinstance(split_size_or_sections, Tensor):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        # an empty dim still gives one (empty) piece, as torch
        sections = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
        name = "Split"
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sections}"
            )
        name = "SplitWithSizes"
    return _pieces(tensor, sections, d, name)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[d]
    size = max(math.ceil(n / chunks), 1) if n else 0
    if size == 0:
        return _pieces(input, [0] * chunks, d, "Split") if n == 0 else ()
    return split(input, size, d)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    d = wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor) and indices_or_sections._data.ndim == 0:
        indices_or_sections = int(indices_or_sections)  # a 0-d tensor is a number of sections
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {k}")
        base, extra = divmod(n, k)
        sizes = [base + 1] * extra + [base] * (k - extra)
        return _pieces(input, sizes, d, None)  # torch's pieces are plain slices
    from .indexing import getitem  # noqa: PLC0415

    # piece i is input[idx[i - 1]:idx[i]] along d, with Python's slicing of each bound (negative
    # indices count from the end; a bound below the previous one gives an empty piece)
    bounds = [None] + [int(i) for i in indices_or_sections] + [None]
    lead = (slice(None),) * d
    return tuple(getitem(input, lead + (slice(a, b),))
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    from .indexing import getitem  # noqa: PLC0415

    d = wrap_dim(dim, input._data.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(torch_named(getitem(input, lead + (i,)), "Unbind")
                 for i in range(input._data.shape[d]))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    from .indexing import getitem  # noqa: PLC0415

    d = wrap_dim(dim, input._data.ndim, "narrow")
    n = input._data.shape[d]
    start = int(start)
    if not -n <= start <= n:  # torch's errors: IndexError for start, RuntimeError for length
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}],"
                         f" but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    return getitem(input, _narrow_key(d, start, length))
