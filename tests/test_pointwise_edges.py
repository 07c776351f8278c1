"""Edge cases of ember/ops/pointwise.py and unary.py found by fuzzing, each compared with torch:
lgamma/polygamma at poles, infinities and subnormals, sinc in low precision and its gradient
near 0, xlog1py's gradients at x = 0, argument and dtype checks, out=, clamp and lerp."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

inf, nan = math.inf, math.nan


def _np(t: object) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().to(torch.float64 if not t.is_complex() else torch.complex128).numpy()
    return np.asarray(t.detach().to(ember.float64 if not t.is_complex() else ember.complex128)
                      .numpy())


def _same(e: object, t: object, rtol: float = 1e-12) -> None:
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
    a, b = _np(e), _np(t)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)
    real = ~np.isnan(b.real)  # the sign of zeros and infinities (not of NaN)
    np.testing.assert_array_equal(np.signbit(a.real[real]), np.signbit(b.real[real]))


def _agree(fn, rtol: float = 1e-12) -> None:  # noqa: ANN001
    _same(fn(ember), fn(torch), rtol)


def _raises_same(fn) -> None:  # noqa: ANN001
    with pytest.raises(Exception) as t_exc:
        fn(torch)
    with pytest.raises(Exception) as e_exc:
        fn(ember)
    assert type(e_exc.value) is type(t_exc.value), (e_exc.value, t_exc.value)
    assert str(e_exc.value).split("\n")[0] == str(t_exc.value).split("\n")[0]


def _grads(fn, *values, dtype: str = "float64") -> None:  # noqa: ANN001
    """fn's gradients with respect to each input, Ember's against torch's."""
    results = []
    for m in (ember, torch):
        xs = [m.tensor(v, dtype=getattr(m, dtype), requires_grad=True) for v in values]
        fn(m, *xs).sum().backward()
        results.append([x.grad for x in xs])
    for e, t in zip(*results, strict=True):
        _same(e, t)


def test_lgamma_at_minus_infinity_and_subnormals() -> None:
    _agree(lambda m: m.lgamma(m.tensor([-inf, -1e300, 1e-310, -1e-310, 5e-324, -0.0, 0.0, inf,
                                        -2.5, nan], dtype=m.float64)))
    _agree(lambda m: m.lgamma(m.tensor([-inf, 1e-40, -3.0])), rtol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_at_poles_and_infinities(n: int) -> None:
    values = [-1.0, -2.0, -3.0, 0.0, -0.0, inf, -inf, -1.5, 1.0, 7.25, nan]
    _agree(lambda m: m.polygamma(n, m.tensor(values, dtype=m.float64)), rtol=1e-10)


def test_trigamma_follows_torch_in_float32_and_float16() -> None:
    values = [-1.0, -2.0, 0.0, inf, -inf, -0.5, 0.25, 3.0, 40.0]
    _agree(lambda m: m.polygamma(1, m.tensor(values)), rtol=1e-5)
    _agree(lambda m: m.polygamma(1, m.tensor(values, dtype=m.float16)), rtol=1e-3)


def test_digamma_gradient_at_negative_integers() -> None:
    _grads(lambda m, x: m.digamma(x), [-1.0, -2.0, 0.0, -0.0, inf, 2.5])
    _grads(lambda m, x: m.lgamma(x), [-1.0, 0.0, -0.0, inf, -2.5])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sinc_low_precision_in_float32(dtype: str) -> None:
    values = [1.0, 2.0, 0.5, -1.0, 3.0, 1000.0, 0.0, 1e-3]
    _agree(lambda m: m.sinc(m.tensor(values, dtype=getattr(m, dtype))), rtol=0)


def test_sinc_gradient_near_zero() -> None:
    _grads(lambda m, x: m.sinc(x), [1e-8, 1e-300, 0.0, -1e-8, 1e-4, 1.0, 0.5, 1e-200, -1e-300])
    _grads(lambda m, x: m.sinc(x), [1e-8, 1e-30, 1e-4, 1.0, 0.0], dtype="float32")


def test_sinc_second_derivative() -> None:
    results = []
    for m in (ember, torch):
        x = m.tensor([0.3, 2.0, -1.5], dtype=m.float64, requires_grad=True)
        (g,) = m.autograd.grad(m.sinc(x).sum(), x, create_graph=True)
        g.sum().backward()
        results.append(x.grad)
    _same(*results, rtol=1e-9)


def test_complex_sinc_stays_complex() -> None:
    _agree(lambda m: m.sinc(m.tensor([1 + 1j, 0j, 0.5 + 0j, 1e-9j])), rtol=1e-6)
    _agree(lambda m: m.sinc(m.tensor([1 + 1j, -2.5 + 0.5j], dtype=m.complex128)))


def test_complex_sinc_gradient() -> None:
    results = []
    for m in (ember, torch):
        x = m.tensor([1 + 1j, 0.5 - 0.25j], dtype=m.complex128, requires_grad=True)
        m.sinc(x).abs().sum().backward()
        results.append(x.grad)
    _same(*results, rtol=1e-10)


def test_xlog1py_gradients_at_zero_x() -> None:
    x = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -0.0, 2.0]
    y = [-1.0, -2.0, inf, 0.5, -inf, -1.0, nan, -1.0, 0.25]
    _agree(lambda m: m.special.xlog1py(m.tensor(x, dtype=m.float64), m.tensor(y,
                                                                           dtype=m.float64)))
    _grads(lambda m, a, b: m.special.xlog1py(a, b), x, y)


def test_errors_match_torch() -> None:
    _raises_same(lambda m: m.special.multigammaln(m.tensor([2.0]), 0))
    _raises_same(lambda m: m.mvlgamma(m.tensor([2.0]), -1))
    for dtype in ("int64", "int32", "bool", "uint8", "complex64"):
        _raises_same(lambda m, d=dtype: m.frexp(m.ones(2, dtype=getattr(m, d))))
    _raises_same(lambda m: m.positive(m.tensor([True])))
    _raises_same(lambda m: m.deg2rad(m.tensor([1j])))
    _raises_same(lambda m: m.rad2deg(m.tensor([1j])))
    _raises_same(lambda m: m.lgamma(m.tensor([1j])))
    _raises_same(lambda m: m.digamma(m.tensor([1j])))
    _raises_same(lambda m: m.polygamma(1, m.tensor([1j])))
    _raises_same(lambda m: m.polygamma(2, m.tensor([1j])))
    _raises_same(lambda m: m.mvlgamma(m.tensor([1j]), 1))
    _raises_same(lambda m: m.nextafter(m.tensor([1.0]), 2.0))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_deg2rad_rad2deg_round_once(dtype: str) -> None:
    """A guard: 180 degrees in float16 is 3.1406 as torch (the factor must not be rounded to
    float16 first, which gives 3.143)."""
    d = dtype
    _agree(lambda m: m.deg2rad(m.tensor([180.0, 90.0, 360.0, 1000.0], dtype=getattr(m, d))), 0)
    _agree(lambda m: m.rad2deg(m.tensor([3.14159, 1.0, 10.0], dtype=getattr(m, d))), 0)


def test_out_argument() -> None:
    for name in ("deg2rad", "rad2deg", "lgamma", "digamma", "sinc"):
        for out_dtype in ("float64", "float16"):
            def run(m, name=name, out_dtype=out_dtype):  # noqa: ANN001, ANN202
                out = m.empty(2, dtype=getattr(m, out_dtype))
                result = getattr(m, name)(m.tensor([1.5, 3.0]), out=out)
                assert result is out
                return out
            _agree(run, rtol=1e-3)
        _raises_same(lambda m, n=name: getattr(m, n)(m.tensor([1.5]),
                                                       out=m.empty(1, dtype=m.int64)))
    _agree(lambda m: m.polygamma(2, m.tensor([1.5]), out=m.empty(1, dtype=m.float64)))
    _agree(lambda m: m.nextafter(m.tensor([1.5]), m.tensor([2.0]),
                                 out=m.empty(1)), rtol=0)


def test_nextafter_gradient() -> None:
    _grads(lambda m, a, b: m.nextafter(a, b), [1.0, 2.0, -3.0], [2.0, 0.0, -3.0])
    _agree(lambda m: m.nextafter(m.tensor([1.0, 0.0], dtype=m.bfloat16),
                                 m.tensor([2.0, -1.0], dtype=m.bfloat16)), rtol=0)


def test_clamp_keeps_nan_when_min_above_max() -> None:
    _agree(lambda m: m.clamp(m.tensor([nan, 1.0, 5.0]), min=4, max=2))
    _agree(lambda m: m.clamp(m.tensor([nan, 1.0], dtype=m.float16), min=4.0, max=2.0))


@pytest.mark.parametrize(("dtype", "bound"), [
    ("float16", dict(max=1e6)), ("float16", dict(min=-1e6)), ("float16", dict(min=65505.0)),
    ("bfloat16", dict(min=1e39)), ("float32", dict(max=-1e39)), ("int8", dict(min=300)),
    ("uint8", dict(max=256)), ("int16", dict(min=-40000)), ("int8", dict(min=1e39))])
def test_clamp_bound_beyond_dtype_raises(dtype: str, bound: dict) -> None:
    _raises_same(lambda m: m.clamp(m.tensor([1], dtype=getattr(m, dtype)), **bound))


@pytest.mark.parametrize(("dtype", "bound"), [
    ("float16", dict(max=inf)), ("float16", dict(min=nan)), ("bfloat16", dict(max=1e6)),
    ("uint8", dict(min=-1)), ("float16", dict(min=65504.0))])
def test_clamp_bound_within_dtype(dtype: str, bound: dict) -> None:
    _agree(lambda m: m.clamp(m.tensor([1, 3], dtype=getattr(m, dtype)), **bound))


def test_lerp_refuses_integers_and_mixed_dtypes() -> None:
    _raises_same(lambda m: m.lerp(m.tensor([1, 2]), m.tensor([3, 4]), 0.5))
    _raises_same(lambda m: m.lerp(m.tensor([1, 2]), m.tensor([3, 4]), m.tensor([1, 1])))
    _raises_same(lambda m: m.lerp(m.tensor([True]), m.tensor([True]), 0.5))
    _raises_same(lambda m: m.lerp(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64), 0.5))
    _raises_same(lambda m: m.lerp(m.tensor([1.0]), m.tensor([1]), 0.5))
    _raises_same(lambda m: m.lerp(m.tensor([1.0]), m.tensor([1.0]),
                                  m.tensor([0.5], dtype=m.float64)))
    _raises_same(lambda m: m.lerp(m.tensor([1.0], dtype=m.float16),
                                  m.tensor([1.0], dtype=m.float16), m.tensor([0.5])))
    _agree(lambda m: m.lerp(m.tensor([1.0]), m.tensor([2.0]), m.tensor(0.5, dtype=m.float64)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_lerp_low_precision_rounds_once(dtype: str) -> None:
    def run(m, weight):  # noqa: ANN001, ANN202
        d = getattr(m, dtype)
        w = m.tensor(weight, dtype=d) if isinstance(weight, list) else weight
        return m.lerp(m.tensor([0.1, 2.0, -3.3, 100.0], dtype=d),
                      m.tensor([1.5, 5.0, 7.7, -0.1], dtype=d), w)
    for weight in (0.3, 0.7, [0.3, 0.7, 0.45, 0.9]):
        _agree(lambda m, w=weight: run(m, w), rtol=0)
    _grads(lambda m, a, b: m.lerp(a, b, 0.3), [0.1, 2.0], [1.5, 5.0], dtype=dtype)


def test_diff_and_lerp_argument_errors() -> None:
    cases = (lambda m: m.diff(m.ones(3), n=-1), lambda m: m.diff(m.ones(3), prepend=1.0),
             lambda m: m.diff(m.ones(3), append=[1.0]), lambda m: m.lerp(2.0, m.ones(2), 0.5))
    for case in cases:
        kinds = []
        for m in (torch, ember):
            with pytest.raises((RuntimeError, TypeError)) as info:
                case(m)
            kinds.append(info.type)
        assert kinds[0] is kinds[1]


def test_clamp_gradient_is_zero_where_clamped_whatever_arrives() -> None:
    # an inf/NaN gradient arriving at a clamped entry gives +0 (grad * mask gave NaN)
    grads = []
    for m in (torch, ember):
        x = m.tensor([0.5, 2.0, -0.0, math.nan, 1.2], requires_grad=True)
        x.clamp(min=1.0, max=1.5).backward(m.tensor([math.inf, -1.0, math.nan, -1.0, 2.0]))
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    assert (np.signbit(grads[1]) == np.signbit(grads[0])).all()


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_frexp_mantissa_gradient(dtype: str) -> None:
    # torch: d mantissa / dx = 2^-exponent (the mantissa had no gradient)
    vals = [3.0, -0.75, 0.0, 1e-30, math.inf, 6e4]
    out = []
    for m in (torch, ember):
        x = m.tensor(vals, dtype=getattr(m, dtype), requires_grad=True)
        mantissa, exponent = m.frexp(x)
        mantissa.sum().backward()
        out.append((mantissa.tolist(), exponent.tolist(), x.grad.tolist(),
                    mantissa.grad_fn.name()))
    assert out[0] == out[1]
