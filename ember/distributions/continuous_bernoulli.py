"""ContinuousBernoulli(probs | logits): the [0, 1]-valued density p(x) = C(l) l^x (1 - l)^(1-x)
(Loaiza-Ganem & Cunningham, 2019), the right likelihood for VAEs on [0, 1] data.

The normaliser C(l) = 2 atanh(1 - 2l) / (1 - 2l) has a removable singularity at l = 1/2: inside
`lims` the mean, variance and log C use their Taylor expansions around 1/2.
rsample inverts the cdf of a uniform draw, so gradients reach probs/logits.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember
import ember.nn.functional as F

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Continuous relaxation of a Bernoulli with a proper normalising constant."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 lims: tuple = (0.499, 0.501), validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            validate = Distribution._validate_args if validate_args is None else validate_args
            # checked before clamping: clamped values would always pass
            if validate and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        self._lims = lims
        super().__init__(Size() if is_scalar else self._param.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ContinuousBernoulli:
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = Size(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """probs, with the unstable region near 1/2 replaced by lims[0] (then unused)."""
        return ember.where(self._outside_unstable_region(), self.probs,
                           self._lims[0] * ember.ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(l) = log |log(1 - l) - log l| - log |1 - 2l|, log 2 + ... near l = 1/2."""
        cut_probs = self._cut_probs()
        below_half = ember.where(cut_probs <= 0.5, cut_probs, ember.zeros_like(cut_probs))
        above_half = ember.where(cut_probs >= 0.5, cut_probs, ember.ones_like(cut_probs))
        log_abs_logit = ember.log(ember.abs(ember.log1p(-cut_probs) - ember.log(cut_probs)))
        log_abs_1m2l = ember.where(cut_probs <= 0.5, ember.log1p(-2.0 * below_half),
                                   ember.log(2.0 * above_half - 1.0))
        log_norm = log_abs_logit - log_abs_1m2l
        x = ember.pow(self.probs - 0.5, 2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ember.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (
            ember.log1p(-cut_probs) - ember.log(cut_probs))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * ember.pow(x, 2)) * x
        return ember.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        return ember.sqrt(self.variance)

    @property
    def variance(self) -> Tensor:
        cut_probs = self._cut_probs()
        variances = (cut_probs * (cut_probs - 1.0) / ember.pow(1.0 - 2.0 * cut_probs, 2)
                     + 1.0 / ember.pow(ember.log1p(-cut_probs) - ember.log(cut_probs), 2))
        x = ember.pow(self.probs - 0.5, 2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ember.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = ember.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # x log l + (1 - x) log(1 - l) = -BCE(logits, x), plus log C(l)
        return (-F.binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._cont_bern_log_norm())

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (ember.pow(cut_probs, value) * ember.pow(1.0 - cut_probs, 1.0 - value)
                + cut_probs - 1.0) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = ember.where(self._outside_unstable_region(), cdfs, value)
        return ember.where(value <= 0.0, ember.zeros_like(value),
                           ember.where(value >= 1.0, ember.ones_like(value), unbounded_cdfs))

    def icdf(self, value: Tensor) -> Tensor:
        # x = [log(1 - l + u (2l - 1)) - log(1 - l)] / [log l - log(1 - l)]
        cut_probs = self._cut_probs()
        inverted = ((ember.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0))
                     - ember.log1p(-cut_probs))
                    / (ember.log(cut_probs) - ember.log1p(-cut_probs)))
        return ember.where(self._outside_unstable_region(), inverted, value)

    def entropy(self) -> Tensor:
        log_probs0 = ember.log1p(-self.probs)
        log_probs1 = ember.log(self.probs)
        return (self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm()
                - log_probs0)

    @property
    def _natural_params(self) -> tuple:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """F(eta) = log((e^eta - 1) / eta), with its Taylor series near eta = 0."""
        out_unst_reg = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut_nat_params = ember.where(out_unst_reg, x,
                                     (self._lims[0] - 0.5) * ember.ones_like(x))
        log_norm = (ember.log(ember.abs(ember.expm1(cut_nat_params)))
                    - ember.log(ember.abs(cut_nat_params)))
        taylor = 0.5 * x + ember.pow(x, 2) / 24.0 - ember.pow(x, 4) / 2880.0
        return ember.where(out_unst_reg, log_norm, taylor)
