"""VonMises(loc, concentration): the circular normal on [-pi, pi).

Density exp(k cos(x - loc)) / (2 pi I0(k)); log I0(k) = log(i0e(k)) + k keeps large k finite.
Samples come from Best & Fisher's (1979) rejection sampler, run in float64; there is no
rsample (as in torch).
"""

from __future__ import annotations

import math
from typing import Any

import ember

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


def _log_i0(x: Tensor) -> Tensor:
    """log I0(x) for x >= 0, through the exponentially scaled Bessel function."""
    return ember.special.i0e(x).log() + x


def _log_i1(x: Tensor) -> Tensor:
    """log I1(x) for x > 0."""
    return ember.special.i1e(x).log() + x


def _rejection_sample(loc: Tensor, concentration: Tensor, proposal_r: Tensor,
                      x: Tensor) -> Tensor:
    """Best-Fisher: propose from a wrapped Cauchy envelope and accept until all are done."""
    done = ember.zeros(x.shape, dtype=ember.bool, device=loc.device)
    while not bool(done.all()):
        u1, u2, u3 = ember.rand((3,) + tuple(x.shape), dtype=loc.dtype,
                                device=loc.device).unbind()
        z = ember.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = (c * (2 - c) - u2 > 0) | ((c / u2).log() + 1 - c >= 0)
        x = ember.where(accept & ~done, (u3 - 0.5).sign() * f.acos(), x)
        done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi  # wrap to [-pi, pi)


class VonMises(Distribution):
    """Angles concentrated around `loc`; concentration k -> 0 is uniform on the circle."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(VonMises, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * ember.cos(value - self.loc)
        return log_prob - math.log(2 * math.pi) - _log_i0(self.concentration)

    @lazy_property
    def _proposal_r(self) -> Tensor:
        """The envelope's parameter r = (1 + rho^2) / (2 rho), 1/k + k for tiny k."""
        kappa = self.concentration.detach().double()
        tau = 1 + (1 + 4 * kappa**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        proposal_r = (1 + rho**2) / (2 * rho)
        return ember.where(kappa < 1e-5, 1 / kappa + kappa, proposal_r)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Best-Fisher rejection draws in float64, cast back to loc's dtype."""
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            loc = self.loc.detach().double()
            x = ember.zeros(shape, dtype=ember.float64, device=loc.device)
            conc = self.concentration.detach().double()
            return _rejection_sample(loc, conc, self._proposal_r, x).to(self.loc.dtype)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """The circular variance 1 - I1(k) / I0(k)."""
        return 1 - (_log_i1(self.concentration) - _log_i0(self.concentration)).exp()
