"""ember.special: torch.special's functions that Ember provides."""

from __future__ import annotations

import math

from .ops._util import torch_named
from .ops.pointwise import digamma, polygamma, sinc, xlog1py, xlogy  # noqa: F401
from .ops.pointwise import lgamma as gammaln  # noqa: F401
from .ops.pointwise import mvlgamma as multigammaln  # noqa: F401
from .ops.reduce import logsumexp  # noqa: F401
from .ops.softmax import log_softmax, softmax  # noqa: F401
from .ops.special_functions import (
    I0,
    SpecialEntr,
    SpecialErfcx,
    SpecialI0E,
    SpecialI1,
    SpecialI1E,
    SpecialNdtri,
    refuse_half,
)
from .ops.unary import erf, erfc, erfinv, exp2, expm1, log1p, logit, write_out  # noqa: F401
from .ops.unary import round as _round
from .ops.unary import sigmoid as expit  # noqa: F401
from .tensor import Tensor

psi = digamma
_SQRT_HALF = math.sqrt(0.5)


def round(input: Tensor, *, decimals: int = 0,  # noqa: A001 (torch's name)
          out: Tensor | None = None) -> Tensor:
    """torch.round for floating tensors; torch.special.round refuses integers and bools."""
    if not input.dtype.is_floating_point and not input.dtype.is_complex:
        from .ops.lu import _dtype_name  # noqa: PLC0415

        kernel = "round_cpu" if decimals else "round_vml_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(input)}\'')
    return _round(input, decimals=decimals, out=out)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2."""
    return write_out("ndtr", (1 + erf(_as_float(input) * _SQRT_HALF)) * 0.5, out)


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of the standard normal CDF."""
    refuse_half("ndtri", input)
    return write_out("ndtri", SpecialNdtri.apply(input), out)


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log of the standard normal CDF, as torch: log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 for
    x < -1 (no underflow in the far left tail), log1p(-erfc(x / sqrt 2) / 2) elsewhere (no
    rounding to 0 in the right tail)."""
    from .ops.indexing import where  # noqa: PLC0415

    refuse_half("log_ndtr", input)
    x = _as_float(input)
    left = x.detach() < -1
    xl = x.masked_fill(~left, -1.0)
    xr = x.masked_fill(left, -1.0)
    result = where(left, (erfcx(-xl * _SQRT_HALF) * 0.5).log() - xl * xl * 0.5,
                   (erfc(xr * _SQRT_HALF) * -0.5).log1p())
    return write_out("log_ndtr", torch_named(result, "SpecialLogNdtr"), out)


def erfcx(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(x^2) erfc(x), accurate where exp(x^2) overflows and erfc(x) underflows."""
    refuse_half("erfcx", input)
    return write_out("erfcx", SpecialErfcx.apply(input), out)


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-x ln x for x > 0, 0 at 0, -inf for x < 0."""
    return write_out("entr", SpecialEntr.apply(input), out)


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind, order 0."""
    return write_out("i0", I0.apply(input), out)


def i0e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """e^-|x| I0(x)."""
    return write_out("i0e", SpecialI0E.apply(input), out)


def i1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind, order 1."""
    return write_out("i1", SpecialI1.apply(input), out)


def i1e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """e^-|x| I1(x)."""
    return write_out("i1e", SpecialI1E.apply(input), out)


def _as_float(x: Tensor) -> Tensor:
    from . import dtypes  # noqa: PLC0415

    keep = x.dtype.is_floating_point or x.dtype.is_complex  # complex: refused by the op
    return x if keep else x.to(dtypes.get_default_dtype())


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
