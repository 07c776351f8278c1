"""Elementwise functions of one tensor: exp, log, sqrt, trigonometry, sigmoid, relu, erf, rounding.

Each class is one op: `forward` on arrays, `backward` with the derivative written next to it.
Ops that always produce floats (exp, log, sin, ...) turn integer input into the default float
dtype first, as torch does.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, dtypes, kernels
from ..autograd import low_precision
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Op, array_namespace, as_output, op_watch, record, refresh_view
from ..doctor.flags import flags as _doctor
from ..tensor import Tensor
from . import special
from ._util import complex_error, torch_named

_new = object.__new__
_ndarray = backend.ndarray
_BF16 = backend.BFLOAT16
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_BF16_MAX = 3.3895313892515355e38  # (2 - 2^-7) 2^127


class UnaryOp(Op):
    """One tensor in, one tensor out; extra arguments are plain Python values."""

    float_result = True  # integer input is computed in the default float dtype

    @classmethod
    def apply(cls, x: Tensor, *args: Any) -> Tensor:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (x, *args), {})
        if not isinstance(x, Tensor):
            raise TypeError(f"{cls.__name__.lower()}(): argument 'input' must be a Tensor, "
                            f"not {type(x).__name__}")
        if x._view is not None:
            refresh_view(x)
        data = x._data
        if cls.float_result and data.dtype.kind not in "fcV":
            data = data.astype(dtypes.get_default_dtype().np)
        node = _new(cls)
        if data.dtype is _BF16:  # computed in float32 and rounded (autograd/low_precision.py)
            (data,), node.bf16_inputs = low_precision.widen([data])
        out = node.forward(data, *args)
        if out.__class__ is not _ndarray:
            out = as_output(node, out)
        if node.bf16_inputs is not None:
            out = low_precision.narrow(node, out)
        result = Tensor._make(out)
        if x._requires_grad:
            if grad_state.enabled:
                record(node, result, (x,), [data])
            elif _doctor.cuts:  # under no_grad: the doctor notes the cut
                _doctor.no_grad_use((x,))
        return result


def _xp(x: Any) -> Any:
    return backend.module_of(x)


class Neg(UnaryOp):
    float_result = False

    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return -x

    def backward(self, grad: Any) -> Any:
        return -grad


class Abs(UnaryOp):
    float_result = False

    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            raise not_implemented("abs_cpu", x)
        self.save_for_backward(x)
        return _xp(x).abs(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors  # d|x|/dx = sgn(x): 0 at 0 and at NaN
        return grad * (array_namespace(grad).sign(x) if isinstance(x, Tensor) else _sign(x))


class Exp(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * y  # d/dx e^x = e^x


class Exp2(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).exp2(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * y * _LN2


class Expm1(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).expm1(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * (y + 1)


class Log(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).log(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / x  # d/dx ln x = 1/x


class Log2(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).log2(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / (x * _LN2)


class Log10(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).log10(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / (x * _LN10)


class Log1p(UnaryOp):
    def name(self) -> str:
        return "Log1PBackward0"

    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).log1p(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / (x + 1)


class Sqrt(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad / (2 * y)  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Rsqrt(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = 1 / _xp(x).sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * (-0.5) * y * y * y  # d/dx x^-1/2 = -1/2 x^-3/2


class Reciprocal(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = 1 / x
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return -grad * y * y  # d/dx 1/x = -1/x^2


class Sin(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).sin(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * array_namespace(grad).cos(x)


class Cos(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).cos(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return -grad * array_namespace(grad).sin(x)


class Tan(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).tan(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * (1 + y * y)  # d/dx tan = 1 + tan^2


class Asin(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arcsin(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / array_namespace(grad).sqrt(1 - x * x)


class Acos(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arccos(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return -grad / array_namespace(grad).sqrt(1 - x * x)


class Atan(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arctan(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / (1 + x * x)


class Sinh(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).sinh(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * array_namespace(grad).cosh(x)


class Cosh(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).cosh(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * array_namespace(grad).sinh(x)


class Tanh(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = _xp(x).tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * (1 - y * y)  # d/dx tanh = 1 - tanh^2


class Asinh(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arcsinh(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / array_namespace(grad).sqrt(x * x + 1)


class Acosh(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arccosh(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        if x.dtype.kind == "c" if not isinstance(x, Tensor) else x.is_complex():
            return grad / (xp.sqrt(x - 1) * xp.sqrt(x + 1))  # the right branch for complex x
        return grad / xp.sqrt(x * x - 1)  # torch's 1 / sqrt(x^2 - 1): finite below -1 too


class Atanh(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return _xp(x).arctanh(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad / (1 - x * x)


class Sigmoid(UnaryOp):
    def forward(self, x: Any) -> Any:
        y = special.sigmoid(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * y * (1 - y)  # d/dx s(x) = s(x) (1 - s(x))


class Logit(UnaryOp):
    def forward(self, x: Any, eps: float | None = None) -> Any:
        _refuse_complex("logit_cpu", x)
        xp = _xp(x)
        self.save_for_backward(x)
        if eps is not None and eps < 0:  # torch: a negative eps clamps nothing
            eps = None
        self.eps = eps
        if eps is not None and eps > 0.5:  # bounds crossed: torch's x < lo ? lo : x > hi ? hi : x
            x = xp.where(x < eps, eps, xp.where(x > 1 - eps, 1 - eps, x)).astype(x.dtype)
        elif eps is not None:
            x = xp.clip(x, eps, 1 - eps)
        return xp.log(x / (1 - x))

    def backward(self, grad: Any) -> Any:
        # d/dx log(x / (1 - x)) = 1 / (x (1 - x)); values clipped to [eps, 1-eps] get 0
        (x,) = self.saved_tensors
        g = grad / (x * (1 - x))
        xp = array_namespace(grad)
        if self.eps is not None:  # NaN passes the gradient (torch's CPU kernel)
            g = xp.where((x < self.eps) | (x > 1 - self.eps), 0.0, g)
        else:  # outside [0, 1] logit is undefined: torch's gradient is NaN there
            g = xp.where((x < 0) | (x > 1), math.nan, g)
        return g


class Relu(UnaryOp):
    float_result = False

    def forward(self, x: Any) -> Any:
        if x.dtype.kind in "bc":
            if x.dtype.kind == "c":
                raise complex_error("relu", x)
            raise RuntimeError("relu: bool tensors are not supported")
        if kernels.usable_float(x):  # one loop (kernels/relu.py)
            y = kernels.load("relu").forward(x)
        else:
            # 0 first: numpy's maximum returns its second argument on ties, so -0.0 stays
            # -0.0 as in torch's clamp_min (NaN propagates)
            y = _xp(x).maximum(0, x)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        if kernels.usable_float(y, grad):
            return kernels.load("relu").backward(grad, y)
        # torch's threshold_backward: +0 where the unit is inactive (y <= 0, whatever the
        # gradient: never -0.0 or NaN), the gradient elsewhere, a NaN output included
        return pass_where(grad, ~(y <= 0))


def pass_where(grad: Any, keep: Any) -> Any:
    """grad where `keep`, +0.0 elsewhere, exactly as torch's masked backwards (never the -0.0
    or NaN that grad * keep gives). On arrays a bit mask on the gradient's bits: numpy's where
    ran 2.5x (16K values) to 10x (1M) slower than the multiply; this runs at its speed."""
    if isinstance(grad, Tensor) or grad.dtype.kind != "f":  # create_graph, integer gradients
        return array_namespace(grad).where(keep, grad, 0)
    bits = _xp(grad).dtype(f"uint{8 * grad.dtype.itemsize}")
    mask = (~keep).astype(bits)
    mask -= 1  # all bits set where kept, none elsewhere
    mask &= grad.view(bits)
    return mask.view(grad.dtype)


class Erf(UnaryOp):
    def forward(self, x: Any) -> Any:
        _refuse_complex("erf_vml_cpu", x)
        self.save_for_backward(x)
        return special.erf(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * _TWO_OVER_SQRT_PI * array_namespace(grad).exp(-(x * x))


class Erfc(UnaryOp):
    def forward(self, x: Any) -> Any:
        _refuse_complex("erfc_vml_cpu", x)
        self.save_for_backward(x)
        return special.erfc(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return -grad * _TWO_OVER_SQRT_PI * array_namespace(grad).exp(-(x * x))


class Erfinv(UnaryOp):
    def forward(self, x: Any) -> Any:
        _refuse_complex("erfinv_vml_cpu", x)
        y = _xp(x).copysign(special.erfinv(x), x)  # erfinv(-0.0) is -0.0, as torch
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors
        return grad * (math.sqrt(math.pi) / 2) * array_namespace(grad).exp(y * y)


class _Piecewise(UnaryOp):
    """Rounding-like ops: flat almost everywhere, so the gradient is zero (as in torch)."""

    float_result = False

    def backward(self, grad: Any) -> Any:
        return grad * 0


class Floor(_Piecewise):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            raise not_implemented("floor_vml_cpu", x)
        return x.copy() if x.dtype.kind in "iu" else _xp(x).floor(x)  # a copy, as torch


class Ceil(_Piecewise):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            raise not_implemented("ceil_vml_cpu", x)
        return x.copy() if x.dtype.kind in "iu" else _xp(x).ceil(x)  # a copy, as torch


class Trunc(_Piecewise):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            raise not_implemented("trunc_vml_cpu", x)
        return x.copy() if x.dtype.kind in "iu" else _xp(x).trunc(x)  # a copy, as torch


class Round(_Piecewise):
    def forward(self, x: Any, decimals: int = 0) -> Any:
        if x.dtype.kind in "iub":
            if decimals != 0 or x.dtype.kind == "b":  # torch rounds integers only without
                raise not_implemented("round_cpu" if decimals else "round_vml_cpu", x)
            return x.copy()
        if decimals != 0 and x.dtype.itemsize == 2:  # x * 10^decimals in float32, as torch:
            return _xp(x).round(x.astype("float32"), decimals).astype(x.dtype)  # no overflow
        return _xp(x).round(x, decimals)  # round half to even, like torch


class Sign(_Piecewise):
    def forward(self, x: Any) -> Any:
        if x.dtype.kind == "b":
            return x.copy()
        return _sign(x)


def sign_nan_zero(x: Any) -> Any:
    """torch's sign (0 at NaN) of an array, or of a Tensor in a create_graph backward (whose
    sign op is this one): what gradient formulas with sgn(x) in them use."""
    return x.sign() if isinstance(x, Tensor) else _sign(x)


def _sign(x: Any) -> Any:
    """numpy's sign with torch's sign(NaN) = 0."""
    xp = _xp(x)
    out = xp.sign(x)
    if out.dtype.kind in "fV":  # V: bfloat16
        nan = out != out  # a compare and a test: a fifth of nan_to_num's time when none is NaN
        if nan.any():
            out = xp.where(nan, 0, out).astype(out.dtype)
    return out


def _refuse_complex(kernel: str, x: Any) -> None:
    if x.dtype.kind == "c":
        raise not_implemented(kernel, x)


def not_implemented(kernel: str, x: Any) -> NotImplementedError:
    """torch's refusal of a dtype its kernel lacks: '"frac_cpu" not implemented for 'Long''."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{torch_dtype_name(x)}\'')


class Frac(UnaryOp):
    float_result = False

    def forward(self, x: Any) -> Any:
        if x.dtype.kind in "iub":
            raise not_implemented("frac_cpu", x)
        return x - _xp(x).trunc(x)

    def backward(self, grad: Any) -> Any:
        return grad


class Clamp(UnaryOp):
    """Clamp to scalar bounds; the gradient passes where min <= x <= max (bounds included)."""

    float_result = False

    def name(self) -> str:  # torch's clamp overload with scalar bounds
        return "ClampBackward1"

    def forward(self, x: Any, lo: Any, hi: Any) -> Any:
        self.save_for_backward(x)
        self.lo, self.hi = lo, hi
        xp = _xp(x)
        if lo is not None and hi is not None:
            if lo > hi:  # torch: every element becomes max, NaN stays NaN
                if x.dtype.kind == "f":
                    return xp.where(x != x, x, hi).astype(x.dtype, copy=False)
                return xp.full_like(x, hi)
            return xp.clip(x, lo, hi)
        if lo is not None:
            return xp.maximum(x, lo)
        return xp.minimum(x, hi)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        keep = None
        if self.lo is not None:
            keep = x >= self.lo
        if self.hi is not None:
            keep = (x <= self.hi) if keep is None else keep & (x <= self.hi)
        # +0 where clamped, whatever arrives there (grad * keep let inf and NaN through)
        return grad if keep is None else pass_where(grad, keep)


class NanToNum(UnaryOp):
    float_result = False

    def forward(self, x: Any, nan: float, posinf: float | None, neginf: float | None) -> Any:
        self.save_for_backward(x)
        if self.bf16_inputs is not None:  # computed in float32: float32's max rounds to inf
            posinf = _BF16_MAX if posinf is None else posinf
            neginf = -_BF16_MAX if neginf is None else neginf
        return _xp(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * array_namespace(grad).isfinite(x)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("neg", Neg.apply(input), out, same_dtype=True)


negative = neg


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001 (torch's name)
    return write_out("abs", Abs.apply(input), out, same_dtype=True)


absolute = abs


def exp(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("exp", Exp.apply(input), out)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("exp2", Exp2.apply(input), out)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("expm1", Expm1.apply(input), out)


def log(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("log", Log.apply(input), out)


def log2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("log2", Log2.apply(input), out)


def log10(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("log10", Log10.apply(input), out)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("log1p", Log1p.apply(input), out)


def sqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("sqrt", Sqrt.apply(input), out)


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("rsqrt", Rsqrt.apply(input), out)


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    from .arith import Pow  # noqa: PLC0415

    return write_out("square", Pow.apply(input, 2), out)


def reciprocal(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("reciprocal", Reciprocal.apply(input), out)


def sin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("sin", Sin.apply(input), out)


def cos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("cos", Cos.apply(input), out)


def tan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("tan", Tan.apply(input), out)


def asin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("asin", Asin.apply(input), out)


def acos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("acos", Acos.apply(input), out)


def atan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("atan", Atan.apply(input), out)


def sinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("sinh", Sinh.apply(input), out)


def cosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("cosh", Cosh.apply(input), out)


def tanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("tanh", Tanh.apply(input), out)


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("asinh", Asinh.apply(input), out)


def acosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("acosh", Acosh.apply(input), out)


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("atanh", Atanh.apply(input), out)


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def sigmoid(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("sigmoid", Sigmoid.apply(input), out)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    return write_out("logit", Logit.apply(input, eps), out)


def relu(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("relu", Relu.apply(input), out)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("erf", Erf.apply(input), out)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("erfc", Erfc.apply(input), out)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out("erfinv", Erfinv.apply(input), out)


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    _check_real("floor", input)
    return write_out("floor", Floor.apply(input), out, same_dtype=True)


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    _check_real("ceil", input)
    return write_out("ceil", Ceil.apply(input), out, same_dtype=True)


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    _check_real("trunc", input)
    return write_out("trunc", Trunc.apply(input), out, same_dtype=True)


fix = trunc


def round(input: Tensor, *, decimals: int = 0,  # noqa: A001
          out: Tensor | None = None) -> Tensor:
    _check_real("round", input)
    return write_out("round", Round.apply(input, decimals), out, same_dtype=True)


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, sign is not intended to support complex "
                                  "numbers. Please use sgn instead.")
    return write_out("sign", Sign.apply(input), out, same_dtype=True)


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sign for real tensors, z / |z| for complex ones."""
    from .complex import sgn as complex_sgn  # noqa: PLC0415 (complex imports this module)

    return write_out("sgn", complex_sgn(input), out, same_dtype=True)


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    _check_real("frac", input)
    return write_out("frac", Frac.apply(input), out, same_dtype=True)


def _check_real(op: str, input: Any) -> None:
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        raise complex_error(op, input._data)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; bounds may be numbers or tensors."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _check_real("clamp", input)
    min, max = dtypes.as_python_number(min), dtypes.as_python_number(max)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .indexing import where  # noqa: PLC0415

        out = input  # a NaN bound gives NaN, as torch (min != min: NaN in a tensor or a float)
        if min is not None:
            out = where((out < min) | (min != min), min, out)
        if max is not None:
            out = where((out > max) | (max != max), max, out)
        return torch_named(out, "ClampBackward0")  # torch's clamp overload with tensor bounds
    if input._data.dtype.kind not in "fV" and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(dtypes.get_default_dtype())
    np_dtype = input._data.dtype
    _check_bound(min, np_dtype)
    _check_bound(max, np_dtype)
    min, max = dtypes.wrap_int_scalar(min, np_dtype), dtypes.wrap_int_scalar(max, np_dtype)
    return Clamp.apply(input, min, max)


# torch's C++ names in "value cannot be converted to type int8_t without overflow"
_C10_TYPES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t"}


def _check_bound(value: Any, np_dtype: Any) -> None:
    """torch refuses a finite scalar bound beyond the tensor dtype's range (float16 max=1e6);
    an unsigned dtype takes down to -max (wrapped), as c10's overflow check."""
    name = _C10_TYPES.get(np_dtype.name)
    if name is None or value is None or value.__class__ not in (int, float):
        return
    if np_dtype.kind in "iu":
        info = backend.numpy.iinfo(np_dtype)
        low = -info.max if np_dtype.kind == "u" else info.min
        bad = not low <= value <= info.max
    else:
        top = _BF16_MAX if np_dtype is _BF16 else float(backend.numpy.finfo(np_dtype).max)
        bad = (value > top or value < -top) and value not in (math.inf, -math.inf)
    if bad:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return torch_named(clamp(input, min=min), "ClampMin")


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return torch_named(clamp(input, max=max), "ClampMax")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None, *, out: Tensor | None = None) -> Tensor:
    result = NanToNum.apply(input, nan, posinf, neginf)
    if out is not None and out.dtype != result.dtype:
        raise RuntimeError(f"nan_to_num: dtype of out: {torch_dtype_name(out._data)} should be "
                           f"same as input: {torch_dtype_name(result._data)}")
    return write_out("nan_to_num", result, out)


def write_out(op: str, result: Tensor, out: Tensor | None, same_dtype: bool = False) -> Tensor:
    """out=: the result written into `out`. Rounding-like ops want out's dtype to be the
    result's; the others cast to it within torch's rule (no float into an integer, no complex
    into a real, nothing but bool into a bool)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    found, expected = torch_dtype_name(out._data), torch_dtype_name(result._data)
    if same_dtype and out.dtype != result.dtype:
        raise RuntimeError(f"Found dtype {found} but expected {expected}")
    if out.dtype.category < result.dtype.category or (
            out.dtype.category == 0 and result.dtype.category != 0):
        raise RuntimeError(f"result type {expected} can't be cast to the desired output type "
                           f"{found}")
    from .inplace import copy_into_out  # noqa: PLC0415

    return copy_into_out(out, result)


_TORCH_DTYPE_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                      "float64": "Double", "complex64": "ComplexFloat",
                      "complex128": "ComplexDouble", "int64": "Long", "int32": "Int",
                      "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def torch_dtype_name(x: Any) -> str:
    """torch's C++ name of an array's dtype, or of a dtype (Float, Long, ComplexDouble...)."""
    name = getattr(x, "dtype", x).name
    return _TORCH_DTYPE_NAMES.get(name, name)


# C++ type names in torch's "expected dtype float for `end` but got dtype long int"
_CPP_TYPES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "float64": "double", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _check_lerp(input: Tensor, end: Tensor, weight: Any) -> None:
    """torch's lerp: end (and a weight tensor of one or more dims) in input's dtype; floating
    or complex dtypes only."""
    for position, (name, t) in enumerate((("input", input), ("end", end)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"lerp(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(t).__name__}")
    kind = input._data.dtype
    checks = [("end", end)]
    if isinstance(weight, Tensor) and weight.dim() > 0:
        checks.append(("weight", weight))
    for what, t in checks:
        if isinstance(t, Tensor) and t._data.dtype != kind:
            raise RuntimeError(f"expected dtype {_CPP_TYPES.get(kind.name, kind.name)} for "
                               f"`{what}` but got dtype "
                               f"{_CPP_TYPES.get(t._data.dtype.name, t._data.dtype.name)}")
    if kind.kind not in "fcV":
        raise not_implemented("lerp_kernel_tensor" if isinstance(weight, Tensor)
                              else "lerp_kernel_scalar", input._data)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input), or end - (end - input) * (1 - weight) where |weight| >=
    0.5 as torch computes it (exact at weight 1; an infinite end gives NaN there, as torch).
    float16/bfloat16 are computed in float32 and rounded once, as torch."""
    _check_lerp(input, end, weight)
    low = input.dtype if input._data.dtype.itemsize == 2 else None
    if low is not None:
        input, end = input.float(), end.float()
        if isinstance(weight, Tensor):
            weight = weight.float()
    if isinstance(weight, Tensor):
        from .indexing import where  # noqa: PLC0415

        diff = end - input
        out = where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    elif -0.5 < weight < 0.5:
        out = input + weight * (end - input)
    else:
        out = end - (end - input) * (1 - weight)
    if low is not None:
        out = out.to(low)
    return torch_named(out, "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0")
