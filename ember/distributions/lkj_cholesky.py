"""LKJCholesky(dim, concentration): Cholesky factors L of correlation matrices L L^T, with
density proportional to det(L L^T)^(eta - 1) (Lewandowski, Kurowicka & Joe, 2009).

log p(L) = sum_{i=2..D} (D - i + 2 (eta - 1)) log L_ii - log Z(eta), and sampling follows
the onion method: row i is a uniform direction on the sphere scaled by sqrt(y_i) with
y_i ~ Beta(i/2, eta + (D - 1 - i)/2) (rows counted from 0, row 0 fixed at e_1). torch 2.x
draws y_i ~ Beta(i - 1/2, ...) instead, which leaves every off-diagonal correlation past the
second row too spread out; here every r_ij has the LKJ marginal, (r + 1)/2 ~ Beta(b, b) with
b = eta - 1 + D/2.
"""

from __future__ import annotations

import math
from typing import Any

import ember

from ..size import Size
from ..tensor import Tensor
from . import constraints
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """A prior over correlation structure: eta = 1 is uniform over correlation matrices,
    eta > 1 favours the identity, eta < 1 strong correlations."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = Size((dim, dim))
        # y_i ~ Beta(i/2, eta + (D - 1 - i)/2): squared norm of row i's off-diagonal part
        # (row 0 is e_1 and its draw unused; it repeats row 1's parameters to stay valid)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ember.arange(self.dim - 1, dtype=self.concentration.dtype,
                              device=self.concentration.device)
        offset = ember.cat([offset.new_zeros((1,)), offset])
        beta_conc1 = 0.5 * offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ember.randn(self._extended_shape(sample_shape), dtype=y.dtype,
                                   device=y.device).tril(-1)
            # a uniform direction per row; row 0 has no off-diagonal part and stays 0
            eps = ember.finfo(y.dtype).tiny
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True).clamp(min=eps)
            w = ember.sqrt(y) * u_hypersphere
            diag_elems = ember.clamp(1 - ember.sum(w**2, dim=-1), min=eps).sqrt()
            return w + ember.diag_embed(diag_elems)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ember.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ember.sum(order * diag_elems.log(), dim=-1)
        # log Z = (D-1)/2 log pi + mvlgamma(alpha - 1/2, D - 1) - (D - 1) lgamma(alpha)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ember.lgamma(alpha) * dm1
        numerator = ember.mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
