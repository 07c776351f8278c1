"""Distances and similarities between vectors."""

from __future__ import annotations

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...ops._util import torch_named
from ...ops.shape import broadcast_tensors
from ...ops.toplevel import cdist, pdist  # noqa: F401 (torch.cdist and F.cdist are one function)
from ...tensor import Tensor


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (eps keeps the gradient finite at 0)."""
    return torch_named((x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim), "NormBackward1")


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along `dim` of the broadcast inputs.

    As torch, the norms are clamped under no_grad: the gradient flows through them unclamped.
    """
    if eps < 0:
        raise RuntimeError(f"cosine_similarity: eps must be non-negative, got: {eps}")
    common = dtypes.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"cosine_similarity: expected common dtype to be floating point, yet "
                           f"common dtype is {common}")
    # torch casts only integer inputs: a float16 x1 beside a float32 x2 is normed in float16
    x1, x2 = (x if x.is_floating_point() else x.to(common) for x in (x1, x2))
    x1, x2 = broadcast_tensors(x1, x2)
    n1 = x1.norm(dim=dim, keepdim=True).clone()
    n2 = x2.norm(dim=dim, keepdim=True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)
