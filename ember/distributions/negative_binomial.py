"""NegativeBinomial(total_count, probs | logits): successes before total_count failures.

P(k) = C(k + r - 1, k) p^k (1 - p)^r for k = 0, 1, ... with r = total_count (real r > 0
allowed) and p = probs. Sampled as a Gamma-Poisson mixture: k ~ Poisson(lambda) with
lambda ~ Gamma(r, (1 - p) / p).
"""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import BinaryProbs
from .gamma import Gamma
from .utils import draw_elementwise, lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryProbs):
    """Number of successes (probability probs each) before total_count failures."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        (count,) = self._init_probs_or_logits(probs, logits, total_count)
        self.total_count = count.type_as(self._param)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_probs_or_logits(new, batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.total_count * ember.exp(self.logits)  # r p / (1 - p)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / ember.sigmoid(-self.logits)  # r p / (1 - p)^2

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=ember.exp(-self.logits),
                     validate_args=False)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            rate = self._gamma.sample(sample_shape)
            return draw_elementwise(ember.poisson, rate)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # r log(1 - p) + k log p - log[Gamma(r) k! / Gamma(r + k)], via log-sigmoids of the logits
        log_unnormalized_prob = (self.total_count * F.logsigmoid(-self.logits)
                                 + value * F.logsigmoid(self.logits))
        log_normalization = (-ember.lgamma(self.total_count + value)
                             + ember.lgamma(1.0 + value) + ember.lgamma(self.total_count))
        # r + k = 0 only at k = 0 for r = 0, where P(0) = 1
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
