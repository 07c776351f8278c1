"""More elementwise functions: hypot, logaddexp, xlogy, copysign, lgamma/digamma, sinc, diff,
cross, heaviside, gcd/lcm (complex numbers' helpers live in complex.py).

Most are written with Ember's differentiable ops, so their gradients (and gradients of
gradients) come from the ops they are built from; lgamma and digamma are ops of their own.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, dtypes
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from ._util import broadcast_error, to_tensor, torch_named, wrap_dim
from .arith import BinaryOp
from .unary import UnaryOp, not_implemented, write_out

_LN2 = math.log(2.0)


def _float(x: Any, like: Any = None) -> Tensor:
    """x as a floating tensor (ints and bools become the default float dtype, as in torch)."""
    t = to_tensor(x, like if isinstance(like, Tensor) else None)
    if t._data.dtype.kind not in "fV":
        t = t.to(dtypes.get_default_dtype())
    return t


def _not_implemented(op: str, d: dtypes.dtype) -> NotImplementedError:
    return not_implemented(f"{op}_cpu", d)


def _pair(a: Any, b: Any, op: str = "", ints_to_float: bool = True,
          complex_ok: bool = False) -> tuple:
    """Two operands as tensors of their promoted floating (or complex) dtype. Integer and bool
    operands become the default float where torch's op does so (ints_to_float), else torch's
    NotImplementedError; complex operands likewise (complex_ok)."""
    target = dtypes.result_type(a, b)
    if target.is_complex and not complex_ok or not (target.is_floating_point or target.is_complex
                                                    or ints_to_float):
        raise _not_implemented(op, target)
    if not (target.is_floating_point or target.is_complex):
        target = dtypes.get_default_dtype()
    ta = to_tensor(a, b if isinstance(b, Tensor) else None).to(target)
    tb = to_tensor(b, ta).to(target)
    return ta, tb


def _overload(input: Any, other: Any) -> int:
    """The number torch gives a binary op's overload: 0 for two tensors, 1 for a number as
    input, 2 for a number as other (xlogy(2., y) shows XlogyBackward1)."""
    return 0 if isinstance(input, Tensor) and isinstance(other, Tensor) else \
        1 if isinstance(other, Tensor) else 2


class Hypot(BinaryOp):
    """sqrt(a^2 + b^2) without overflow in the squares (float16 300 and 400 give 500)."""

    def forward(self, a: Any, b: Any) -> Any:
        out = backend.module_of(a).hypot(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad: Any) -> tuple:
        a, b, out = self.saved_tensors  # d/da = a / hypot(a, b)
        return grad * a / out, grad * b / out


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input^2 + other^2)."""
    a, b = _pair(input, other, "hypot", ints_to_float=False)
    return Hypot.apply(a, b)


def _in_float32(a: Tensor, b: Tensor) -> tuple:
    """float16 / bfloat16 operands widened to float32 (torch computes these ops in float32 and
    rounds once); the dtype to round back to, or None."""
    low = a.dtype if a.dtype in (dtypes.float16, dtypes.bfloat16) else None
    return (a.float(), b.float(), low) if low is not None else (a, b, None)


def _logaddexp_real(a: Tensor, b: Tensor, exp: str, log1p_scale: float) -> Tensor:
    """max(a, b) + log1p(exp(-|a - b|)) * scale, as torch (no underflow of the small term);
    two equal infinities give themselves."""
    from .indexing import where  # noqa: PLC0415

    a, b, low = _in_float32(a, b)
    small = getattr(-(a - b).abs(), exp)().log1p()
    out = a.maximum(b) + (small if log1p_scale == 1.0 else small * log1p_scale)
    ad, bd = a.detach(), b.detach()
    out = where((ad == bd) & ad.isinf(), a, out)
    return out if low is None else out.to(low)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(e^a + e^b), without overflow for large inputs nor underflow of a small difference."""
    a, b = _pair(input, other, "logaddexp", ints_to_float=False, complex_ok=True)
    if a.dtype.is_complex:  # around the operand of larger real part
        from .indexing import where  # noqa: PLC0415

        m = where(a.detach().real >= b.detach().real, a.detach(), b.detach())
        m = m.masked_fill(m.real.isinf(), 0.0)
        return torch_named(m + ((a - m).exp() + (b - m).exp()).log(), "Logaddexp")
    return torch_named(_logaddexp_real(a, b, "exp", 1.0), "Logaddexp")


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2^a + 2^b)."""
    a, b = _pair(input, other, "logaddexp2", ints_to_float=False)
    return torch_named(_logaddexp_real(a, b, "exp2", 1.0 / _LN2), "Logaddexp2")


class Xlogy(BinaryOp):
    """x * log(y), +0.0 where x == 0 (unless y is NaN)."""

    def forward(self, x: Any, y: Any) -> Any:
        xp = backend.module_of(x)
        self.save_for_backward(x, y)
        with backend.numpy.errstate(divide="ignore", invalid="ignore"):
            out = x * xp.log(y)
        return xp.where((x == 0) & (y == y), 0.0, out).astype(out.dtype, copy=False)

    def backward(self, grad: Any) -> tuple:
        # torch: d/dx = xlogy(grad, y), 0 where x == 0 and y <= 0; d/dy = grad * x / y
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        ga = xp.where(((grad == 0) & (y == y)) | ((x == 0) & (y <= 0)), 0.0, grad * xp.log(y))
        return ga, grad * x / y


def xlogy(input: Any, other: Any) -> Tensor:
    """x * log(y), defined as +0 where x == 0 (unless y is NaN)."""
    x, y = _pair(input, other, "xlogy")
    return torch_named(Xlogy.apply(x, y), f"XlogyBackward{_overload(input, other)}")


class Xlog1py(BinaryOp):
    """x * log1p(y), +0.0 where x == 0 (unless y is NaN)."""

    def forward(self, x: Any, y: Any) -> Any:
        xp = backend.module_of(x)
        self.save_for_backward(x, y)
        with backend.numpy.errstate(divide="ignore", invalid="ignore"):
            log1p = xp.log1p(y)
            if self.bf16_inputs is not None:  # torch rounds log1p(y) to bfloat16 first
                log1p = log1p.astype(backend.BFLOAT16).astype(log1p.dtype)
            out = x * log1p
        return xp.where((x == 0) & (y == y), 0.0, out).astype(out.dtype, copy=False)

    def backward(self, grad: Any) -> tuple:
        # torch: d/dx = xlog1py(grad, y), 0 where x == 0 and y <= -1 (so inf at x = 0, y = inf);
        # d/dy = grad * x / (y + 1) (NaN at x = 0, y = -1)
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        with backend.numpy.errstate(divide="ignore", invalid="ignore"):
            ga = xp.where(((grad == 0) & (y == y)) | ((x == 0) & (y <= -1)), 0.0,
                          grad * (y.log1p() if isinstance(y, Tensor) else xp.log1p(y)))
            return ga, grad * x / (y + 1)


def xlog1py(input: Any, other: Any) -> Tensor:
    """x * log1p(y), defined as +0 where x == 0 (unless y is NaN)."""
    x, y = _pair(input, other, "xlog1py")
    return torch_named(Xlog1py.apply(x, y), f"SpecialXlog1PyBackward{_overload(input, other)}")


class Copysign(BinaryOp):
    """|a| with the sign bit of b."""

    def forward(self, a: Any, b: Any) -> Any:
        out = backend.module_of(a).copysign(a, b)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad: Any) -> tuple:
        # torch: d/da = out / a (+-1; 0 where a == 0, NaN where out is); b gets zeros
        a, out = self.saved_tensors
        xp = array_namespace(grad)
        ratio = xp.where(a == 0, 0.0, out / xp.where(a == 0, 1.0, a))
        return grad * ratio, xp.zeros_like(grad)


def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other (the sign bit, so -0.0 counts as negative)."""
    a, b = _pair(input, other, "copysign")
    return torch_named(Copysign.apply(a, b), "CopysignBackward0" if isinstance(other, Tensor)
                       else "CopysignBackward1")  # torch's overloads


def _scale_angle(op: str, name: str, input: Tensor, factor: float,
                 out: Tensor | None) -> Tensor:
    """input * factor (float16 times a Python float is computed in float32 and rounded once,
    as torch); complex input refused as torch."""
    if isinstance(input, Tensor) and input.dtype.is_complex:
        raise RuntimeError(f"{op} is not supported for complex tensors.")
    return write_out(op, torch_named(_float(input) * factor, name), out)


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Degrees to radians."""
    return _scale_angle("deg2rad", "Deg2Rad", input, math.pi / 180.0, out)


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Radians to degrees."""
    return _scale_angle("rad2deg", "Rad2Deg", input, 180.0 / math.pi, out)


def positive(input: Tensor) -> Tensor:
    """+input (torch returns the tensor itself; bool tensors are refused)."""
    if input.dtype is dtypes.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class Sinc(UnaryOp):
    """sin(pi x) / (pi x), 1 at 0; float16 computed in float32 (bfloat16 is widened by
    UnaryOp), complex kept complex."""

    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        xp = backend.module_of(x)
        wide = x.astype("float32") if x.dtype.itemsize == 2 and x.dtype.kind == "f" else x
        with backend.numpy.errstate(divide="ignore", invalid="ignore"):
            px = wide * math.pi
            out = xp.where(wide == 0, 1.0, xp.sin(px) / px)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Any) -> Any:
        # torch's sinc_backward: grad (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 where
        # pi x^2 is 0 (so 0 at 1e-300, where x^2 underflows)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        px = x * math.pi
        px2 = x * x * math.pi
        with backend.numpy.errstate(divide="ignore", invalid="ignore"):
            out = grad * (px * xp.cos(px) - xp.sin(px)) / px2  # complex: conjugated by record
        return xp.where(px2 == 0, 0.0, out)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sin(pi x) / (pi x), with sinc(0) = 1 (and gradient 0 there)."""
    return write_out("sinc", Sinc.apply(input), out)


def heaviside(input: Tensor, values: Any) -> Tensor:
    """0 where input < 0, 1 where input > 0, `values` where input == 0 (not differentiable)."""
    from .indexing import where  # noqa: PLC0415

    values = to_tensor(values, input)
    if values.dtype != input.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    step = (input.detach() > 0).to(input.dtype)
    return where(input.detach() == 0, values.detach(), step)


def _integer_binary(name: str, input: Tensor, other: Tensor) -> Tensor:
    a, b = to_tensor(input), to_tensor(other, input)
    target = dtypes.result_type(a, b)  # a bool beside an integer is promoted, as torch
    if target.category != 1:
        raise _not_implemented(name, target)
    xp = backend.module_of(a._data)
    target = target.np
    out = getattr(xp, name)(a._data.astype(target, copy=False), b._data.astype(target, copy=False))
    return Tensor._make(backend.as_array(out).astype(target, copy=False))


def gcd(input: Tensor, other: Tensor) -> Tensor:
    return _integer_binary("gcd", input, other)


def lcm(input: Tensor, other: Tensor) -> Tensor:
    return _integer_binary("lcm", input, other)


# --------------------------------------------------------------------- lgamma, digamma
def _digamma_array(x: Any) -> Any:
    """psi(x) by the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 6, then the asymptotic
    series; x < 0 uses the reflection psi(1 - x) - pi / tan(pi x)."""
    xp = backend.module_of(x)
    sp = backend.special_module(xp)
    if sp is not None:
        return sp.digamma(x).astype(x.dtype, copy=False)
    x64 = x.astype("float64")
    neg = x64 < 0
    z = xp.where(neg, 1.0 - x64, x64)
    acc = xp.zeros_like(z)
    for _ in range(6):
        small = z < 6
        acc = acc - xp.where(small, 1.0 / xp.where(small, z, 1.0), 0.0)
        z = xp.where(small, z + 1.0, z)
    inv2 = 1.0 / (z * z)
    series = xp.log(z) - 0.5 / z - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (
        1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    out = acc + series
    with backend.numpy.errstate(divide="ignore", invalid="ignore"):
        out = xp.where(neg, out - math.pi / xp.tan(math.pi * x64), out)
        out = xp.where((x64 <= 0) & (x64 == xp.floor(x64)), xp.nan, out)
    return out.astype(x.dtype)


def _trigamma_array(x: Any) -> Any:
    """psi'(x) by torch's formula, in x's dtype (float16 in float32): the reflection
    pi^2 / sin^2(pi x) below 0.5, so a negative integer gives its finite 6.58e32 (float64 at -1)
    as torch, six recurrence steps and the asymptotic series."""
    xp = backend.module_of(x)
    z = x.astype("float32") if x.dtype.itemsize == 2 else x
    pi = z.dtype.type(math.pi)
    one = z.dtype.type(1)
    small = z < 0.5
    with backend.numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = xp.sin(pi * z)
        acc = xp.where(small, -(pi * pi) / (s * s), 0).astype(z.dtype, copy=False)
        z = xp.where(small, one - z, z)
        for _ in range(6):
            acc = acc + one / (z * z)
            z = z + one
        ixx = one / (z * z)
        acc = acc + (one + one / (2 * z) + ixx * (one / 6 - ixx * (one / 30 - ixx * (
            one / 42)))) / z
        return xp.where(small, -acc, acc).astype(x.dtype, copy=False)


def _polygamma_array(n: int, x: Any) -> Any:
    """psi^(n)(x) for n >= 1 (torch's trigamma for n = 1; NaN at +inf for n >= 2, as torch's
    Hurwitz zeta) by recurrence to x >= 10 and the asymptotic series."""
    xp = backend.module_of(x)
    if n == 1:
        return _trigamma_array(x)
    sp = backend.special_module(xp)
    if sp is not None and xp is backend.numpy:  # cupyx's polygamma mishandles an int order
        out = sp.polygamma(n, x).astype(x.dtype, copy=False)
        return xp.where(x == math.inf, math.nan, out).astype(x.dtype, copy=False)
    x64 = x.astype("float64")
    sign = -1.0 if n % 2 == 0 else 1.0
    fact = math.factorial(n)
    acc = xp.zeros_like(x64)
    z = x64.copy()
    for _ in range(10):
        small = z < 10
        acc = acc + xp.where(small, sign * fact / xp.where(small, z, 1.0) ** (n + 1), 0.0)
        z = xp.where(small, z + 1.0, z)
    # psi^(n)(z) ~ (-1)^(n+1) [ (n-1)!/z^n + n!/(2 z^(n+1)) + sum B2k (2k+n-1)!/((2k)! z^(2k+n)) ]
    bern = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66)
    series = math.factorial(n - 1) / z ** n + fact / (2 * z ** (n + 1))
    for k, b in enumerate(bern, start=1):
        coef = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        series = series + coef / z ** (2 * k + n)
    out = xp.where(x64 == math.inf, math.nan, acc + sign * series)
    return out.astype(x.dtype)


def _lgamma_array(x: Any) -> Any:
    xp = backend.module_of(x)
    sp = backend.special_module(xp)
    if sp is not None:
        out = sp.gammaln(x).astype(x.dtype, copy=False)
    else:
        host = backend.to_numpy(x).astype("float64")
        out = backend.numpy.frompyfunc(_safe_lgamma, 1, 1)(host).astype("float64")
        out = backend.to_device(out, backend.device_of(x)).astype(x.dtype)
    if x.dtype == "float64":  # torch: lgamma(-inf) = inf; a subnormal x gives -log|x| (713.8)
        tiny = (x != 0) & (xp.abs(x) < 2.2250738585072014e-308)
        out = xp.where(x == -math.inf, math.inf, out)
        with backend.numpy.errstate(divide="ignore"):
            out = xp.where(tiny, -xp.log(xp.abs(xp.where(tiny, x, 1.0))), out)
    else:
        out = xp.where(x == -math.inf, math.inf, out).astype(x.dtype, copy=False)
    return out


def _safe_lgamma(v: float) -> float:
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):
        return math.inf if v == v else math.nan


class Lgamma(UnaryOp):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "c":
            raise not_implemented("lgamma_vml_cpu", x)
        self.save_for_backward(x)
        return _lgamma_array(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors  # d/dx ln|Gamma(x)| = digamma(x)
        if isinstance(x, Tensor):
            return grad * digamma(x)
        return grad * _digamma_array(x)


class Digamma(UnaryOp):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "c":
            raise not_implemented("digamma", x)
        self.save_for_backward(x)
        return _digamma_array(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors  # d/dx digamma = trigamma
        if isinstance(x, Tensor):
            return grad * polygamma(1, x)
        return grad * _polygamma_array(1, x)


class Polygamma(UnaryOp):
    def forward(self, x: Any, n: int) -> Any:
        if x.dtype.kind == "c":
            raise not_implemented("trigamma" if n == 1 else "polygamma", x)
        self.save_for_backward(x)
        self.n = n
        return _polygamma_array(n, x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        if isinstance(x, Tensor):
            return grad * polygamma(self.n + 1, x)
        return grad * _polygamma_array(self.n + 1, x)


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """ln |Gamma(x)|."""
    return write_out("lgamma", Lgamma.apply(input), out)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """d/dx ln Gamma(x)."""
    return write_out("digamma", Digamma.apply(input), out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The n-th derivative of digamma."""
    if n == 0:
        return digamma(input, out=out)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return write_out("polygamma", Polygamma.apply(input, int(n)), out)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """Multivariate log-gamma: p(p-1)/4 ln(pi) + sum_j lgamma(x - j/2)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if isinstance(input, Tensor) and input.dtype.is_complex:  # torch's arange of the offsets
        raise _not_implemented("arange", input.dtype)
    x = _float(input)
    out = x.new_full((), p * (p - 1) / 4 * math.log(math.pi))
    for j in range(p):
        out = out + lgamma(x - j / 2)
    return torch_named(out, "Mvlgamma")


# --------------------------------------------------------------------- differences and products
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """n-th forward difference along dim, after joining prepend/append to the input."""
    from .join import cat, narrow  # noqa: PLC0415

    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for name, part in (("prepend", prepend), ("append", append)):
        if part is not None and not isinstance(part, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                            f"{type(part).__name__}")
    d = wrap_dim(dim, input.dim(), "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat([to_tensor(p, input) for p in parts], d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        if x.dtype is dtypes.bool_:
            x = narrow(x, d, 1, length - 1) ^ narrow(x, d, 0, length - 1)
        else:
            x = narrow(x, d, 1, length - 1) - narrow(x, d, 0, length - 1)
    return x


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """3-vector cross product along dim (the first dim of size 3 when dim is None)."""
    from .join import narrow  # noqa: PLC0415
    from .shape import broadcast_tensors  # noqa: PLC0415

    a, b = broadcast_tensors(input, other)
    if dim is None:
        dim = next((i for i, s in enumerate(a.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = wrap_dim(dim, a.dim(), "cross")
    if a.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    from .join import cat  # noqa: PLC0415

    a0, a1, a2 = (narrow(a, d, i, 1) for i in range(3))
    b0, b1, b2 = (narrow(b, d, i, 1) for i in range(3))
    return torch_named(cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d),
                       "LinalgCross")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of the 1-D inputs' elements, one per row."""
    from ..creation import meshgrid  # noqa: PLC0415
    from .join import stack  # noqa: PLC0415

    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Integral of y along dim by the trapezoid rule (spacing dx, or sample points x)."""
    from .join import narrow  # noqa: PLC0415

    d = wrap_dim(dim, y.dim(), "trapezoid")
    n = y.shape[d]
    if n == 0:
        return y.sum(d)
    mid = (narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)) / 2
    if x is None:
        return mid.sum(d) * (1.0 if dx is None else dx)
    if not isinstance(x, Tensor):
        return mid.sum(d) * x
    spacing = diff(x, dim=-1 if x.dim() == 1 else d)
    if x.dim() == 1:
        shape = [1] * y.dim()
        shape[d] = n - 1
        spacing = spacing.reshape(shape)
    return (mid * spacing).sum(d)


trapz = trapezoid


def frexp(input: Tensor) -> Any:
    """(mantissa, exponent) with input = mantissa * 2^exponent."""
    from .. import return_types  # noqa: PLC0415

    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    exponent = backend.as_array(backend.module_of(input._data).frexp(input._data)[1])
    return return_types.frexp(Frexp.apply(input, exponent),
                              Tensor._make(exponent.astype("int32")))


class Frexp(Op):
    """The mantissa of frexp, x * 2^-exponent (exact), differentiable as torch's:
    d mantissa / dx = 2^-exponent."""

    def forward(self, x: Any, exponent: Any) -> Any:
        self.exponent = exponent
        return backend.as_array(backend.module_of(x).ldexp(x, -exponent).astype(x.dtype))

    def backward(self, grad: Any) -> Any:
        if isinstance(grad, Tensor):  # create_graph: a product with a constant
            scale = backend.module_of(grad._data).ldexp(1.0, -self.exponent)
            return grad * Tensor._make(scale.astype(grad._data.dtype))
        return backend.module_of(grad).ldexp(grad, -self.exponent)  # exact: a power of two


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2^other, in the operands' promoted dtype (integers: the default float)."""
    a, e = _pair(input, other, "ldexp", complex_ok=True)
    if isinstance(other, Tensor) and other.dtype is dtypes.bool_ and \
            isinstance(input, Tensor) and input.dtype.is_floating_point:
        raise _not_implemented("ldexp", dtypes.bool_)  # torch's 2.0 ** bool tensor refuses
    return a * (2.0 ** e if e.dtype.is_complex else e.exp2())


class Nextafter(BinaryOp):
    """The next floating value after a towards b (b where they are equal)."""

    def forward(self, x: Any, y: Any) -> Any:
        xp = backend.module_of(x)
        if self.bf16_inputs is not None:  # BinaryOp widened them: step in bfloat16's grid
            x, y = x.astype(backend.BFLOAT16), y.astype(backend.BFLOAT16)
        try:
            out = xp.nextafter(x, y)
        except ValueError:
            raise broadcast_error("nextafter", x.shape, y.shape) from None
        if x.dtype.itemsize == 2:  # numpy's float16 gives x on a tie (0.0 to -0.0), C gives y
            out = xp.where(x == y, y, out)
        self.save_for_backward(x, y)
        return out

    def backward(self, grad: Any) -> tuple:
        # torch: input gets the gradient where input != other (NaN included), other zeros
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        return xp.where(x != y, grad, 0.0), xp.zeros_like(grad)


def nextafter(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The next floating value after input towards other (other itself where they are equal)."""
    for arg, pos, value in (("input", 1, input), ("other", 2, other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"nextafter(): argument '{arg}' (position {pos}) must be Tensor, "
                            f"not {type(value).__name__}")
    a, b = _pair(input, other, "nextafter", ints_to_float=False)
    return write_out("nextafter", Nextafter.apply(a, b), out)
