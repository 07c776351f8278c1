"""More shape and placement ops built from the primitive ones: select, diag_embed, block_diag,
rot90, atleast_3d, kron, addr, masked_scatter, put, and the in-place view changers
(squeeze_, unsqueeze_, t_, transpose_).

Being compositions of differentiable ops, their gradients need no code of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._util import torch_named, wrap_dim


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """input[..., index, ...] along dim (the dim is removed)."""
    d = wrap_dim(dim, input.dim(), "select")
    n = input.shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return input[(slice(None),) * d + (i,)]


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with the last dim of input on their `offset` diagonal (in dims dim1, dim2)."""
    from ..creation import diag  # noqa: PLC0415
    from .join import stack  # noqa: PLC0415

    n = input.shape[-1] + abs(offset)
    flat = input.reshape(-1, input.shape[-1])
    mats = stack([diag(row, offset) for row in flat.unbind(0)]) if flat.shape[0] else \
        input.new_zeros((0, n, n))
    out = mats.reshape(*input.shape[:-1], n, n)
    nd = out.dim()
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if (d1, d2) != (nd - 2, nd - 1):
        out = out.movedim((nd - 2, nd - 1), (d1, d2)).contiguous()  # a new tensor in torch
    return torch_named(out, "DiagEmbed")


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix with the inputs (0-, 1- or 2-D) as its blocks."""
    from .join import cat  # noqa: PLC0415

    blocks = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    if not blocks:
        from ..creation import zeros  # noqa: PLC0415

        return zeros(1, 0)
    from .. import dtypes  # noqa: PLC0415

    target = blocks[0].dtype
    for b in blocks[1:]:
        target = dtypes.promote_types(target, b.dtype)
    cols = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = []
        if left:
            parts.append(b.new_zeros((r, left), dtype=target))
        parts.append(b.to(target))
        if cols - left - c:
            parts.append(b.new_zeros((r, cols - left - c), dtype=target))
        rows.append(cat(parts, 1))
        left += c
    return torch_named(cat(rows, 0), "BlockDiag")


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims (from the first toward the second)."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = (wrap_dim(d, input.dim(), "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        out = input.flip(d1).transpose(d0, d1)
    elif k == 2:
        out = input.flip(d0, d1)
    elif k == 3:
        out = input.flip(d0).transpose(d0, d1)
    else:
        out = input.clone()
    return torch_named(out, "Rot90")


def atleast_3d(*tensors: Any) -> Any:
    from .shape import each_tensor  # noqa: PLC0415

    def one(input: Tensor) -> Tensor:
        nd = input.dim()
        if nd == 0:
            return input.reshape(1, 1, 1)
        if nd == 1:
            return input.reshape(1, -1, 1)
        if nd == 2:
            return input.unsqueeze(-1)
        return input

    return each_tensor(one, tensors)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: every element of input scales a copy of other."""
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.dim()) + tuple(other.shape))
    # interleave: a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...)
    a_shape, b_shape, out_shape = [], [], []
    for sa, sb in zip(a.shape, b.shape, strict=True):
        a_shape += [sa, 1]
        b_shape += [1, sb]
        out_shape.append(sa * sb)
    return torch_named((a.reshape(a_shape) * b.reshape(b_shape)).reshape(out_shape), "UnsafeView")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    outer = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    out = alpha * outer + input * 0 if beta == 0 else beta * input + alpha * outer
    return torch_named(out, "Addr")


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Copy source's leading elements, in order, into the positions where mask is True."""
    from ._util import broadcast_shapes  # noqa: PLC0415
    from .indexing import _index_put_key  # noqa: PLC0415
    from .shape import broadcast_to  # noqa: PLC0415

    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype}")
    shape = broadcast_shapes(input.shape, mask.shape)  # out of place, self and mask broadcast
    if tuple(input.shape) != tuple(shape):
        input = input.expand(shape)
    m = broadcast_to(mask, shape)
    xp = backend.module_of(m._data)
    count = int(xp.count_nonzero(m._data))
    if source.numel() < count:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           f"as ones in mask ({count}), got {source.numel()}")
    values = source.reshape(-1)[:count].to(input.dtype)
    return torch_named(_index_put_key(input, (m._data,), values, False), "MaskedScatter")


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """input with source written at index into its flattened view."""
    from .indexing import index_put  # noqa: PLC0415

    flat = input.reshape(-1)
    n = flat.shape[0]
    idx = index.reshape(-1)
    if idx.numel() and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"put_(): Expected a flat index in range [{-n}, {n - 1}] ")
    out = index_put(flat, (idx,), source.reshape(-1).to(input.dtype), accumulate)
    return torch_named(out.reshape(input.shape), "Put")
