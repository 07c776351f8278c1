"""ExponentialFamily: densities p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)).

Subclasses give the natural parameters theta, the log normaliser F and the mean carrier
measure E[k(x)]; entropy (and the same-family KL in kl.py) then follow from the Bregman
divergence of F, with grad F(theta) = E[t(x)] taken by autograd (Nielsen & Nock).
"""

from __future__ import annotations

from typing import Any

import ember

from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential families: entropy from the log normaliser by autograd."""

    @property
    def _natural_params(self) -> tuple:
        """The natural parameters theta, one tensor each."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(theta), the log of the normalising constant, as a function of theta."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        """E[k(x)], needed by the entropy."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)]."""
        result: Any = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with ember.enable_grad():
            lg_normal = self._log_normalizer(*nparams)
            gradients = ember.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for param, grad in zip(nparams, gradients, strict=True):
            result = result - (param * grad).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
