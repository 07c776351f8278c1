"""Comparisons, logical and bitwise ops, and value tests (isnan, isclose...): no gradients."""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..tensor import Tensor
from ._util import broadcast_error, complex_error, to_tensor


def _operands(a: Any, b: Any) -> tuple:
    a, b = dtypes.as_python_number(a), dtypes.as_python_number(b)  # as torch takes numpy scalars
    x = a._data if isinstance(a, Tensor) else a
    y = b._data if isinstance(b, Tensor) else b
    if not isinstance(a, Tensor) and not isinstance(a, (bool, int, float)):
        x = to_tensor(a, b if isinstance(b, Tensor) else None)._data
    if not isinstance(b, Tensor) and not isinstance(b, (bool, int, float)):
        y = to_tensor(b, a if isinstance(a, Tensor) else None)._data
    if backend.is_array(x) and backend.is_array(y):
        if x.dtype != y.dtype:  # torch's promotion: a 0-d operand does not widen a tensor
            target = dtypes.result_type(x, y).np
            x, y = x.astype(target, copy=False), y.astype(target, copy=False)
    elif backend.is_array(x):
        y = dtypes.wrap_int_scalar(y, x.dtype)
    elif backend.is_array(y):
        x = dtypes.wrap_int_scalar(x, y.dtype)
    return x, y


def _binary(op: str, fn_name: str, a: Any, b: Any) -> Tensor:
    x, y = _operands(a, b)
    xp = backend.module_of(x if backend.is_array(x) else y)
    try:
        out = getattr(xp, fn_name)(x, y)
    except ValueError:
        raise broadcast_error(op, getattr(x, "shape", ()), getattr(y, "shape", ())) from None
    return Tensor._make(backend.as_array(out))


def _maybe_out(result: Tensor, out: Tensor | None) -> Tensor:
    """out=: the result written into `out`, cast to its dtype (torch.eq(a, b, out=int_tensor))."""
    if out is None:
        return result
    from .inplace import copy_into_out  # noqa: PLC0415

    return copy_into_out(out, result)


def eq(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_binary("eq", "equal", input, other), out)


def ne(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_binary("ne", "not_equal", input, other), out)


def _ordered(op: str, fn_name: str, a: Any, b: Any) -> Tensor:
    """<, <=, >, >=: like _binary, but complex numbers have no order (torch raises)."""
    for v in (a, b):
        data = v._data if isinstance(v, Tensor) else v
        if isinstance(data, complex) or getattr(data, "dtype", None) is not None \
                and data.dtype.kind == "c":
            raise complex_error(op, data)
    return _binary(op, fn_name, a, b)


def lt(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_ordered("lt", "less", input, other), out)


def le(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_ordered("le", "less_equal", input, other), out)


def gt(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_ordered("gt", "greater", input, other), out)


def ge(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_ordered("ge", "greater_equal", input, other), out)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_binary("logical_and", "logical_and", input, other), out)


def logical_or(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_binary("logical_or", "logical_or", input, other), out)


def logical_xor(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return _maybe_out(_binary("logical_xor", "logical_xor", input, other), out)


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    xp = backend.module_of(input._data)
    return _maybe_out(Tensor._make(backend.as_array(xp.logical_not(input._data))), out)


def _check_integral(op: str, *values: Any) -> None:
    for v in values:
        data = v._data if isinstance(v, Tensor) else v
        if hasattr(data, "dtype"):
            kind = data.dtype.kind
        else:
            kind = "f" if isinstance(v, float) else "c" if isinstance(v, complex) else "i"
        if kind not in "biu":  # floats, bfloat16 (kind "V") and complex
            name = dtypes.of_array(data).name if hasattr(data, "dtype") else "float"
            raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{name}': bitwise ops "
                                      "need integer or bool tensors")


def bitwise_and(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    _check_integral("bitwise_and", input, other)
    return _maybe_out(_binary("bitwise_and", "bitwise_and", input, other), out)


def bitwise_or(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    _check_integral("bitwise_or", input, other)
    return _maybe_out(_binary("bitwise_or", "bitwise_or", input, other), out)


def bitwise_xor(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    _check_integral("bitwise_xor", input, other)
    return _maybe_out(_binary("bitwise_xor", "bitwise_xor", input, other), out)


def _check_shift(op: str, input: Any, other: Any) -> None:
    """Shifts take integers, and bools only beside an integer (two bools: torch refuses)."""
    _check_integral(op, input, other)
    if all(isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype.kind == "b")
           for v in (input, other)):
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool': shifts need an "
                                  "integer operand")


def bitwise_left_shift(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    _check_shift("lshift", input, other)
    return _maybe_out(_binary("bitwise_left_shift", "left_shift", input, other), out)


def bitwise_right_shift(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Arithmetic shift: signed values keep their sign, as in torch."""
    _check_shift("rshift", input, other)
    return _maybe_out(_binary("bitwise_right_shift", "right_shift", input, other), out)


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    _check_integral("bitwise_not", input)
    xp = backend.module_of(input._data)
    return _maybe_out(Tensor._make(backend.as_array(xp.invert(input._data))), out)


def _test(fn_name: str, input: Tensor) -> Tensor:
    xp = backend.module_of(input._data)
    return Tensor._make(backend.as_array(getattr(xp, fn_name)(input._data)))


def isnan(input: Tensor) -> Tensor:
    return _test("isnan", input)


def isinf(input: Tensor) -> Tensor:
    return _test("isinf", input)


def isfinite(input: Tensor) -> Tensor:
    return _test("isfinite", input)


def isposinf(input: Tensor) -> Tensor:
    return _test("isposinf", input)


def isneginf(input: Tensor) -> Tensor:
    return _test("isneginf", input)


def signbit(input: Tensor) -> Tensor:
    return _test("signbit", input)


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    if isinstance(other, Tensor) and other._data.dtype != input._data.dtype:
        raise RuntimeError(f"isclose(): input ({input.dtype}) and other ({other.dtype}) must have "
                           "the same dtype, as in torch")
    x, y = _operands(input, other)
    xp = backend.module_of(x)
    return Tensor._make(backend.as_array(xp.isclose(x, y, rtol=rtol, atol=atol,
                                                    equal_nan=equal_nan)))


def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(backend.module_of(input._data).array_equal(input._data, other._data))
