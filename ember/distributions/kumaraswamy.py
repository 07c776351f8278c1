"""Kumaraswamy(a, b): a Beta-like law on (0, 1) with a closed-form cdf, F(x) = 1 - (1 - x^a)^b.

Sampled by inverting F: X = (1 - U^(1/b))^(1/a), written as Uniform -> x^(1/b) -> 1 - x ->
x^(1/a) transforms (as in torch). Moments E[X^n] = b B(1 + n/a, b).
"""

from __future__ import annotations

import math
from typing import Any

import ember

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moments(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X^n] = b Gamma(1 + n/a) Gamma(b) / Gamma(1 + n/a + b)."""
    arg1 = 1 + n / a
    log_value = ember.lgamma(arg1) + ember.lgamma(b) - ember.lgamma(arg1 + b)
    return b * ember.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """Density a b x^(a-1) (1 - x^a)^(b-1) on (0, 1); a = concentration1, b = concentration0."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(ember.full_like(self.concentration0, 0),
                            ember.full_like(self.concentration0, 1), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Kumaraswamy:
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(Size(batch_shape))
        new.concentration0 = self.concentration0.expand(Size(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self) -> Tensor:
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        # ((a - 1) / (a b - 1))^(1/a), defined for a, b >= 1 (torch 2.x's formula swaps the
        # parameters and returns NaN everywhere; this is the textbook mode)
        a, b = self.concentration1, self.concentration0
        undefined = (b < 1) | (a < 1)
        a = ember.where(undefined, ember.full_like(a, 2.0), a)  # keep the logs finite there
        b = ember.where(undefined, ember.full_like(b, 2.0), b)
        log_mode = a.reciprocal() * ((a - 1).log() - (a * b - 1).log())
        return ember.where(undefined, ember.full_like(log_mode, math.nan), log_mode.exp())

    @property
    def variance(self) -> Tensor:
        return (_moments(self.concentration1, self.concentration0, 2)
                - ember.pow(self.mean, 2))

    def entropy(self) -> Tensor:
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        H0 = ember.digamma(self.concentration0 + 1) + euler_constant
        return (t0 + t1 * H0 - ember.log(self.concentration1)
                - ember.log(self.concentration0))
