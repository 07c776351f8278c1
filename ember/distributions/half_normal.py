"""HalfNormal(scale): |Y| for Y ~ Normal(0, scale), as a TransformedDistribution (as in torch).

Density 2 N(x; 0, scale) on x >= 0; mean scale sqrt(2 / pi), variance scale^2 (1 - 2 / pi).
"""

from __future__ import annotations

import math

from ..tensor import Tensor
from .folded import FoldedAtZero
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(FoldedAtZero):
    """Density 2 N(x; 0, scale) on x >= 0."""

    base = Normal

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)
