"""Array-level special functions numpy lacks: erf, erfc, erfinv and a stable sigmoid.

scipy.special (cupyx.scipy.special on GPU) provides fast, exact C versions and is used when it
is installed; numpy alone gets the vectorised fallbacks below, accurate to float64 rounding
(tests compare both with torch).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI = math.sqrt(math.pi)
_special_cache: dict = {}


def _special(xp: Any) -> Any:
    key = id(xp)
    if key not in _special_cache:
        _special_cache[key] = backend.special_module(xp)
    return _special_cache[key]


def _call(name: str, x: Any, fallback: Any) -> Any:
    """scipy.special's function `name` when available, else Ember's numpy fallback."""
    xp = backend.module_of(x)
    sp = _special(xp)
    if sp is not None and x.dtype == xp.float16:  # scipy has no half loops: it answers in
        return getattr(sp, name)(x.astype(xp.float32)).astype(xp.float16)  # float64
    if sp is not None:
        return getattr(sp, name)(x)
    return fallback(xp, x)


def erf(x: Any) -> Any:
    return _call("erf", x, _erf_fallback)


def erfc(x: Any) -> Any:
    return _call("erfc", x, _erfc_fallback)


def erfinv(x: Any) -> Any:
    return _call("erfinv", x, _erfinv_fallback)


# Phi(x) = 1/2 + tanh(x P(x^2)) / 2, with P of degree 6 fitted on |x| <= 5.54 by
# tools/fit_normal_cdf.py: |error| < 1e-7 in float32, like torch's float32 erf. Its first two
# terms, sqrt(2/pi) (1 + 0.0455 x^2), are GELU's well-known tanh approximation. Past the fit
# P is positive and growing, so tanh saturates to exactly +-1 (Phi 1 or 0); x is clipped to
# +-10 only to keep x^12 finite.
_PHI_CLIP = 10.0
_PHI_COEFFICIENTS = (0.7978849414530672, 0.03633308452794116, -3.259486101459872e-05,
                     -5.530626553280066e-05, 3.964761656425296e-06, -1.322650205415053e-07,
                     1.7562257205384201e-09)


def normal_cdf(x: Any) -> Any:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF (GELU's gate).

    For float32 on the CPU: one SIMD tanh of a polynomial, computed in place, 8x faster than
    scipy's erf (which loops over scalars); other dtypes and devices go through erf.
    """
    xp = backend.module_of(x)
    if xp.__name__ != "numpy" or x.dtype != xp.float32:
        return 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    f32 = xp.float32
    xc = xp.clip(x, f32(-_PHI_CLIP), f32(_PHI_CLIP))
    s = xc * xc
    p = s * f32(_PHI_COEFFICIENTS[-1])  # Horner, in place: ((c6 s + c5) s + ...) s + c0
    for c in _PHI_COEFFICIENTS[-2:0:-1]:
        p += f32(c)
        p *= s
    p += f32(_PHI_COEFFICIENTS[0])
    p *= xc
    xp.tanh(p, out=p)
    p *= f32(0.5)
    p += f32(0.5)
    return p


def sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x) without overflow for large |x|, precise for very negative x."""
    xp = backend.module_of(x)
    if x.dtype.kind == "c":  # holomorphic: the plain formula (torch's complex sigmoid)
        return 1 / (1 + xp.exp(-x))
    if x.dtype == xp.float16:  # in float32, rounded once (as torch; scipy's expit gives float64)
        return sigmoid(x.astype(xp.float32)).astype(xp.float16)
    sp = _special(xp)
    if sp is not None:
        return sp.expit(x)
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


# ---------------------------------------------------------------------------------------------
# numpy-only fallbacks, computed in float64 and cast back
# ---------------------------------------------------------------------------------------------

_SERIES_TERMS = 40  # |x| < 2.5: enough for float64 precision
_FRACTION_DEPTH = 80  # |x| >= 2.5


def _erf_series(xp: Any, x: Any) -> Any:
    """erf(x) = 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)): all terms positive."""
    two_x2 = 2 * x * x
    term = x.copy()
    total = x.copy()
    for n in range(1, _SERIES_TERMS):
        term *= two_x2 / (2 * n + 1)
        total += term
    return _TWO_OVER_SQRT_PI * xp.exp(-x * x) * total


def _erfc_fraction(xp: Any, x: Any) -> Any:
    """erfc(x) for x > 0 by Laplace's continued fraction, evaluated from the tail."""
    tail = xp.zeros_like(x)
    for k in range(_FRACTION_DEPTH, 0, -1):
        tail = (k / 2) / (x + tail)
    return xp.exp(-x * x) / (_SQRT_PI * (x + tail))


def _erf_fallback(xp: Any, x: Any) -> Any:
    x64 = x.astype("float64")
    ax = xp.abs(x64)
    small = ax < 2.5
    out = xp.empty_like(x64)
    if small.any():
        out[small] = _erf_series(xp, x64[small])
    if (~small).any():
        big = x64[~small]
        out[~small] = xp.sign(big) * (1 - _erfc_fraction(xp, xp.abs(big)))
    return out.astype(x.dtype)


def _erfc_fallback(xp: Any, x: Any) -> Any:
    x64 = x.astype("float64")
    small = xp.abs(x64) < 2.5
    out = xp.empty_like(x64)
    if small.any():
        out[small] = 1 - _erf_series(xp, x64[small])
    pos = (~small) & (x64 > 0)
    neg = (~small) & (x64 < 0)
    if pos.any():
        out[pos] = _erfc_fraction(xp, x64[pos])
    if neg.any():
        out[neg] = 2 - _erfc_fraction(xp, -x64[neg])
    return out.astype(x.dtype)


def _erfinv_fallback(xp: Any, y: Any) -> Any:
    """Winitzki's closed-form guess, then Newton steps on erf(x) - y (quadratic convergence)."""
    with backend.errstate(xp, divide="ignore", invalid="ignore"):
        return _erfinv_newton(xp, y.astype("float64")).astype(y.dtype)


def _erfinv_newton(xp: Any, y64: Any) -> Any:
    a = 0.147
    ln = xp.log1p(-y64 * y64)
    first = 2 / (math.pi * a) + ln / 2
    x = xp.sign(y64) * xp.sqrt(xp.sqrt(first * first - ln / a) - first)
    finite = xp.isfinite(x)
    for _ in range(4):
        step = (_erf_fallback(xp, x) - y64) / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
        x = xp.where(finite, x - xp.where(finite, step, 0.0), x)
    x = xp.where(y64 == 1, xp.inf, xp.where(y64 == -1, -xp.inf, x))
    return xp.where(xp.abs(y64) > 1, xp.nan, x)


# ---------------------------------------------------------------------------------------------
# Modified Bessel functions I0, I1 (and their e^-|x| scaled forms), erfcx, ndtri
# ---------------------------------------------------------------------------------------------


def i0(x: Any) -> Any:
    return _call("i0", x, lambda xp, v: _bessel_i_fallback(xp, v, 0, False))


def i0e(x: Any) -> Any:
    return _call("i0e", x, lambda xp, v: _bessel_i_fallback(xp, v, 0, True))


def i1(x: Any) -> Any:
    return _call("i1", x, lambda xp, v: _bessel_i_fallback(xp, v, 1, False))


def i1e(x: Any) -> Any:
    return _call("i1e", x, lambda xp, v: _bessel_i_fallback(xp, v, 1, True))


def erfcx(x: Any) -> Any:
    """exp(x^2) erfc(x), without the overflow of exp(x^2) or the underflow of erfc(x)."""
    return _call("erfcx", x, _erfcx_fallback)


def ndtri(p: Any) -> Any:
    """The inverse of the standard normal CDF (scipy's is exact in the tails; the fallback,
    sqrt(2) erfinv(2p - 1), loses the precision of p below about 1e-8)."""
    return _call("ndtri", p, lambda xp, v: (_erfinv_fallback(xp, 2 * v - 1) * math.sqrt(2.0)))


_BESSEL_SERIES_LIMIT = 20.0  # |x| <= 20: the power series (positive terms); beyond, asymptotic


def _bessel_i_fallback(xp: Any, x: Any, order: int, scaled: bool) -> Any:
    """I_order(x) (times e^-|x| when scaled): the series sum_k (x/2)^(2k+n) / (k! (k+n)!) up to
    |x| = 20, then e^|x| / sqrt(2 pi |x|) sum_k (-1)^k a_k / |x|^k with
    a_k = a_(k-1) (4 n^2 - (2k-1)^2) / (8k) (error below e^-2|x| there); I1 is odd."""
    x64 = x.astype("float64")
    ax = xp.abs(x64)
    small = ax <= _BESSEL_SERIES_LIMIT
    with backend.errstate(xp, all="ignore"):
        xs = xp.where(small, x64, 0.0)
        q = xs * xs / 4
        term = xp.ones_like(xs) if order == 0 else xs / 2
        total = term.copy()
        for k in range(1, 60):
            term = term * q / (k * (k + order))
            total = total + term
        series = total * xp.exp(-xp.abs(xs)) if scaled else total
        z = xp.where(small, 1.0, ax)
        a_k = xp.ones_like(z)
        acc = a_k.copy()
        for k in range(1, 30):
            a_k = a_k * -(4 * order * order - (2 * k - 1) ** 2) / (8 * k * z)
            acc = acc + a_k
        asym = acc / xp.sqrt(2 * math.pi * z)
        if not scaled:
            asym = asym * xp.exp(z)
        if order == 1:
            asym = xp.where(x64 < 0, -asym, asym)
        out = xp.where(small, series, asym)
        if order == 1 and scaled:
            out = xp.where(xp.isinf(x64), xp.sign(x64) * 0.0, out)
    return out.astype(x.dtype)


def _erfcx_fallback(xp: Any, x: Any) -> Any:
    """exp(x^2) erfc(x) directly below x = 2.5; above by the continued fraction
    1 / (sqrt(pi) (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))), 40 terms."""
    x64 = x.astype("float64")
    large = x64 > 2.5
    with backend.errstate(xp, all="ignore"):
        small_x = xp.where(large, 0.0, x64)
        large_x = xp.where(large, x64, 2.5)
        denominator = large_x
        for k in range(40, 0, -1):
            denominator = large_x + (k / 2) / denominator
        direct = xp.exp(small_x * small_x) * _erfc_fallback(xp, small_x)
        out = xp.where(large, 1 / (_SQRT_PI * denominator), direct)
    return out.astype(x.dtype)
