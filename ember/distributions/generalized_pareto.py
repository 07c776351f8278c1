"""GeneralizedPareto(loc, scale, concentration): the law of threshold exceedances.

With z = (x - loc) / scale and xi = concentration: the survival function is
(1 + xi z)^(-1/xi) (e^-z at xi = 0), so rsample inverts the cdf of a uniform draw.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Support [loc, inf) for xi >= 0, [loc, loc - scale / xi] for xi < 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any,
                 validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(Size() if scalar else self.loc.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> GeneralizedPareto:
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _safe_concentration(self) -> tuple:
        """(xi == 0 mask, xi with zeros replaced by ones) so both branches stay finite."""
        eq_zero = ember.isclose(self.concentration, ember.zeros_like(self.concentration))
        safe = ember.where(eq_zero, ember.ones_like(self.concentration), self.concentration)
        return eq_zero, safe

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = ember.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # log p = -log scale - (1 / xi + 1) log(1 + xi z)   (-z at xi = 0)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ember.ones_like(z)
        where_nonzero = ember.where(y == 0, y, y * ember.log1p(safe_conc * z))
        return -self.scale.log() - ember.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log P(X > x) = -log(1 + xi z) / xi   (-z at xi = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ember.log1p(safe_conc * z) / safe_conc
        return ember.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value: Tensor) -> Tensor:
        return ember.log1p(-ember.exp(self.log_survival_function(value)))

    def cdf(self, value: Tensor) -> Tensor:
        return ember.exp(self.log_cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        # x = loc + scale / xi ((1 - u)^(-xi) - 1)   (loc - scale log(1 - u) at xi = 0)
        eq_zero, safe_conc = self._safe_concentration()
        logu = ember.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * ember.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return ember.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        safe_conc = ember.where(valid, self.concentration,
                                ember.full_like(self.concentration, 0.5))
        result = self.loc + self.scale / (1 - safe_conc)
        return ember.where(valid, result, ember.full_like(result, math.nan))

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        safe_conc = ember.where(valid, self.concentration,
                                ember.full_like(self.concentration, 0.25))
        result = self.scale**2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ember.where(valid, result, ember.full_like(result, math.nan))

    def entropy(self) -> Tensor:
        ans = ember.log(self.scale) + self.concentration + 1
        return ans.expand(self._batch_shape)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:
        lower = self.loc
        upper = ember.where(self.concentration < 0, lower - self.scale / self.concentration,
                            ember.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
