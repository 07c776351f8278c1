"""Embedding lookups and one-hot encoding."""

from __future__ import annotations

from typing import Any

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...autograd.node import Op
from ...backend import module_of, ufunc_at
from ...ops._util import shape_str, torch_named
from ...ops.indexing import scatter_into_zeros
from ...tensor import Tensor


class Embedding(Op):
    """out[...] = weight[indices[...]]; the gradient adds each output row back to its row
    (or, with sparse=True, is a sparse COO tensor of those rows, uncoalesced as torch's)."""

    def forward(self, weight: Any, indices: Any, padding_idx: int | None,
                scale_by_freq: bool, sparse: bool = False) -> Any:
        self.indices, self.shape = indices, weight.shape
        self.padding_idx, self.scale_by_freq, self.sparse = padding_idx, scale_by_freq, sparse
        return module_of(weight).take(weight, indices, axis=0)

    def backward(self, grad: Any) -> tuple:
        if self.sparse:
            return self.sparse_backward(grad), None, None, None, None
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
        return scatter_into_zeros(self.shape, (flat,), rows, True), None, None, None, None

    def sparse_backward(self, grad: Any) -> Any:
        """indices = the looked-up rows (padding_idx left out), values = the gradient rows."""
        from ...sparse.storage import COO  # noqa: PLC0415 (ember.sparse imports nn)

        if self.scale_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        if isinstance(grad, Tensor):
            raise NotImplementedError("embedding(sparse=True): double backward "
                                      "(create_graph=True) is not supported")
        flat = self.indices.reshape(-1) % self.shape[0]
        rows = grad.reshape((-1, self.shape[1]))
        if self.padding_idx is not None:
            keep = flat != self.padding_idx
            flat, rows = flat[keep], rows[keep]
        return COO(flat.astype(dtypes.int64.np)[None], rows, self.shape)

    @staticmethod
    def dtype_of(grad: Any) -> Any:
        return grad.dtype.np if isinstance(grad, Tensor) else grad.dtype


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of `weight` (num_embeddings x dim) at the integer `input` indices."""
    if input._data.dtype not in (dtypes.int64.np, dtypes.int32.np):
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of "
                           f"the following scalar types: Long, Int; but got {input.dtype} "
                           "instead")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D, got ({shape_str(weight.shape)})")
    n = weight.shape[0]
    if padding_idx is not None and not -n <= padding_idx < n:  # torch: an assert
        raise AssertionError(f"embedding: Padding_idx must be within num_embeddings (got "
                             f"padding_idx={padding_idx} for {n} embeddings)")
    idx = input._data
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < 0):  # torch: no negative indices
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of "
                         f"{n} rows (valid: 0..{n - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq, sparse)


def _renorm_rows(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """Rescale in place the looked-up rows whose norm exceeds max_norm (as torch does)."""
    xp = module_of(idx)
    rows = xp.unique(idx.reshape(-1))
    with no_grad():
        data = weight._data
        if norm_type == float("inf"):
            norms = xp.max(xp.abs(data[rows]), axis=1)
        elif norm_type == 0:  # the count of nonzero entries, as torch's norm(p=0)
            norms = xp.count_nonzero(data[rows], axis=1).astype(data.dtype)
        else:
            norms = xp.sum(xp.abs(data[rows]) ** norm_type, axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        data[rows] *= scale[:, None].astype(data.dtype)
        weight._bump_version()


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the embeddings of each bag of indices, without the (L, dim)
    intermediate being kept per bag.

    Bags are the rows of a 2-D `input`, or slices of a 1-D `input` starting at `offsets`.
    Entries equal to `padding_idx` are left out (and not counted by the mean); an empty bag
    gives zeros.
    """
    from ... import creation  # noqa: PLC0415

    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences.")
        bags, length = input.shape
        starts = [b * length for b in range(bags)]
        ends = [(b + 1) * length for b in range(bags)]
        flat = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor")
        bounds = [int(o) for o in offsets.tolist()]
        if bounds and bounds[0] != 0:
            raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence "
                               f"in the mini-batch has to start from position 0. However, got "
                               f"{bounds[0]}")
        if bounds and bounds[-1] > input.shape[0]:
            raise RuntimeError(f"embedding_bag: offsets[-1] can not be greater than input's "
                               f"length {input.shape[0]} but got offsets[-1] of {bounds[-1]}")
        if include_last_offset:
            starts, ends = bounds[:-1], bounds[1:]
        else:
            starts, ends = bounds, bounds[1:] + [input.shape[0]]
        flat = input
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {input.ndim}")
    n = weight.shape[0]
    if padding_idx is not None and not -n <= padding_idx < n:
        raise RuntimeError(f"embedding_bag: padding_idx must be within the number of "
                           f"embeddings, {-n} through {n - 1}, but got {padding_idx}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                     sparse)  # (L, dim); padding rows get no gradient (none at all if sparse)
    idx = flat._data
    xp = module_of(idx)
    keep = xp.ones(idx.shape, dtype=bool) if padding_idx is None else idx != padding_idx
    if mode == "max":
        parts = []
        for a, b in zip(starts, ends):
            picked = xp.nonzero(keep[a:b])[0] + a
            if picked.size:
                parts.append(rows[Tensor._make(picked)].max(0).values)
            else:
                parts.append(creation.zeros(weight.shape[1], dtype=weight.dtype,
                                            device=weight.device))
        from ...ops.join import stack  # noqa: PLC0415

        if not parts:
            return creation.zeros(0, weight.shape[1], dtype=weight.dtype)
        return torch_named(stack(parts), "EmbeddingBag")
    # sum / mean: one (bags, L) matrix of bag memberships times the (L, dim) rows
    member = xp.zeros((len(starts), idx.shape[0]), dtype=weight._data.dtype)
    for bag, (a, b) in enumerate(zip(starts, ends)):
        member[bag, a:b] = keep[a:b]
        if mode == "mean":
            count = int(keep[a:b].sum())
            if count:
                member[bag, a:b] /= count
    matrix = Tensor._make(member)
    if per_sample_weights is not None:
        matrix = matrix * per_sample_weights.unsqueeze(0)
    return torch_named(matrix @ rows, "EmbeddingBag")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dim."""
    data = tensor._data
    if data.dtype != dtypes.int64.np:  # torch: int64 only, not int32
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(got {tensor.dtype}).")
    xp = module_of(data)
    if not data.size and num_classes <= 0:
        raise RuntimeError(f"one_hot: Can not infer total number of classes from empty tensor "
                           f"(num_classes={num_classes}).")
    if num_classes == -1:
        num_classes = int(data.max()) + 1
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num_classes):
        raise RuntimeError(f"one_hot: Class values must be in [0, {num_classes}), got values in "
                           f"[{int(data.min())}, {int(data.max())}]")
    out = (data[..., None] == xp.arange(num_classes)).astype(dtypes.int64.np)
    return Tensor._make(out)
