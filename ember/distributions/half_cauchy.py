"""HalfCauchy(scale): |Y| for Y ~ Cauchy(0, scale), as a TransformedDistribution (as in torch).

Density 2 / (pi scale (1 + (x / scale)^2)) on x >= 0; mean and variance are infinite.
"""

from __future__ import annotations

import math

import ember

from ..tensor import Tensor
from .cauchy import Cauchy
from .folded import FoldedAtZero

__all__ = ["HalfCauchy"]


class HalfCauchy(FoldedAtZero):
    """A heavy-tailed prior on scales (e.g. for hierarchical models)."""

    base = Cauchy

    @property
    def mean(self) -> Tensor:
        return ember.full(self._extended_shape(), math.inf, dtype=self.scale.dtype,
                          device=self.scale.device)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
