"""The wider tensor surface against torch: linalg decompositions, order statistics, more
elementwise functions, layout helpers, in-place forms, index rules and error kinds.

Differentiable ops go through `conformance.compare` (values and every gradient under a random
upstream gradient, float64); the rest compare values and dtypes directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import Input, compare

import ember

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 3))
SPD = A @ A.T + 3 * np.eye(3)
TALL = RNG.standard_normal((4, 3))
WIDE = RNG.standard_normal((3, 4))


def fixed(values: np.ndarray) -> Input:
    return Input(values.shape, values=np.array(values, dtype=np.float64))


def same(e: ember.Tensor, t: torch.Tensor, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=rtol, atol=atol, equal_nan=True)


# --------------------------------------------------------------------- linalg with gradients
LINALG = {
    "inv": (lambda m, a: m.linalg.inv(a), [fixed(A)]),
    "inv_batch": (lambda m, a: m.inverse(a), [fixed(np.stack([A, SPD]))]),
    "det": (lambda m, a: m.linalg.det(a), [fixed(A)]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a)[1], [fixed(A)]),
    "logdet": (lambda m, a: m.logdet(a), [fixed(SPD)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [fixed(A), fixed(TALL[:3])]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [fixed(A), fixed(TALL[0])]),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), [fixed(SPD)]),
    "qr": (lambda m, a: m.linalg.qr(a), [fixed(TALL)]),
    "qr_wide": (lambda m, a: m.linalg.qr(a), [fixed(WIDE)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [fixed(SPD)]),
    # eigenvectors are defined up to sign: compare sign-free functions of them
    "eigh_vectors": (lambda m, a: (lambda w, v: v @ m.diag(w * w) @ v.mT)(*m.linalg.eigh(a)),
                     [fixed(SPD)]),
    "svd_tall": (lambda m, a: (lambda u, s, vh: (s, u @ vh))(*m.linalg.svd(a, False)),
                 [fixed(TALL)]),
    "svd_wide": (lambda m, a: (lambda u, s, vh: (s, u @ vh))(*m.linalg.svd(a, False)),
                 [fixed(WIDE)]),
    "pinv": (lambda m, a: m.linalg.pinv(a), [fixed(TALL)]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [fixed(TALL), fixed(WIDE.T)]),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a, -2), [fixed(A)]),
    "matrix_power_zero": (lambda m, a: m.linalg.matrix_power(a, 0) * a, [fixed(A)]),
    "cond": (lambda m, a: m.linalg.cond(a), [fixed(A)]),
    "matrix_norm_nuc": (lambda m, a: m.linalg.matrix_norm(a, "nuc"), [fixed(TALL)]),
    "matrix_norm_2": (lambda m, a: m.linalg.matrix_norm(a, 2), [fixed(TALL)]),
    "matrix_norm_inf": (lambda m, a: m.linalg.matrix_norm(a, math.inf), [fixed(TALL)]),
    "linalg_norm_2d_ord2": (lambda m, a: m.linalg.norm(a, 2), [fixed(TALL)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [(4, 3), (4, 3)]),
    "kron": (lambda m, a, b: m.kron(a, b), [(2, 2), (2, 3)]),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_matches_torch(name: str) -> None:
    fn, specs = LINALG[name]
    compare(fn, specs, dtype="float64")


def test_linalg_double_backward() -> None:
    for f in (lambda m, a: m.linalg.inv(a) ** 2, lambda m, a: m.linalg.det(a),
              lambda m, a: m.linalg.svdvals(a) ** 2):
        grads = []
        for m in (torch, ember):
            x = m.tensor(A.copy(), requires_grad=True)
            (g,) = m.autograd.grad(f(m, x).sum(), x, create_graph=True)
            (gg,) = m.autograd.grad((g * m.tensor(np.cos(np.arange(9.0)).reshape(3, 3))).sum(), x)
            grads.append(gg.detach().numpy())
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-9)


def test_singular_inverse_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="linalg.inv"):
        ember.linalg.inv(ember.zeros(2, 2))


# --------------------------------------------------------------------- more elementwise math
POINTWISE = {
    "hypot": (lambda m, a, b: m.hypot(a, b), [(3, 4), (4,)]),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), [(3, 4), (3, 4)]),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), [(3, 4), (3, 1)]),
    "xlogy": (lambda m, a, b: m.xlogy(a, b),
              [fixed(np.array([0.0, 1, 2, 0])), fixed(np.array([1.0, 2, 3, 5]))]),
    "lgamma": (lambda m, a: m.lgamma(a), [Input((2, 5), 0.1, 4.0)]),
    "digamma": (lambda m, a: m.digamma(a), [Input((2, 5), 0.1, 4.0)]),
    "polygamma1": (lambda m, a: m.polygamma(1, a), [Input((2, 5), 0.1, 4.0)]),
    "sinc": (lambda m, a: m.sinc(a), [fixed(np.array([0.0, 0.5, -1.3, 2.0]))]),
    "deg2rad": (lambda m, a: m.deg2rad(a), [(3,)]),
    "diff": (lambda m, a: m.diff(a, n=2, dim=0), [(4, 3)]),
    "diff_prepend": (lambda m, a, b: m.diff(a, prepend=b, append=b), [(2, 3), (2, 1)]),
    "trapezoid": (lambda m, a: m.trapezoid(a, dx=0.5, dim=0), [(4, 3)]),
    "logit_outside": (lambda m, a: m.logit(a), [fixed(np.array([-0.5, 0.3, 1.5]))]),
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_matches_torch(name: str) -> None:
    fn, specs = POINTWISE[name]
    compare(fn, specs, dtype="float64")


# --------------------------------------------------------------------- order statistics
STATS = {
    "cummax": (lambda m, a: m.cummax(a, 1), [fixed(np.array([[1.0, 3, 3, 2, 5, 5, 1]]))]),
    "cummin": (lambda m, a: a.cummin(0), [(4, 3)]),
    "logcumsumexp": (lambda m, a: m.logcumsumexp(a, 1), [(3, 4)]),
    "quantile": (lambda m, a: m.quantile(a, 0.3), [(3, 4)]),
    "quantile_dim": (lambda m, a: a.quantile(m.tensor([0.25, 0.9], dtype=m.float64), dim=1,
                                             keepdim=True), [(3, 4)]),
    "quantile_nearest": (lambda m, a: a.quantile(0.5, 0, interpolation="nearest"), [(4, 3)]),
    "quantile_midpoint": (lambda m, a: a.quantile(0.4, 1, interpolation="midpoint"), [(3, 4)]),
    "median_ties": (lambda m, a: a.median(), [fixed(np.array([[1.0, 2, 2, 1, 3, 2]]))]),
    "mode": (lambda m, a: m.mode(a, 1).values, [fixed(np.array([[1.0, 2, 2, 1, 3]]))]),
    "dist": (lambda m, a, b: m.dist(a, b, 3), [(3, 4), (4,)]),
    "cov": (lambda m, a: m.cov(a), [(3, 5)]),
    "corrcoef": (lambda m, a: m.corrcoef(a), [(3, 5)]),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_statistics_match_torch(name: str) -> None:
    fn, specs = STATS[name]
    compare(fn, specs, dtype="float64")


NAN_ROWS = np.array([[3.0, 1, 2, 2, 5, 5, 0], [1.0, np.nan, 4, 4, -1, 2, 2]])
VALUES = {
    "cummax_nan": lambda m: m.cummax(m.tensor(NAN_ROWS), 1),
    "cummin_int": lambda m: m.cummin(m.tensor([[4, 1, 1, 2]]), 1),
    "mode_indices": lambda m: m.mode(m.tensor([[1, 2, 2, 1, 3], [3, 3, 1, 1, 0]]), 1),
    "nanmedian": lambda m: m.nanmedian(m.tensor(NAN_ROWS), 1),
    "nanquantile": lambda m: m.nanquantile(m.tensor(NAN_ROWS), 0.5, dim=1),
    "quantile_nan": lambda m: m.quantile(m.tensor(NAN_ROWS), 0.5, dim=1),
    "aminmax": lambda m: m.aminmax(m.tensor(NAN_ROWS[:1]), dim=1),
    "bincount": lambda m: m.bincount(m.tensor([0, 1, 1, 3]), m.tensor([0.5, 1, 1, 2]), 6),
    "histc": lambda m: m.histc(m.tensor(TALL), bins=4, min=-2, max=2),
    "searchsorted": lambda m: m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]),
                                             m.tensor([[3, 7], [0, 4]]), right=True),
    "bucketize": lambda m: m.bucketize(m.tensor([0, 3, 6]), m.tensor([1, 3, 5])),
    "scatter_reduce_int_mean": lambda m: m.zeros(3, dtype=m.int64).scatter_reduce(
        0, m.tensor([0, 0, 1]), m.tensor([1, 2, 4]), "mean"),
    "nansum_int": lambda m: m.nansum(m.tensor([1, 2])),
    "cartesian_prod": lambda m: m.cartesian_prod(m.arange(2), m.tensor([5, 6, 7])),
    "gcd": lambda m: m.gcd(m.tensor([4, 6, 0]), m.tensor([6, 9, 5])),
    "heaviside": lambda m: m.heaviside(m.tensor([-1.0, 0, 2]), m.tensor([0.5])),
    "repeat_interleave_counts": lambda m: m.repeat_interleave(m.tensor([1, 0, 2])),
    "block_diag": lambda m: m.block_diag(m.ones(2, 2), m.tensor([1, 2, 3])),
    "diag_embed": lambda m: m.diag_embed(m.arange(6.0).reshape(2, 3), 1),
    "rot90": lambda m: m.rot90(m.arange(6).reshape(2, 3), -1, [0, 1]),
    "select": lambda m: m.arange(24).reshape(2, 3, 4).select(1, -1),
    "masked_scatter": lambda m: m.zeros(2, 3).masked_scatter(
        m.tensor([[True, False, True], [False, True, True]]), m.arange(10.0)),
    "put_accumulate": lambda m: m.zeros(2, 3).put_(m.tensor([0, 0, -1]), m.tensor([1.0, 2, 3]),
                                                   accumulate=True),
    "nested_list_index": lambda m: m.arange(24).reshape(2, 3, 4)[[[0, 1], [1, 0]]],
    "list_of_tensors_index": lambda m: m.arange(24).reshape(2, 3, 4)[[m.tensor(0), m.tensor(1)]],
}


def _flat(out: object) -> list:
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_torch(name: str) -> None:
    for e, t in zip(_flat(VALUES[name](ember)), _flat(VALUES[name](torch)), strict=True):
        same(e, t)


# --------------------------------------------------------------------- in-place forms
@pytest.mark.parametrize("op", ["exp2_", "expm1_", "log1p_", "rsqrt_", "reciprocal_", "square_",
                                "atan_", "erfinv_", "frac_", "lgamma_", "sinc_", "negative_"])
def test_inplace_unary_forms_match_torch_with_gradients(op: str) -> None:
    results = []
    for m in (torch, ember):
        a = m.tensor([0.1, 0.4, 0.7], requires_grad=True)
        b = a * 1
        getattr(b, op)()
        (b * m.tensor([1.0, -2.0, 3.0])).sum().backward()
        results.append((b.detach().numpy(), a.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["atan2_", "fmod_", "remainder_", "hypot_", "xlogy_", "eq_",
                                "lt_", "logical_and_"])
def test_inplace_binary_forms_match_torch(op: str) -> None:
    outs = [getattr(m.tensor([0.1, 0.4, 0.7]), op)(m.tensor([0.3, 0.4, 0.0]))
            for m in (ember, torch)]
    same(*outs, rtol=1e-6, atol=1e-7)


def test_inplace_view_changers() -> None:
    for name, args in (("t_", ()), ("transpose_", (0, 1)), ("unsqueeze_", (1,)),
                       ("squeeze_", ())):
        e, t = (m.arange(6.0).reshape(2, 3) for m in (ember, torch))
        assert getattr(e, name)(*args) is e
        getattr(t, name)(*args)
        same(e, t)
    x = ember.arange(6.0, requires_grad=True)
    y = x.reshape(2, 3) * 1
    y.t_()
    (y * ember.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 2, 4, 1, 3, 5])


# --------------------------------------------------------------------- autograd extras
def test_post_accumulate_grad_hook_sees_the_accumulated_grad() -> None:
    x = ember.ones(2, requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert [s.tolist() for s in seen] == [[2.0, 2.0], [5.0, 5.0]]
    with pytest.raises(RuntimeError):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_inference_mode_flag_and_variable() -> None:
    assert not ember.is_inference_mode_enabled()
    with ember.inference_mode():
        assert ember.is_inference_mode_enabled() and not ember.is_grad_enabled()
    assert not ember.is_inference_mode_enabled()
    assert ember.autograd.Variable(ember.ones(2), requires_grad=True).requires_grad


# --------------------------------------------------------------------- error kinds
ERRORS = {
    "bitwise_on_float": (lambda m: m.ones(2) & m.ones(2), NotImplementedError),
    "floor_divide_bool": (lambda m: m.tensor([True]) // m.tensor([True]), NotImplementedError),
    "invert_float": (lambda m: ~m.ones(2), TypeError),
    "div_bad_rounding_mode": (lambda m: m.div(m.ones(2), 2, rounding_mode="x"), RuntimeError),
    "float_alpha_on_ints": (lambda m: m.add(m.tensor([1]), m.tensor([1]), alpha=0.5),
                            RuntimeError),
    "where_float_condition": (lambda m: m.where(m.ones(2), 1.0, 0.0), RuntimeError),
    "size_of_floats": (lambda m: m.Size([2.5]), TypeError),
    "matrix_norm_bad_ord": (lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3), RuntimeError),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_kinds_match_torch(name: str) -> None:
    fn, kind = ERRORS[name]
    for m in (torch, ember):
        with pytest.raises(kind):
            fn(m)


def test_dlpack_capsule_round_trip() -> None:
    t = ember.arange(3.0)
    back = ember.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(t))
    np.testing.assert_array_equal(back.numpy(), [0.0, 1.0, 2.0])
