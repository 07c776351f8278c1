"""ember.testing (torch.testing): `assert_close` and `make_tensor`, for users' own tests.

assert_close compares tensors, numbers, and sequences or mappings of them, with default
tolerances picked from the dtype (torch's table), and says where the worst mismatch is.
"""

from __future__ import annotations

import collections.abc
import math
from typing import Any, Callable

from . import backend, dtypes
from .backend import numpy  # host arrays: results are compared on the CPU
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

_TOLERANCES = {  # (rtol, atol) by dtype, torch's defaults
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def _default_tolerances(*kinds: Any) -> tuple[float, float]:
    rtol = atol = 0.0
    for d in kinds:
        r, a = _TOLERANCES.get(str(d).replace("ember.", ""), (0.0, 0.0))
        rtol, atol = max(rtol, r), max(atol, a)
    return rtol, atol


def _fail(msg: str | Callable[[str], str] | None, default: str) -> None:
    if msg is None:
        raise AssertionError(default)
    raise AssertionError(msg(default) if callable(msg) else msg)


def _index_str(flat: int, shape: tuple) -> str:
    return str(tuple(int(i) for i in numpy.unravel_index(flat, shape))) if shape else "()"


def _compare_arrays(a: numpy.ndarray, e: numpy.ndarray, rtol: float, atol: float,
                    equal_nan: bool, msg: Any, what: str) -> None:
    if a.size == 0:
        return
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        a, e = a.astype(numpy.int64), e.astype(numpy.int64)
    wide = numpy.complex128 if "c" in (a.dtype.kind, e.dtype.kind) else numpy.float64
    a64, e64 = a.astype(wide), e.astype(wide)  # complex: |a - e| is the modulus, as torch
    with numpy.errstate(invalid="ignore", over="ignore"):
        diff = numpy.abs(a64 - e64)
        close = diff <= atol + rtol * numpy.abs(e64)
        close |= a64 == e64  # equal infinities
        if equal_nan:
            close |= numpy.isnan(a64) & numpy.isnan(e64)
    if close.all():
        return
    bad = int((~close).sum())
    shape = a.shape
    diff = numpy.where(numpy.isnan(diff), numpy.inf, diff)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        rel = diff / numpy.abs(e64)
    rel = numpy.where(numpy.isnan(rel), numpy.inf, rel)
    worst_abs, worst_rel = int(numpy.argmax(diff)), int(numpy.argmax(rel))
    if a.dtype.kind in "iub" and e.dtype.kind in "iub" and rtol == 0 and atol == 0:
        head = f"{what} are not equal!"
    else:
        head = f"{what} are not close!"
    text = (f"{head}\n\nMismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)\n"
            f"Greatest absolute difference: {diff.reshape(-1)[worst_abs]} at index "
            f"{_index_str(worst_abs, shape)} (up to {atol} allowed)\n"
            f"Greatest relative difference: {rel.reshape(-1)[worst_rel]} at index "
            f"{_index_str(worst_rel, shape)} (up to {rtol} allowed)")
    _fail(msg, text)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, bool, numpy.number, numpy.bool_)) and not isinstance(
        x, complex)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None
                 ) -> None:
    """Raise AssertionError unless `actual` and `expected` are close: |a - e| <= atol + rtol |e|.

    Tensors must also agree in shape, and (unless switched off) dtype and device. Without
    rtol/atol the looser dtype's defaults apply (float32: 1.3e-6 and 1e-5; integers: exact).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, (str, bytes)) or isinstance(expected, (str, bytes)):
        if actual != expected:
            _fail(msg, f"{actual!r} != {expected!r}")
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected,
                                                                  collections.abc.Mapping):
        if set(actual) != set(expected):
            _fail(msg, f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                       f"{sorted(map(str, expected))}")
        for key in expected:
            _nested(actual[key], expected[key], f"item [{key!r}]", rtol, atol, equal_nan,
                    check_device, check_dtype, msg, allow_subclasses)
        return
    if isinstance(actual, collections.abc.Sequence) and isinstance(
            expected, collections.abc.Sequence):
        if len(actual) != len(expected):
            _fail(msg, f"The length of the sequences mismatch: {len(actual)} != "
                       f"{len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _nested(a, e, f"item [{i}]", rtol, atol, equal_nan, check_device, check_dtype, msg,
                    allow_subclasses)
        return
    _leaf(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg,
          allow_subclasses)


def _nested(a: Any, e: Any, where: str, *args: Any) -> None:
    try:
        assert_close(a, e, rtol=args[0], atol=args[1], equal_nan=args[2],
                     check_device=args[3], check_dtype=args[4], msg=args[5],
                     allow_subclasses=args[6])
    except AssertionError as exc:
        if args[5] is not None:
            raise
        raise AssertionError(f"{exc}\n\nThe failure occurred for {where}.") from None


def _leaf(actual: Any, expected: Any, rtol: Any, atol: Any, equal_nan: bool,
          check_device: bool, check_dtype: bool, msg: Any, allow_subclasses: bool) -> None:
    if isinstance(expected, Tensor) or isinstance(actual, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{type(actual)} and {type(expected)}.")
        if not allow_subclasses and type(actual) is not type(expected):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{type(actual)} and {type(expected)}.")
        if tuple(actual.shape) != tuple(expected.shape):
            _fail(msg, f"The values for attribute 'shape' do not match: {actual.shape} != "
                       f"{expected.shape}.")
        if check_device and actual.device != expected.device:
            _fail(msg, f"The values for attribute 'device' do not match: {actual.device} != "
                       f"{expected.device}.")
        if check_dtype and actual.dtype != expected.dtype:
            _fail(msg, f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                       f"{expected.dtype}.")
        if rtol is None:
            rtol, atol = _default_tolerances(actual.dtype, expected.dtype)
        _compare_arrays(backend.to_numpy(actual.detach()._data),
                        backend.to_numpy(expected.detach()._data), rtol, atol, equal_nan, msg,
                        "Tensor-likes")
        return
    if isinstance(actual, numpy.ndarray) and isinstance(expected, numpy.ndarray):
        if actual.shape != expected.shape:
            _fail(msg, f"The values for attribute 'shape' do not match: {actual.shape} != "
                       f"{expected.shape}.")
        if check_dtype and actual.dtype != expected.dtype:
            _fail(msg, f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                       f"{expected.dtype}.")
        if rtol is None:
            rtol, atol = _default_tolerances(actual.dtype, expected.dtype)
        _compare_arrays(actual, expected, rtol, atol, equal_nan, msg, "Tensor-likes")
        return
    if _is_number(actual) and _is_number(expected):
        if check_dtype and type(actual) is not type(expected) and not (
                isinstance(actual, (int, bool)) and isinstance(expected, (int, bool))
                and type(actual) is type(expected)):
            _fail(msg, f"The values for attribute 'dtype' do not match: {type(actual)} != "
                       f"{type(expected)}.")
        if rtol is None:
            floating = isinstance(actual, float) or isinstance(expected, float)
            rtol, atol = _TOLERANCES["float64"] if floating else (0.0, 0.0)
        a, e = float(actual), float(expected)
        if a == e or (equal_nan and math.isnan(a) and math.isnan(e)):
            return
        if abs(a - e) <= atol + rtol * abs(e):
            return
        what = "Scalars are not close!" if rtol or atol else "Scalars are not equal!"
        rel = abs(a - e) / abs(e) if e else math.inf
        _fail(msg, f"{what}\n\nExpected {expected} but got {actual}.\nAbsolute difference: "
                   f"{abs(a - e)} (up to {atol} allowed)\nRelative difference: {rel} "
                   f"(up to {rtol} allowed)")
        return
    if actual is None and expected is None:
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.")


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Tensor:
    """A tensor of `shape` filled with uniform random values in [low, high): torch's defaults
    are [-9, 9] for floating and signed integer dtypes, [0, 10) for unsigned, and random bools.
    """
    from .creation import tensor  # noqa: PLC0415
    from .random import _generator_for  # noqa: PLC0415

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    d = dtypes.to_dtype(dtype)
    if requires_grad and not d.is_floating_point:
        raise ValueError("make_tensor: requires_grad must be False for integral dtype")
    rng = _generator_for(backend.CPU, None).rng
    if d is dtypes.bool_:
        values = rng.random(shape) < 0.5
    elif d.is_floating_point:
        lo = -9.0 if low is None else max(low, -9e30)
        hi = 9.0 if high is None else min(high, 9e30)
        if lo > hi:
            raise ValueError(f"make_tensor: low ({lo}) must not be greater than high ({hi})")
        values = rng.uniform(lo, hi, size=shape)
        if exclude_zero:
            values[values == 0] = numpy.finfo(d.np).tiny
    else:
        info = numpy.iinfo(d.np)
        lo = int(math.ceil(low)) if low is not None else (0 if info.min == 0 else -9)
        hi = int(math.ceil(high)) if high is not None else 10
        lo, hi = max(lo, int(info.min)), min(hi, int(info.max) + 1)
        if lo >= hi:
            raise ValueError(f"make_tensor: low ({lo}) must be less than high ({hi})")
        values = rng.integers(lo, hi, size=shape)
        if exclude_zero:
            values[values == 0] = 1
    out = tensor(values, dtype=d, device=device)
    if noncontiguous and out.numel() > 1:
        out = out.repeat_interleave(2, dim=-1)[..., ::2]
    if requires_grad:
        out.requires_grad_(True)
    return out


_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """The pre-1.12 assertion (deprecated in torch for assert_close): dtypes may differ,
    NaNs compare equal, and the default tolerances are the older, looser ones."""
    import warnings  # noqa: PLC0415

    from . import creation  # noqa: PLC0415

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed "
                  "in a future release. Please use `torch.testing.assert_close()` instead.",
                  FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = creation.tensor(actual)
    if not isinstance(expected, Tensor):
        expected = creation.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pair = [_ALLCLOSE_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pair), max(p[1] for p in pair)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)
