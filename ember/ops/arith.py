"""Binary arithmetic: add, sub, mul, div, pow, maximum, minimum, atan2, remainder, fmod.

Every op here broadcasts its operands and follows torch's type promotion; `BinaryOp` does both
once, and sums each gradient back to its input's shape with the shared `sum_to_shape`.
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd import complex_grad, inference_tensors, low_precision
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import (
    Op,
    anomaly_state,
    array_namespace,
    as_output,
    op_watch,
    refresh_view,
    saved_hooks,
)
from ..doctor.flags import flags as _doctor
from ..tensor import Tensor
from ._util import WordedValueError, broadcast_error, complex_error, sum_to_shape, torch_named

_new = object.__new__
_ndarray = backend.ndarray
_NUMBER = (bool, int, float, complex)
_PLAIN_NUMBER = frozenset(_NUMBER)
_BOOL = dtypes.bool_.np
_BF16 = backend.BFLOAT16
_F16 = backend.numpy.dtype("float16")
_F32 = backend.numpy.dtype("float32")


def _cast_for_scalar(x: Any, scalar: Any) -> Any:
    """Cast array `x` so that numpy's scalar rules give torch's result dtype."""
    kind = x.dtype.kind
    if kind == "f" or kind == "c" or kind == "V":  # numpy's weak scalars give torch's dtype
        return x  # (bfloat16, kind "V": computed in float32 and rounded back)
    cat = dtypes.category_of_scalar(scalar)
    if kind == "b":
        if cat == 0:
            return x
        target = dtypes.int64 if cat == 1 else dtypes.get_default_dtype()
        return x.astype(target.np)
    if cat >= 2:  # an integer tensor meets a float or complex scalar
        return x.astype(dtypes.get_default_dtype().np)
    return x


def _half_with_scalar(cls: type, x: Any, scalar: Any) -> tuple:
    """A float16/bfloat16 array meeting a Python number, as torch: mul and div take the number
    in float32 (float16 computed in float32 and rounded once), other ops round the number to
    the array's dtype first (numpy does so for float16; bfloat16 is computed in float32).
    Returns (array, number, whether to round a float32 result back to float16)."""
    if scalar.__class__ is not int and scalar.__class__ is not float:
        return x, scalar, False
    if cls.scalar_in_float32:
        if x.dtype is _F16:
            return x.astype(_F32), scalar, True
        return x, scalar, False
    if x.dtype is _BF16:
        scalar = scalar.__class__(_BF16.type(scalar))
    return x, scalar, False


class BinaryOp(Op):
    """An elementwise op of two operands (tensors or Python numbers) with broadcasting."""

    scalar_in_float32 = False  # see _half_with_scalar

    in_shapes: Any = None  # (shape_a, shape_b), set only when the two shapes differ
    in_dtypes: Any = None  # set only when the op computed in a promoted dtype

    @classmethod
    def apply(cls, a: Any, b: Any) -> Tensor:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (a, b), {})
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        if not ta and a.__class__ not in _PLAIN_NUMBER:
            a, ta = _scalar_or_operand(a, b)
        if not tb and b.__class__ not in _PLAIN_NUMBER:
            b, tb = _scalar_or_operand(b, a)
        if ta and a._view is not None:
            refresh_view(a)
        if tb and b._view is not None:
            refresh_view(b)
        x = a._data if ta else a
        y = b._data if tb else b
        promoted = f16_out = False
        if ta and tb:
            if x.dtype is not y.dtype:
                target = dtypes.result_type(a, b).np
                x, y = x.astype(target, copy=False), y.astype(target, copy=False)
                promoted = True
        elif ta:
            x = _cast_for_scalar(x, y)
            y = dtypes.wrap_int_scalar(y, x.dtype)
            if x.dtype is _F16 or x.dtype is _BF16:
                x, y, f16_out = _half_with_scalar(cls, x, y)
        else:
            y = _cast_for_scalar(y, x)
            x = dtypes.wrap_int_scalar(x, y.dtype)
            if y.dtype is _F16 or y.dtype is _BF16:
                y, x, f16_out = _half_with_scalar(cls, y, x)
        node = _new(cls)
        if (ta and x.dtype is _BF16) or (tb and y.dtype is _BF16):
            (x, y), node.bf16_inputs = low_precision.widen([x, y])
        try:
            out = node.forward(x, y)
        except (TypeError, ValueError) as exc:
            moved = backend.align_devices(cls.__name__.lower(), [x, y])
            if moved is None:
                if isinstance(exc, TypeError):
                    raise
                raise _forward_error(cls, x, y, exc) from None
            x, y = moved
            out = node.forward(x, y)
        if out.__class__ is not _ndarray:
            out = as_output(node, out)
        if node.bf16_inputs is not None:
            out = low_precision.narrow(node, out)
        elif f16_out:
            out = out.astype(_F16)
        result = Tensor._make(out)
        ga = ta and a._requires_grad
        gb = tb and b._requires_grad
        kind = out.dtype.kind
        if (ga or gb) and grad_state.enabled and (kind == "f" or kind == "c" or kind == "V"):
            # inline version of autograd.node.record for two operands (the hottest path)
            if ga:
                fn = a.grad_fn
                ea = (a, 0) if fn is None else (fn, a._output_nr)
            else:
                ea = None
            if gb:
                fn = b.grad_fn
                eb = (b, 0) if fn is None else (fn, b._output_nr)
            else:
                eb = None
            node.next_edges = (ea, eb)
            if ta and tb:
                sx, sy = x.shape, y.shape
                if sx != sy:
                    node.in_shapes = (sx, sy)
            if promoted:
                node.in_dtypes = (a._data.dtype, b._data.dtype)
            result.grad_fn = node
            result._requires_grad = True
            saved = node.saved
            if saved:
                refs = []
                for v in saved:  # inline link_saved: which tensor, at which version
                    if v is x and ta:
                        vc = a._vc
                        refs.append((a, vc[0] if vc is not None else 0))
                    elif v is y and tb:
                        vc = b._vc
                        refs.append((b, vc[0] if vc is not None else 0))
                    elif v is out:
                        result._vc = [0]
                        refs.append((result._vc, 0))
                    else:
                        refs.append(None)
                node._saved_refs = tuple(refs)
                if inference_tensors.state["seen"]:  # torch refuses to save those
                    inference_tensors.check_saved(node._saved_refs)
                if saved_hooks.active:  # autograd.graph.saved_tensors_hooks
                    saved_hooks.pack(node, result, (a, b), (x, y))
            if kind == "c":  # holomorphic: the real formulas, conjugated (complex_grad.py)
                complex_grad.make_complex(node, (a, b))
            if anomaly_state.enabled:
                anomaly_state.on_forward(node, result, [x, y])
        elif (ga or gb) and _doctor.cuts and not grad_state.enabled:  # the doctor notes cuts
            _doctor.no_grad_use((a, b))
        return result

    def run_backward(self, grads: tuple) -> tuple:
        if self.bf16_inputs is not None:
            return low_precision.run_backward(self, grads, BinaryOp._reduced_backward)
        return self._reduced_backward(grads)

    def _reduced_backward(self, grads: tuple) -> tuple:
        ga, gb = self.backward(grads[0])
        if self.in_shapes is None and self.in_dtypes is None:
            return ga, gb
        sa, sb = self.in_shapes or (None, None)
        da, db = self.in_dtypes or (None, None)
        if ga is not None:
            ga = _reduce(ga, sa, da)
        if gb is not None:
            gb = _reduce(gb, sb, db)
        return ga, gb


def _reduce(g: Any, shape: Any, dtype: Any) -> Any:
    if shape is not None and g.shape != shape:
        g = sum_to_shape(g, shape)
    if dtype is not None and g.dtype != dtype:
        from ._util import astype  # noqa: PLC0415

        if dtype.kind != "c":  # a real input of a complex result: the real part flows back
            g = complex_grad.real_part(g)
        g = astype(g, dtype)
    return g


def _scalar_or_operand(value: Any, other: Any) -> tuple[Any, bool]:
    """(value, is_tensor): a number stays a number, anything else becomes a tensor."""
    number = dtypes.as_python_number(value)  # torch takes numpy scalars as Python numbers
    if isinstance(number, _NUMBER):
        return number, False
    return _operand(value, other), True


def _operand(value: Any, other: Any) -> Tensor:
    from ._util import to_tensor  # noqa: PLC0415

    try:
        return to_tensor(value, other if isinstance(other, Tensor) else None)
    except (TypeError, ValueError):
        raise TypeError(
            f"unsupported operand type: {type(value).__name__} (expected a Tensor or a number)"
        ) from None


def _forward_error(cls: type, x: Any, y: Any, exc: Exception) -> Exception:
    if isinstance(exc, WordedValueError):
        return exc
    sx, sy = getattr(x, "shape", ()), getattr(y, "shape", ())
    if "broadcast" in str(exc):
        return broadcast_error(cls.__name__.lower(), sx, sy)
    return RuntimeError(f"{cls.__name__.lower()}: {exc}")


# ---------------------------------------------------------------------------------------------


class Add(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        return a + b

    def backward(self, grad: Any) -> tuple:
        return grad, grad


class Sub(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, grad: Any) -> tuple:
        return grad, -grad


class Mul(BinaryOp):
    saved_for = ((1,), (0,))  # a is used only for b's gradient, b only for a's
    scalar_in_float32 = True

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad: Any) -> tuple:
        a, b = self.saved_tensors
        need_a, need_b = self.next_edges
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(BinaryOp):
    saved_for = ((1,), (0, 1))
    scalar_in_float32 = True

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad: Any) -> tuple:
        # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2
        a, b = self.saved_tensors
        need_a, need_b = self.next_edges
        ga = grad / b if need_a else None
        gb = -grad * a / (b * b) if need_b else None
        return ga, gb


class FloorDivide(BinaryOp):
    """a // b in floats as Python and torch compute it, from fmod (1 // 0.1 is 9: floor(1 / 0.1)
    rounds to 10; inf // 2 is NaN); piecewise constant, so its gradient is zero (grad * 0)."""

    scalar_in_float32 = True

    def forward(self, a: Any, b: Any) -> Any:
        return _xp(a, b).floor_divide(a, b)

    def backward(self, grad: Any) -> tuple:
        need_a, need_b = self.next_edges
        return (grad * 0 if need_a else None), (grad * 0 if need_b else None)


class Pow(BinaryOp):
    saved_for = ((0, 1), (0, 1), (1,))  # the output only for b's gradient (torch saves it so)
    overload = 0

    def name(self) -> str:  # torch's pow overloads: Tensor ** Scalar, ** Tensor, Scalar ** Tensor
        return f"PowBackward{self.overload}"

    @classmethod
    def apply(cls, a: Any, b: Any) -> Tensor:
        if b.__class__ is int and isinstance(a, Tensor) and a._data.dtype.kind in "iu":
            _check_int_exponent(b, a._data.dtype)  # before uint8 wraps -3 to 253
        return super().apply(a, b)

    def forward(self, a: Any, b: Any) -> Any:
        if not isinstance(b, _NUMBER):
            self.overload = 2 if isinstance(a, _NUMBER) else 1
        if (isinstance(a, bool) or getattr(a, "dtype", None) is _BOOL) and \
                (isinstance(b, bool) or getattr(b, "dtype", None) is _BOOL):
            if isinstance(b, bool) and not isinstance(a, bool):  # torch: x ** True is x
                return a.copy() if b else backend.module_of(a).ones_like(a)
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if b.__class__ in _REAL_NUMBER and b in _PRODUCT_POWERS and a.dtype.kind == "f" \
                and a.dtype.itemsize >= 4:
            out = _PRODUCT_POWERS[b](a)  # torch's products, with their roundings
        elif b.__class__ is float and b == 0.5 and a.dtype.kind == "f":  # float16: a true pow
            xp = backend.module_of(a)  # (numpy's sqrt shortcut gives -0.0 and NaN at -0.0, -inf)
            out = xp.where(xp.isneginf(a), xp.inf, xp.sqrt(a)).astype(a.dtype) + a.dtype.type(0)
        else:
            try:
                out = a**b
            except ValueError as exc:  # numpy: integers to negative integer powers
                if isinstance(b, _NUMBER):  # torch refuses only a number exponent
                    raise RuntimeError("pow: Integers to negative integer powers are not "
                                       "allowed.") from exc
                out = _int_pow_tensor(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad: Any) -> tuple:
        # d(a^b)/da = b * a^(b-1) ; d(a^b)/db = a^b * log(a)
        a, b, out = self.saved_tensors
        need_a, need_b = self.next_edges
        xp = array_namespace(grad)
        ga = gb = None
        if need_a:
            if isinstance(b, (int, float)):
                ga = grad * 0.0 if b == 0 else grad * b * a ** (b - 1)
            else:
                ga = xp.where(b == 0, 0.0, grad * b * a ** (b - 1))
        if need_b:
            if isinstance(a, (int, float, complex)):
                if a != 0:
                    gb = grad * out * _log_scalar(a)
                else:  # log(0) = -inf: torch takes the derivative as 0 only where b >= 0
                    gb = grad * xp.where(b >= 0, 0.0, out * float("-inf"))
            else:
                # torch: where a == 0 and b >= 0 the derivative is taken as 0
                safe = xp.where((a == 0) & (b >= 0), 1.0, a)
                gb = grad * out * xp.log(safe)
        return ga, gb


_REAL_NUMBER = frozenset((int, float))
# torch computes these real powers of float32/float64 by products (x ** 3 is x * x * x,
# rounded twice), so their last bit can differ from a correctly rounded power; x ** 0.5 is
# sqrt (sqrt(-0.0) is -0.0 and sqrt(-inf) NaN, where pow gives +0.0 and inf)
_PRODUCT_POWERS = {
    2: lambda x: x * x,
    3: lambda x: x * x * x,
    -1: lambda x: 1 / x,
    -2: lambda x: 1 / (x * x),
    0.5: lambda x: backend.module_of(x).sqrt(x),
    -0.5: lambda x: 1 / backend.module_of(x).sqrt(x),
}


def _check_int_exponent(b: int, np_dtype: Any) -> None:
    if b < 0:
        raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
    if dtypes.wrap_int_scalar(b, np_dtype) != b:
        raise RuntimeError(f"pow: the exponent {b} cannot be converted to type {np_dtype} "
                           "without overflow")


def _int_pow_tensor(a: Any, b: Any) -> Any:
    """Integers to integer powers, some negative, as torch: 1 ** -n is 1, (-1) ** -n is +-1,
    anything else ** -n is 0 (numpy refuses them)."""
    xp = _xp(a, b)
    negative = b < 0
    out = a ** xp.where(negative, 0, b)
    odd = (b % 2) != 0
    inverse = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, inverse, out).astype(out.dtype, copy=False)


def _log_scalar(a: float | complex) -> float | complex:
    import cmath  # noqa: PLC0415
    import math  # noqa: PLC0415

    if isinstance(a, complex):
        return cmath.log(a)
    return math.log(a) if a > 0 else float("nan")


class Maximum(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return _xp(a, b).maximum(a, b)

    def backward(self, grad: Any) -> tuple:
        # as torch: a tie splits the gradient in half; the smaller input gets none; where either
        # is NaN (no order) both get all of it
        a, b = self.saved_tensors
        return _split_at_ties(grad, a, b, a < b, a > b)


class Minimum(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return _xp(a, b).minimum(a, b)

    def backward(self, grad: Any) -> tuple:
        a, b = self.saved_tensors
        return _split_at_ties(grad, a, b, a > b, a < b)


def _split_at_ties(grad: Any, a: Any, b: Any, a_loses: Any, b_loses: Any) -> tuple:
    xp = array_namespace(grad)
    shared = xp.where(a == b, grad * 0.5, grad)
    return xp.where(a_loses, 0.0, shared), xp.where(b_loses, 0.0, shared)


class Fmax(BinaryOp):
    """Like maximum, but a NaN loses to a number."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        xp = _xp(a, b)
        return xp.where(a == b, a, xp.fmax(a, b))  # a tie (0.0, -0.0) gives a, as torch

    def backward(self, grad: Any) -> tuple:
        # as torch: a gets all of it where a >= b or b is NaN (a tie is not split), b elsewhere
        a, b = self.saved_tensors
        return _to_one_side(grad, (a >= b) | (b != b))


class Fmin(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        xp = _xp(a, b)
        return xp.where(a == b, a, xp.fmin(a, b))

    def backward(self, grad: Any) -> tuple:
        a, b = self.saved_tensors
        return _to_one_side(grad, (a <= b) | (b != b))


def _to_one_side(grad: Any, to_a: Any) -> tuple:
    xp = array_namespace(grad)
    return xp.where(to_a, grad, 0.0), xp.where(to_a, 0.0, grad)


class Atan2(BinaryOp):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return _xp(a, b).arctan2(a, b)

    def backward(self, grad: Any) -> tuple:
        # atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); 0 at the origin (torch)
        a, b = self.saved_tensors
        xp = array_namespace(grad)
        denom = a * a + b * b
        recip = xp.where(denom == 0, 0.0, 1 / xp.where(denom == 0, 1.0, denom))
        return grad * b * recip, -grad * a * recip


class Remainder(BinaryOp):
    """Python-style remainder: the result has the sign of the divisor."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        xp = _xp(a, b)
        r = xp.remainder(a, b)
        if r.dtype.kind == "f":  # torch adds b to fmod, so a zero keeps the dividend's sign
            r = xp.where(r == 0, xp.copysign(r, a).astype(r.dtype, copy=False), r)
        return r

    def backward(self, grad: Any) -> tuple:
        # a - (a // b) * b, with torch's floor division (1 // 0.1 is 9, not floor(1 / 0.1) = 10)
        a, b = self.saved_tensors
        return grad, (-grad * (a // b) if self.next_edges[1] else None)


class Fmod(BinaryOp):
    """C-style remainder: the result has the sign of the dividend."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return _xp(a, b).fmod(a, b)

    def backward(self, grad: Any) -> tuple:
        a, b = self.saved_tensors
        xp = array_namespace(grad)
        return grad, (-grad * xp.trunc(a / b) if self.next_edges[1] else None)


def _xp(a: Any, b: Any) -> Any:
    return backend.module_of(a if not isinstance(a, (int, float)) else b)


# ---------------------------------------------------------------------------------------------
# Public functions (torch.add, torch.mul, ...)
# ---------------------------------------------------------------------------------------------


def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other"""
    if alpha != 1:
        _check_alpha("add", input, other, alpha)
        if _is_bool(input) and _is_bool(other):  # torch takes alpha as a bool: True + 2 * True
            alpha = bool(alpha)                  # stays a bool tensor
        other = _times_alpha(other, alpha)
    return _maybe_out(Add.apply(input, other), out)


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other"""
    _check_not_bool("sub", input, other)
    if alpha != 1:
        _check_alpha("sub", input, other, alpha)
        other = _times_alpha(other, alpha)
    return _maybe_out(Sub.apply(input, other), out)


subtract = sub


def _check_alpha(op: str, input: Any, other: Any, alpha: Any) -> None:
    """torch refuses a float alpha when both operands are integral (it would change the dtype)."""
    if isinstance(alpha, float) and all(
            isinstance(v, (int, bool)) or (isinstance(v, Tensor) and v._data.dtype.kind in "iub")
            for v in (input, other)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def _times_alpha(other: Any, alpha: Any) -> Any:
    """alpha * other; a number `other` (t.add(1, alpha=2)) stays a Python number."""
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input"""
    out = sub(other, input, alpha=alpha)
    return torch_named(out, "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1")


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 * tensor2"""
    return _maybe_out(_addc("addcmul", input, tensor1, tensor2, value), out)


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1,
            out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 / tensor2"""
    return _maybe_out(_addc("addcdiv", input, tensor1, tensor2, value), out)


def _addc(op: str, input: Any, tensor1: Any, tensor2: Any, value: Any) -> Tensor:
    """addcmul / addcdiv with torch's checks; float16 and bfloat16 computed in float32 and
    rounded once, as torch does."""
    tensors = [t for t in (input, tensor1, tensor2) if isinstance(t, Tensor)]
    kinds = {t._data.dtype.kind for t in tensors}
    if op == "addcdiv" and all(not _is_float(t) for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future "
                           "release addcdiv will perform a true division of tensor1 and tensor2. "
                           "Use torch.addcmul(input, tensor1, torch.true_divide(tensor1, tensor2), "
                           "value=value) or a floor division instead.")
    if kinds == {"b"}:
        raise NotImplementedError(f"\"{op}_cpu_out\" not implemented for 'Bool'")
    if isinstance(value, complex) and "c" not in kinds:
        raise RuntimeError(f"{op}: value cannot be converted to type float without overflow "
                           "(a complex value needs complex tensors)")
    if isinstance(value, float) and kinds <= {"i", "u", "b"}:
        value = int(value)  # torch converts value to the integer dtype (0.5 becomes 0)
    low = tensors[0].dtype
    if len(tensors) == 3 and low in (dtypes.float16, dtypes.bfloat16) and \
            all(t.dtype is low for t in tensors):
        input, tensor1, tensor2 = (t.float() for t in tensors)
    else:
        low = None
    step = tensor1 * tensor2 if op == "addcmul" else tensor1 / tensor2
    result = input + value * step
    if low is not None:
        result = result.to(low)
    return torch_named(result, op.capitalize())


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(Mul.apply(input, other), out)


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None,
        out: Tensor | None = None) -> Tensor:
    """True division, or rounded with rounding_mode='trunc' or 'floor'."""
    if rounding_mode is None:
        if not _is_float(input) and not _is_float(other):
            input = _to_default_float(input)
        return _maybe_out(Div.apply(input, other), out)
    _check_ordered(f"div(rounding_mode='{rounding_mode}')", input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    if not _is_float(input) and not _is_float(other):
        fn = "floor_divide" if rounding_mode == "floor" else "trunc_divide"
        return _maybe_out(_int_division(input, other, fn), out)
    from .unary import trunc  # noqa: PLC0415

    if rounding_mode == "floor":
        rounded = FloorDivide.apply(input, other)
    else:
        rounded = trunc(Div.apply(input, other))
    return _maybe_out(torch_named(rounded, "DivBackward2"), out)  # torch's div.Tensor_mode


divide = true_divide = div


def floor_divide(input: Any, other: Any) -> Tensor:
    return div(input, other, rounding_mode="floor")


def _int_division(a: Any, b: Any, fn: str) -> Tensor:
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    target = dtypes.result_type(a, b).np  # computed in it, as torch does (no wider numpy type)
    if target is _BOOL:
        raise NotImplementedError(f"\"{fn}\" not implemented for 'Bool'")
    x = a._data.astype(target, copy=False) if ta else dtypes.wrap_int_scalar(a, target)
    y = b._data.astype(target, copy=False) if tb else dtypes.wrap_int_scalar(b, target)
    xp = backend.module_of(x if ta else y)
    if (isinstance(y, int) and y == 0) or (tb and bool((y == 0).any())):
        raise RuntimeError("ZeroDivisionError: integer division by zero")
    if fn == "trunc_divide":  # exact in integers (a float quotient loses digits past 2^24)
        q = xp.floor_divide(x, y)
        out = q + ((q * y != x) & ((x < 0) != (y < 0)))
    else:
        out = getattr(xp, fn)(x, y)
    return Tensor._make(backend.as_array(out).astype(target, copy=False))


def remainder(input: Any, other: Any) -> Tensor:
    _check_ordered("remainder", input, other)
    if not _is_float(input) and not _is_float(other):
        return _int_division(input, other, "remainder")
    return Remainder.apply(input, other)


def fmod(input: Any, other: Any) -> Tensor:
    _check_ordered("fmod", input, other)
    if not _is_float(input) and not _is_float(other):
        return _int_division(input, other, "fmod")
    return Fmod.apply(input, other)


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(Pow.apply(input, exponent), out)


def float_power(input: Any, exponent: Any) -> Tensor:
    from ..tensor import Tensor as T  # noqa: PLC0415

    complex_ = any(isinstance(v, complex) or (isinstance(v, T) and v._data.dtype.kind == "c")
                   for v in (input, exponent))  # complex operands compute in complex128
    wide, number = (dtypes.complex128, complex) if complex_ else (dtypes.float64, float)
    a = input.to(wide) if isinstance(input, T) else number(input)
    b = exponent.to(wide) if isinstance(exponent, T) else exponent
    return Pow.apply(a, b)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    _check_ordered("maximum", input, other)
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    _check_ordered("minimum", input, other)
    return Minimum.apply(input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    _check_ordered("fmax", input, other)
    return Fmax.apply(input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    _check_ordered("fmin", input, other)
    return Fmin.apply(input, other)


def _check_ordered(op: str, *values: Any) -> None:
    """Ops that compare values refuse complex numbers, as torch does."""
    for v in values:
        if isinstance(v, complex) or (isinstance(v, Tensor) and v._data.dtype.kind == "c"):
            raise complex_error(op, getattr(v, "_data", v))


def atan2(input: Tensor, other: Tensor) -> Tensor:
    _check_ordered("atan2", input, other)
    if not _is_float(input) and not _is_float(other):
        input = _to_default_float(input)
    return Atan2.apply(input, other)


arctan2 = atan2


def _is_float(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x._data.dtype.kind in "fcV"
    return isinstance(x, (float, complex))


def _to_default_float(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.to(dtypes.get_default_dtype())
    return float(x)


def _is_bool(x: Any) -> bool:
    return (isinstance(x, Tensor) and x._data.dtype.kind == "b") or isinstance(x, bool)


def _check_not_bool(op: str, a: Any, b: Any) -> None:
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            f"Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            f"trying to invert a mask, use the `~` or `logical_not()` operator instead. ({op})"
        )


def _maybe_out(result: Tensor, out: Tensor | None) -> Tensor:
    if out is None:
        return result
    from .inplace import copy_into_out  # noqa: PLC0415

    return copy_into_out(out, result)
