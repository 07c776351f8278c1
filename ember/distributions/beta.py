"""Beta(concentration1, concentration0) on (0, 1); rsample = X / (X + Y) with Gamma X, Y."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import _standard_gamma
from .utils import broadcast_all

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    """Density x^(a-1) (1-x)^(b-1) / B(a, b), a = concentration1, b = concentration0."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration1.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Beta:
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        super(Beta, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        # the Dirichlet's mode: (a-1)+ / ((a-1)+ + (b-1)+), and the vertex x = 1 when a, b < 1
        a1 = (self.concentration1 - 1).clamp(min=0.0)
        b1 = (self.concentration0 - 1).clamp(min=0.0)
        vertex = (self.concentration1 < 1) & (self.concentration0 < 1)
        return ember.where(vertex, ember.ones_like(a1), a1 / (a1 + b1))

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1.expand(shape))
        y = _standard_gamma(self.concentration0.expand(shape))
        tiny = ember.finfo(x.dtype).tiny
        eps = ember.finfo(x.dtype).eps
        return (x / (x + y)).clamp(min=tiny, max=1 - eps)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        log_beta = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(a + b)
        return ember.xlogy(a - 1, value) + ember.special.xlog1py(b - 1, -value) - log_beta

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        log_beta = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(total)
        return (log_beta - (a - 1) * ember.digamma(a) - (b - 1) * ember.digamma(b)
                + (total - 2) * ember.digamma(total))

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return ember.lgamma(x) + ember.lgamma(y) - ember.lgamma(x + y)  # log B(a, b)
