"""Embedding lookups and one-hot encoding."""

from __future__ import annotations

from typing import Any

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...autograd.node import Op
from ...backend import module_of, ufunc_at
from ...ops._util import shape_str
from ...ops.indexing import scatter_into_zeros
from ...tensor import Tensor


class Embedding(Op):
    """out[...] = weight[indices[...]]; the gradient adds each output row back to its row."""

    def forward(self, weight: Any, indices: Any, padding_idx: int | None,
                scale_by_freq: bool) -> Any:
        self.indices, self.shape = indices, weight.shape
        self.padding_idx, self.scale_by_freq = padding_idx, scale_by_freq
        return module_of(weight).take(weight, indices, axis=0)

    def backward(self, grad: Any) -> tuple:
        xp = module_of(self.indices)
        flat = self.indices.reshape(-1)
        rows = grad.reshape((-1, self.shape[1]))
        keep = None
        if self.scale_by_freq:
            counts = xp.zeros(self.shape[0], dtype="int64")
            ufunc_at("add", counts, flat, 1)
            keep = (1.0 / counts[flat]).astype(self.dtype_of(grad))[:, None]
        if self.padding_idx is not None:
            mask = (flat != self.padding_idx)[:, None]
            keep = mask if keep is None else keep * mask
        if keep is not None:
            rows = rows * keep
        return scatter_into_zeros(self.shape, (flat,), rows, True), None, None, None

    @staticmethod
    def dtype_of(grad: Any) -> Any:
        return grad.dtype.np if isinstance(grad, Tensor) else grad.dtype


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of `weight` (num_embeddings x dim) at the integer `input` indices."""
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of "
                           f"the following scalar types: Long, Int; but got {input.dtype} "
                           "instead")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D, got ({shape_str(weight.shape)})")
    n = weight.shape[0]
    idx = input._data
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of "
                         f"{n} rows (valid: 0..{n - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


def _renorm_rows(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """Rescale in place the looked-up rows whose norm exceeds max_norm (as torch does)."""
    xp = module_of(idx)
    rows = xp.unique(idx.reshape(-1))
    with no_grad():
        data = weight._data
        norms = xp.sum(xp.abs(data[rows]) ** norm_type, axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        data[rows] *= scale[:, None].astype(data.dtype)
        weight._bump_version()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dim."""
    data = tensor._data
    if data.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = module_of(data)
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num_classes):
        raise RuntimeError(f"one_hot: Class values must be in [0, {num_classes}), got values in "
                           f"[{int(data.min())}, {int(data.max())}]")
    out = (data[..., None] == xp.arange(num_classes)).astype(dtypes.int64.np)
    return Tensor._make(out)
