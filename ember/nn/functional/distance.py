"""Distances and similarities between vectors."""

from __future__ import annotations

from ...ops._util import torch_named
from ...ops.toplevel import cdist, pdist  # noqa: F401 (torch.cdist and F.cdist are one function)
from ...tensor import Tensor


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (eps keeps the gradient finite at 0)."""
    return torch_named((x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim), "NormBackward1")


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along `dim` (inputs broadcast)."""
    n1 = x1.norm(dim=dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(dim=dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)

