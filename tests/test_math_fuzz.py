"""Differential tests of elementwise math and reductions against torch, at the edges that random
inputs hit: signed zeros, infinities, NaN, ties, and the numpy fallbacks of compiled kernels.
Inputs are deterministic; torch computes every expected value."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import kernels


def _same(expected: torch.Tensor, actual: ember.Tensor, zero_sign: bool = True) -> None:
    """Equal values (NaN where NaN, the sign of each zero unless told), dtype and shape."""
    e, a = expected.detach().numpy(), actual.detach().numpy()
    assert str(actual.dtype) == str(expected.dtype).replace("torch", "ember")
    assert a.shape == e.shape
    rtol = 1e-6 if e.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(a, e, rtol=rtol, atol=0, equal_nan=True)
    zero = e == 0
    assert not zero_sign or (np.signbit(a[zero]) == np.signbit(e[zero])).all(), (e, a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("compiled", [True, False])
def test_relu_signed_zero_and_nan_rules(dtype: str, compiled: bool) -> None:
    # relu(-0.0) stays -0.0; the gradient is +0 wherever the output is <= 0 (a negative, NaN or
    # infinite incoming gradient included) and a NaN output passes the incoming gradient
    x = np.array([-0.0, 0.0, -1.0, 2.0, np.nan, -np.inf, np.inf, -3.0], dtype=dtype)
    g = np.array([-1.0, -2.0, -np.inf, -1.0, -4.0, np.nan, 5.0, -1.0], dtype=dtype)
    was = kernels.is_enabled()
    kernels.set_enabled(compiled)
    try:
        results = []
        for m in (torch, ember):
            t = m.tensor(x, requires_grad=True)
            y = m.relu(t)
            y.backward(m.tensor(g))
            results.append((y, t.grad))
    finally:
        kernels.set_enabled(was)
    (ty, tg), (ey, eg) = results
    _same(ty, ey)
    _same(tg, eg)


_LERP_START = np.array([1.0, np.inf, -np.inf, 2.0, np.nan, 0.1, -3.0, 5.0])
_LERP_END = np.array([np.inf, np.inf, 3.0, -np.inf, 1.0, 0.7, 4.0, 5.0])


@pytest.mark.parametrize("weight", [0.25, 0.5, 0.75, 1.0, -0.7, 1.5])
@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_lerp_uses_torchs_two_formulas(weight: float, as_tensor: bool) -> None:
    # torch computes end - (end - start) * (1 - weight) where |weight| >= 0.5: exact at 1, NaN
    # for an infinite end
    out = []
    for m in (torch, ember):
        a = m.tensor(_LERP_START, requires_grad=True)
        b = m.tensor(_LERP_END, requires_grad=True)
        w = m.full((8,), weight, dtype=m.float64) if as_tensor else weight
        y = m.lerp(a, b, w)
        y.backward(m.linspace(-1, 1, 8, dtype=m.float64))
        out.append((y, a.grad, b.grad))
    (ty, *tgrads), (ey, *egrads) = out
    _same(ty, ey)
    for t, e in zip(tgrads, egrads):
        _same(t, e, zero_sign=False)
    f32 = [m.lerp(m.tensor([0.1, 0.2]), m.tensor([0.3, 0.9]), weight) for m in (torch, ember)]
    _same(*f32)


_QUANTILE_ROWS = np.array([
    [3.0, np.nan, 2.0, 2.0, 1.0],
    [0.5, -1.0, np.inf, 4.0, 1.0],
    [1.0, -np.inf, 1.0, 0.0, np.inf],
    [np.inf, np.inf, 1.0, 2.0, -0.0],
    [np.nan, np.nan, np.nan, np.nan, np.nan],
    [-0.0, -0.0, 1.0, 2.0, 3.0],
])


@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_quantile_infinities_nan_rows_and_gradients(op: str, interpolation: str) -> None:
    # torch picks (lower, higher, nearest) or lerps (linear, midpoint): an infinite neighbour
    # gives NaN only through lerp, and a NaN row's gradient reaches the NaN it picked
    for q in (0.2, 0.5, 0.9, [0.1, 0.6]):
        out = []
        for m in (torch, ember):
            x = m.tensor(_QUANTILE_ROWS, requires_grad=True)
            qq = m.tensor(q, dtype=m.float64) if isinstance(q, list) else q
            y = getattr(m, op)(x, qq, dim=1, interpolation=interpolation)
            y.backward(m.linspace(0.5, 2, y.numel(), dtype=m.float64).reshape(y.shape))
            out.append((y, x.grad))
        for t, e in zip(*out):
            _same(t, e)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logcumsumexp_nan_spoils_only_later_positions() -> None:
    # the shift by the row maximum must ignore NaN, or one NaN made the whole row NaN
    x = np.array([[3.0, np.inf, np.nan, 1.0], [3.0, np.nan, 1.0, 2.0], [1.0, -2.0, -np.inf, 0.5]])
    out = []
    for m in (torch, ember):
        t = m.tensor(x, requires_grad=True)
        y = m.logcumsumexp(t, 1)
        y.backward(m.linspace(-1, 1, 12, dtype=m.float64).reshape(3, 4))
        out.append((y, t.grad))
    for t, e in zip(*out):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12,
                                   equal_nan=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_remainder_zero_keeps_the_dividends_sign() -> None:
    # torch computes fmod and adds the divisor when the signs differ, so a zero result has the
    # dividend's sign (numpy's remainder gives it the divisor's)
    a = np.array([-3.0, 3.0, -0.0, 0.0, -4.5, 4.5, 2.0, -2.0, 7.0])
    b = np.array([1.5, -1.5, 2.0, -2.0, -1.5, 1.5, np.inf, np.inf, -3.5])
    for x, y in ((a, b), (a, 1.5), (a, -1.5), (-3.0, b), (a.astype(np.float32), 3)):
        t, e = (m.remainder(m.tensor(x) if isinstance(x, np.ndarray) else x,
                            m.tensor(y) if isinstance(y, np.ndarray) else y)
                for m in (torch, ember))
        _same(t, e)


def test_clamp_tensor_bounds_propagate_nan() -> None:
    x = np.array([-1.5, 0.0, 3.0, -2.5, np.nan, 1.0])
    lo = np.array([np.nan, 2.5, 1.0, np.nan, 0.0, 2.0])
    hi = np.array([0.0, np.nan, 2.0, 1.0, 1.0, np.nan])
    for kwargs in ({"min": lo}, {"max": hi}, {"min": lo, "max": hi}):
        t, e = (m.clamp(m.tensor(x), **{k: m.tensor(v) if isinstance(v, np.ndarray) else v
                                       for k, v in kwargs.items()}) for m in (torch, ember))
        _same(t, e)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_zero_base_scalar_exponent_gradient() -> None:
    # d(0 ** b)/db is 0 where b >= 0 and out * log(0) = -inf elsewhere (torch)
    b = np.array([-1.0, -0.5, 0.0, 0.5, 2.0])
    grads = []
    for m in (torch, ember):
        t = m.tensor(b, requires_grad=True)
        m.pow(0.0, t).backward(m.tensor([1.0, -2.0, 1.0, 1.0, -1.0], dtype=m.float64))
        grads.append(t.grad)
    _same(*grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_floor_division_is_python_s_rule(dtype):
    """torch computes a // b from fmod, as Python: 1 // 0.1 is 9 (floor(1 / 0.1) rounds to
    10), -1.5 // inf is -1, inf // 2 is NaN; the gradient is grad * 0."""
    a = np.array([1.0, -1.5, np.inf, -3.0, 7.5, 0.3, -0.0, 5.0, 2.5], dtype)
    b = np.array([0.1, np.inf, 2.0, 1.5, -2.0, 0.1, 3.0, 0.0, -np.inf], dtype)
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        with np.errstate(all="ignore"):
            q = lib.div(x, y, rounding_mode="floor")
            q.backward(lib.ones_like(q))
            results.append((q.detach().numpy(), lib.floor_divide(x.detach(), 0.1).numpy(),
                            x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)
