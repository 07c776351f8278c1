"""ember.special: torch.special's functions that Ember provides."""

from __future__ import annotations

import math

from .ops._util import torch_named
from .ops.pointwise import digamma, polygamma, sinc, xlog1py, xlogy  # noqa: F401
from .ops.pointwise import lgamma as gammaln  # noqa: F401
from .ops.pointwise import mvlgamma as multigammaln  # noqa: F401
from .ops.reduce import logsumexp  # noqa: F401
from .ops.softmax import log_softmax, softmax  # noqa: F401
from .ops.unary import erf, erfc, erfinv, exp2, expm1, log1p, logit, round  # noqa: F401
from .ops.unary import sigmoid as expit  # noqa: F401
from .tensor import Tensor

psi = digamma
_SQRT_HALF = math.sqrt(0.5)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2."""
    return (1 + erf(_as_float(input) * _SQRT_HALF)) * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The inverse of the standard normal CDF."""
    return torch_named(erfinv(2 * _as_float(input) - 1) * math.sqrt(2.0), "SpecialNdtri")


def log_ndtr(input: Tensor) -> Tensor:
    """log of the standard normal CDF, accurate in the far left tail through erfc."""
    x = _as_float(input)
    return torch_named((erfc(-x * _SQRT_HALF) * 0.5).log(), "SpecialLogNdtr")


def erfcx(input: Tensor) -> Tensor:
    """exp(x^2) erfc(x): directly below x = 2.5, above it by the continued fraction
    erfcx(x) = 1 / (sqrt(pi) (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))), 40 terms (float64
    precision from 2.5 on), as exp(x^2) overflows and erfc(x) underflows."""
    from .ops.indexing import where  # noqa: PLC0415

    x = _as_float(input)
    large = x.detach() > 2.5
    small_x = x.masked_fill(large, 0.0)
    large_x = x.masked_fill(~large, 2.5)
    denominator = large_x
    for k in range(40, 0, -1):
        denominator = large_x + (k / 2) / denominator
    direct = (small_x * small_x).exp() * erfc(small_x)
    out = where(large, 1 / (math.sqrt(math.pi) * denominator), direct)
    return torch_named(out, "SpecialErfcx")


def entr(input: Tensor) -> Tensor:
    """-x ln x for x > 0, 0 at 0, -inf for x < 0."""
    x = _as_float(input)
    out = -xlogy(x, x)
    return torch_named(out.masked_fill(x.detach() < 0, -math.inf), "SpecialEntr")


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 0 (power series)."""
    x = _as_float(input)
    term = x.new_ones(x.shape) if isinstance(x, Tensor) else 1.0
    total = term
    q = (x * x) / 4
    for k in range(1, 40):
        term = term * q / (k * k)
        total = total + term
    return torch_named(total, "I0")


def i0e(input: Tensor) -> Tensor:
    x = _as_float(input)
    return torch_named(i0(x) * (-x.abs()).exp(), "SpecialI0E")


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 1 (power series)."""
    x = _as_float(input)
    term = x / 2
    total = term
    q = (x * x) / 4
    for k in range(1, 40):
        term = term * q / (k * (k + 1))
        total = total + term
    return torch_named(total, "SpecialI1")


def i1e(input: Tensor) -> Tensor:
    x = _as_float(input)
    return torch_named(i1(x) * (-x.abs()).exp(), "SpecialI1E")


def _as_float(x: Tensor) -> Tensor:
    from . import dtypes  # noqa: PLC0415

    return x if x.dtype.is_floating_point else x.to(dtypes.get_default_dtype())


from .ops.incomplete_gamma import igamma as gammainc  # noqa: E402,F401 (regularised incomplete gamma)
from .ops.incomplete_gamma import igammac as gammaincc  # noqa: E402,F401
from .ops.special_functions import (  # noqa: E402,F401
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
    zeta,
)
