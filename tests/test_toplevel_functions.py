"""torch.* functions outside the tensor methods (ops/toplevel.py) and torch's top-level
spellings of functional layers, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import Input, assert_close, compare, gradcheck

import ember

DIFFERENTIABLE = {
    "cdist_p2": (lambda m, a, b: m.cdist(a, b), [(4, 3), (5, 3)]),
    "cdist_p1_batched": (lambda m, a, b: m.cdist(a, b, p=1.0), [(2, 4, 3), (2, 5, 3)]),
    "cdist_pinf": (lambda m, a, b: m.cdist(a, b, p=float("inf")), [(3, 2), (2, 2)]),
    "cdist_p3": (lambda m, a, b: m.cdist(a, b, p=3.0), [(3, 2), (4, 2)]),
    "pdist": (lambda m, a: m.pdist(a), [(5, 3)]),
    "pdist_p1": (lambda m, a: m.nn.functional.pdist(a, p=1.0), [(4, 2)]),
    "combinations": (lambda m, a: m.combinations(a, 2), [(4,)]),
    "combinations_r3_repl": (lambda m, a: m.combinations(a, 3, with_replacement=True), [(3,)]),
    "gradient": (lambda m, a: m.gradient(a), [(4, 5)]),
    "gradient_spacing_dim": (lambda m, a: m.gradient(a, spacing=0.5, dim=1, edge_order=2),
                             [(3, 5)]),
    "gradient_coords": (lambda m, a: m.gradient(
        a, spacing=(m.tensor([0.0, 0.5, 1.5, 3.0], dtype=a.dtype),), dim=0), [(4, 2)]),
    "gradient_coords_order2": (lambda m, a: m.gradient(
        a, spacing=(m.tensor([0.0, 0.5, 1.5, 3.0, 3.2], dtype=a.dtype),), edge_order=2),
        [(5,)]),
    "cumulative_trapezoid": (lambda m, a: m.cumulative_trapezoid(a), [(3, 5)]),
    "cumulative_trapezoid_x": (lambda m, a, x: m.cumulative_trapezoid(a, x, dim=0),
                               [(4, 2), Input((4,), grad=False)]),
    "cumulative_trapezoid_dx": (lambda m, a: m.cumulative_trapezoid(a, dx=0.3), [(6,)]),
    "chain_matmul": (lambda m, a, b, c: m.chain_matmul(a, b, c), [(2, 3), (3, 4), (4, 2)]),
    "conv2d": (lambda m, x, w: m.conv2d(x, w, None, 1, 1), [(1, 2, 5, 5), (3, 2, 3, 3)]),
    "max_pool2d": (lambda m, x: m.max_pool2d(x, 2), [(1, 2, 4, 4)]),
    "layer_norm": (lambda m, x, w, b: m.layer_norm(x, (4,), w, b, 1e-5, True),
                   [(3, 4), (4,), (4,)]),
    "group_norm": (lambda m, x: m.group_norm(x, 2), [(2, 4, 3)]),
    "batch_norm": (lambda m, x, w, b: m.batch_norm(x, w, b, None, None, True, 0.1, 1e-5,
                                                   True), [(4, 3), (3,), (3,)]),
    "embedding": (lambda m, w, i: m.embedding(w, i),
                  [(5, 3), Input((4,), values=np.array([0, 2, 4, 2]), grad=False)]),
    "cosine_similarity": (lambda m, a, b: m.cosine_similarity(a, b), [(3, 4), (3, 4)]),
    "selu_celu": (lambda m, a: m.selu(a) + m.celu(a, 0.5), [(5,)]),
    "bilinear": (lambda m, a, b, w: m.bilinear(a, b, w, None), [(2, 3), (2, 4), (5, 3, 4)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_differentiable_functions_match_torch(name, dtype) -> None:
    fn, specs = DIFFERENTIABLE[name]
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else {}
    compare(fn, specs, dtype=dtype, **tol)


@pytest.mark.parametrize("kwargs", [{}, {"N": 3, "increasing": True}, {"N": 0}])
def test_vander_matches_torch(kwargs) -> None:
    # torch's own vander backward fails (an in-place write in its formula): values only, and
    # Ember's gradient through its float64 gradcheck
    compare(lambda m, a: m.vander(a, **kwargs), [(4,)], dtype="float64", grad=False)
    compare(lambda m, a: m.vander(a, **kwargs), [Input((4,), integer=True, low=-3, high=4,
                                                        dtype="int64", grad=False)], grad=False)
    gradcheck(lambda m, a: m.vander(a, **kwargs), [(4,)])


def test_isin_unravel_index_and_predicates_match_torch() -> None:
    for kwargs in ({}, {"invert": True}):
        e = ember.isin(ember.tensor([[1, 2], [3, 4]]), ember.tensor([2, 4, 7]), **kwargs)
        t = torch.isin(torch.tensor([[1, 2], [3, 4]]), torch.tensor([2, 4, 7]), **kwargs)
        assert_close(e, t, 0, 0, "isin")
    assert_close(ember.isin(ember.tensor([1, 5]), 5), torch.isin(torch.tensor([1, 5]), 5), 0, 0,
                 "isin scalar")
    for idx, shape in (([0, 5, 11, -1], (3, 4)), (7, (2, 2, 2)), ([[3, 4]], 6)):
        e = ember.unravel_index(ember.tensor(idx), shape)
        t = torch.unravel_index(torch.tensor(idx), shape)
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_close(a, b, 0, 0, "unravel_index")
    for a, b in zip(ember.unravel_index(ember.tensor([12, -13, -1]), (3, 4)),
                    torch.unravel_index(torch.tensor([12, -13, -1]), (3, 4))):
        assert_close(a, b, 0, 0, "unravel_index out of range (torch wraps, no error)")
    for lib in (torch, ember):
        assert not lib.is_complex(lib.zeros(1))
        assert lib.is_signed(lib.zeros(1)) and lib.is_signed(lib.zeros(1, dtype=lib.int8))
        assert not lib.is_signed(lib.zeros(1, dtype=lib.uint8))
        assert not lib.is_signed(lib.zeros(1, dtype=lib.bool))


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, length, periodic) -> None:
    e = getattr(ember, name)(length, periodic, dtype=ember.float64)
    t = getattr(torch, name)(length, periodic, dtype=torch.float64)
    assert_close(e, t, 1e-10, 1e-12, name)
    assert getattr(ember, name)(5).dtype == ember.float32


@pytest.mark.parametrize("kwargs", [{}, {"bins": 5}, {"bins": 4, "range": (-1.0, 1.0)},
                                    {"bins": 3, "density": True}, {"bins": 4, "weight": True}])
def test_histogram_matches_torch(kwargs) -> None:
    x = np.random.default_rng(0).standard_normal(50).astype(np.float32)
    w = np.random.default_rng(1).uniform(0, 1, 50).astype(np.float32)
    e_kw, t_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        e_kw["weight"], t_kw["weight"] = ember.tensor(w), torch.tensor(w)
    e = ember.histogram(ember.tensor(x), **e_kw)
    t = torch.histogram(torch.tensor(x), **t_kw)
    assert_close(e.hist, t.hist, 1e-5, 1e-6, "hist")
    assert_close(e.bin_edges, t.bin_edges, 1e-6, 1e-6, "bin_edges")


@pytest.mark.parametrize("call", [
    lambda m: m.cdist(m.zeros(3), m.zeros(2, 3)),
    lambda m: m.cdist(m.zeros(2, 3), m.zeros(2, 4)),
    lambda m: m.pdist(m.zeros(2, 3, 4)),
    lambda m: m.combinations(m.zeros(2, 2)),
    lambda m: m.vander(m.zeros(2, 2)),
    lambda m: m.hann_window(-1),
    lambda m: m.gradient(m.zeros(1)),
])
def test_errors_are_torch_kinds(call) -> None:
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(ember)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))


def test_cholesky_ex_reports_info_like_torch() -> None:
    cases = [np.eye(2), -np.eye(2), np.array([[[4.0, 2], [2, 3]], [[1.0, 2], [2, 1]]]),
             np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, -1]])]
    for a in cases:
        t = torch.linalg.cholesky_ex(torch.tensor(a))
        e = ember.linalg.cholesky_ex(ember.tensor(a))
        assert_close(e.info, t.info, 0, 0, "info")
        ok = (t.info == 0).numpy()
        np.testing.assert_allclose(e.L.numpy()[ok], t.L.numpy()[ok], atol=1e-12)
    with pytest.raises(RuntimeError):
        ember.linalg.cholesky_ex(-ember.eye(2), check_errors=True)


def test_zero_dim_bernoulli_and_poisson() -> None:
    for lib in (torch, ember):
        b = lib.bernoulli(lib.tensor(1.0))
        p = lib.poisson(lib.tensor(0.0))
        assert b.shape == () and b.item() == 1.0 and p.shape == () and p.item() == 0.0
        assert lib.poisson(lib.tensor(3.0)).dtype == lib.float32


LINALG = {
    "diagonal": (lambda m, a: m.linalg.diagonal(a, offset=1), [(2, 3, 3)]),
    "vander": (lambda m, x: m.linalg.vander(x, N=4), [(2, 3)]),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a + 3 * m.eye(6, dtype=a.dtype).reshape(
        6, 2, 3), ind=1), [(6, 2, 3)]),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(
        a + 3 * m.eye(6, dtype=a.dtype).reshape(2, 3, 6), b), [(2, 3, 6), (2, 3)]),
    "solve_ex": (lambda m, a, b: m.linalg.solve_ex(a + 3 * m.eye(3, dtype=a.dtype), b).result,
                 [(3, 3), (3, 2)]),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_more_linalg_matches_torch(name) -> None:
    fn, specs = LINALG[name]
    compare(fn, specs, dtype="float64")


def test_linalg_errors_are_linalg_error_and_solve_ex_info() -> None:
    singular = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])
    for lib in (torch, ember):
        with pytest.raises(lib.linalg.LinAlgError):
            lib.linalg.inv(lib.zeros(2, 2))
        assert issubclass(lib.linalg.LinAlgError, RuntimeError)
    e = ember.linalg.solve_ex(ember.tensor(singular), ember.ones(3, dtype=ember.float64))
    t = torch.linalg.solve_ex(torch.tensor(singular), torch.ones(3, dtype=torch.float64))
    assert e.info.item() == t.info.item() and e.result.shape == t.result.shape


COPY_VARIANTS = {
    "diagonal_copy": (lambda m, a: m.diagonal_copy(a, 1, 0, 2), (3, 4, 5)),
    "t_copy": (lambda m, a: m.t_copy(a), (3, 4)),
    "expand_copy": (lambda m, a: m.expand_copy(a[:, :1], (2, 3, 4)), (3, 4)),
    "permute_copy": (lambda m, a: m.permute_copy(a, (2, 0, 1)), (2, 3, 4)),
    "view_copy": (lambda m, a: m.view_copy(a, (4, 6)), (2, 3, 4)),
    "view_copy_minus_one": (lambda m, a: m.view_copy(a, (-1,)), (2, 3)),
    "unsqueeze_copy": (lambda m, a: m.unsqueeze_copy(a, -1), (2, 3)),
    "squeeze_copy": (lambda m, a: m.squeeze_copy(a), (2, 1, 3, 1)),
    "squeeze_copy_dim": (lambda m, a: m.squeeze_copy(a, 1), (2, 1, 3, 1)),
    "select_copy": (lambda m, a: m.select_copy(a, 1, -1), (2, 3, 4)),
    "slice_copy": (lambda m, a: m.slice_copy(a, 1, 1, 4, 2), (2, 5, 3)),
    "slice_copy_default": (lambda m, a: m.slice_copy(a), (4, 2)),
    "split_copy": (lambda m, a: m.split_copy(a, 2, 1), (3, 5)),
    "split_with_sizes_copy": (lambda m, a: m.split_with_sizes_copy(a, [1, 3], 0), (4, 2)),
    "unbind_copy": (lambda m, a: m.unbind_copy(a, 1), (2, 3)),
    "unfold_copy": (lambda m, a: m.unfold_copy(a, 1, 2, 1), (3, 4)),
    "transpose_copy": (lambda m, a: m.transpose_copy(a, 0, -1), (2, 3, 4)),
    "alias_copy": (lambda m, a: m.alias_copy(a), (3, 2)),
    "adjoint": (lambda m, a: m.adjoint(a), (2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(COPY_VARIANTS))
def test_copy_variants(name: str) -> None:
    # torch's *_copy: the view op's values and gradient in a fresh contiguous tensor that shares
    # no memory with the input
    fn, shape = COPY_VARIANTS[name]
    data = np.random.default_rng(0).standard_normal(shape)
    outs = []
    for m in (torch, ember):
        x = m.tensor(data, requires_grad=True)
        y = fn(m, x)
        pieces = y if isinstance(y, tuple) else (y,)
        seeds = [m.tensor(np.arange(p.numel(), dtype=np.float64).reshape(tuple(p.shape)) + 1)
                 for p in pieces]
        sum((p * s).sum() for p, s in zip(pieces, seeds)).backward()
        contiguous = [p.is_contiguous() for p in pieces]
        with m.no_grad():
            x.add_(100.0)  # a copy keeps its values, a view would follow
        outs.append(([p.detach().numpy().copy() for p in pieces], x.grad.numpy(), contiguous,
                     type(y).__name__))
    (tp, tg, tc, tt), (ep, eg, ec, et) = outs
    assert (tc, tt) == (ec, et)
    assert len(tp) == len(ep)
    for a, b in zip(tp, ep):
        np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(eg, tg)


def test_view_as_real_copy_and_detach_copy() -> None:
    z = np.array([1 + 2j, -3 + 0.5j])
    for m in (torch, ember):
        x = m.tensor(z)
        r = m.view_as_real_copy(x)
        assert list(r.shape) == [2, 2]
        x.real.add_(10)  # the copy keeps the old values
        np.testing.assert_array_equal(r.numpy(), np.stack([z.real, z.imag], -1))
        back = m.view_as_complex_copy(r)
        np.testing.assert_array_equal(back.numpy(), z)
    d = ember.detach_copy(ember.ones(2, requires_grad=True))
    assert not d.requires_grad and d.grad_fn is None


def test_binomial_draws_and_errors() -> None:
    ember.manual_seed(0)
    count = ember.full((20000,), 10.0)
    draws = ember.binomial(count, ember.full((20000,), 0.3))
    assert draws.dtype == ember.float32
    assert set(np.unique(draws.numpy())) <= set(range(11))
    assert abs(float(draws.mean()) - 3.0) < 0.1 and abs(float(draws.var()) - 2.1) < 0.15
    for m in (torch, ember):
        nan = m.binomial(m.tensor([4.0, 4.0]), m.tensor([float("nan"), 1.0]))
        assert np.isnan(nan[0].item()) and nan[1].item() == 4.0
        with pytest.raises(ValueError, match="floating-point"):
            m.binomial(m.tensor([4, 5]), m.tensor([0.5, 0.5]))
        with pytest.raises(RuntimeError):
            m.binomial(m.tensor([4.0], dtype=m.float64), m.tensor([0.5]))
