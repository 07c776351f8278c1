"""linear_cross_entropy: cross_entropy(linear(x, W, b), target) without holding all the logits.

A language model's head turns N positions into N x C logits with C the vocabulary: with
N = 16k tokens and C = 50k that is 3 GiB of float32 kept for backward. With `options` given,
the batch is processed `batch_chunk_size` rows at a time, each chunk under activation
checkpointing: backward recomputes one chunk's logits at a time, so peak memory holds one
chunk's logits instead of all of them (at the price of running the head's matmul again).
Without `options` it is the reference composition, exactly F.cross_entropy(F.linear(...)).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

from ...tensor import Tensor


@dataclasses.dataclass
class LinearCrossEntropyOptions:
    """Chunking for linear_cross_entropy. `batch_chunk_size` rows per chunk (None: twice the
    input features, torch's 'aspect_ratio:2' rule). The other fields are torch's knobs for its
    fused kernels, accepted and kept; Ember's chunks always accumulate in the input's dtype."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None


def _reference(input: Tensor, linear_weight: Tensor, target: Tensor, linear_bias: Tensor | None,
               weight: Tensor | None, reduction: str, ignore_index: int,
               label_smoothing: float) -> Tensor:
    from . import cross_entropy, linear  # noqa: PLC0415

    extra = linear_weight.shape[1:-1]  # (d1, ..., dK) of a K-dimensional loss
    if extra:
        if input.ndim != 2:
            raise RuntimeError(f"linear_cross_entropy: a weight with out_features "
                               f"{tuple(extra)} needs a batched input (N, in_features), got "
                               f"shape {tuple(input.shape)}")
        c = linear_weight.shape[0]
        flat_w = linear_weight.reshape(-1, linear_weight.shape[-1])
        flat_b = None if linear_bias is None else linear_bias.reshape(-1)
        logits = linear(input, flat_w, flat_b).reshape((input.shape[0], c) + tuple(extra))
    else:
        logits = linear(input, linear_weight, linear_bias)
    return cross_entropy(logits, target, weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


def _chunked(input: Tensor, linear_weight: Tensor, target: Tensor, linear_bias: Tensor | None,
             weight: Tensor | None, reduction: str, ignore_index: int, label_smoothing: float,
             chunk: int) -> Tensor:
    """Per-chunk summed losses, each chunk checkpointed; 'mean' divides by torch's
    denominator (the total class weight of the targets that are not ignored)."""
    from ...utils.checkpoint import checkpoint  # noqa: PLC0415
    from . import cross_entropy, linear  # noqa: PLC0415

    def chunk_loss(x: Tensor, t: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        return cross_entropy(linear(x, w, b), t, weight, ignore_index=ignore_index,
                             reduction="sum", label_smoothing=label_smoothing)

    total = None
    for start in range(0, input.shape[0], chunk):
        x, t = input[start:start + chunk], target[start:start + chunk]
        part = checkpoint(chunk_loss, x, t, linear_weight, linear_bias, use_reentrant=False)
        total = part if total is None else total + part
    if reduction == "sum":
        return total
    valid = target != ignore_index
    if weight is None:
        denom = float(valid.sum().item())
    else:
        denom = float((weight[target.masked_fill(~valid, 0)] * valid).sum().item())
    return total / denom if denom else total * math.nan


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0,
                         options: LinearCrossEntropyOptions | None = None) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...); with `options`,
    chunked over the batch so the full logits are never kept (see the module docstring)."""
    index = -100 if ignore_index is None else ignore_index
    if options is None:
        return _reference(input, linear_weight, target, linear_bias, weight, reduction, index,
                          label_smoothing)
    if not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"linear_cross_entropy: options must be a LinearCrossEntropyOptions or "
                        f"None, got {type(options).__name__}")
    chunkable = (input.ndim == 2 and linear_weight.ndim == 2 and reduction in ("mean", "sum")
                 and target.ndim == 1 and target._data.dtype.kind in "iu")
    if not chunkable:
        warnings.warn("linear_cross_entropy: the chunked path supports 2-D input, a (C, in) "
                      "weight, class-index targets and reduction 'mean' or 'sum'; using the "
                      "reference path", UserWarning, stacklevel=2)
        return _reference(input, linear_weight, target, linear_bias, weight, reduction, index,
                          label_smoothing)
    chunk = options.batch_chunk_size or max(1, 2 * input.shape[1])
    if chunk <= 0:
        raise ValueError(f"linear_cross_entropy: batch_chunk_size must be positive, got {chunk}")
    return _chunked(input, linear_weight, target, linear_bias, weight, reduction, index,
                    label_smoothing, chunk)
