"""Differential fuzzing of ember.linalg (and the top-level linear-algebra spellings) against
torch: values, dtypes, shapes, gradients (torch's, and float64 finite differences), keyword
arguments, edge cases (empty and batched matrices, singular inputs) and errors.

Every expected value is computed by torch on the same deterministic inputs. Decompositions
whose factors are unique only up to signs or phases (svd, eigh, eig, qr's signs) are compared
through gauge-invariant quantities, as torch's documentation advises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

F64, F32 = "float64", "float32"


# --------------------------------------------------------------------------------- helpers
def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def general(shape: tuple, seed: int = 0, dtype: str = F64) -> np.ndarray:
    """Well-conditioned square (or rectangular) matrices."""
    a = _rng(seed).standard_normal(shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + 3 * np.eye(shape[-1])
    return a.astype(dtype)


def spd(shape: tuple, seed: int = 1, dtype: str = F64) -> np.ndarray:
    X = _rng(seed).standard_normal(shape)
    return (X @ np.swapaxes(X, -1, -2) + np.eye(shape[-1])).astype(dtype)


def sym(shape: tuple, seed: int = 2, dtype: str = F64) -> np.ndarray:
    X = _rng(seed).standard_normal(shape)
    return (X + np.swapaxes(X, -1, -2)).astype(dtype)


def cplx(shape: tuple, seed: int = 3) -> np.ndarray:
    r = _rng(seed)
    a = r.standard_normal(shape) + 1j * r.standard_normal(shape)
    if shape[-1] == shape[-2]:
        a = a + 3 * np.eye(shape[-1])
    return a


def _to_np(x: object) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().resolve_conj().resolve_neg()
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def _dtype_name(t: object) -> str:
    return str(t.dtype).split(".")[-1]


def _flatten(out: object) -> list:
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flatten(x)]
    return [out]


def assert_same(t_out: object, e_out: object, rtol: float, atol: float) -> None:
    """The same structure, dtypes, shapes and (within tolerance) values."""
    t_list, e_list = _flatten(t_out), _flatten(e_out)
    assert len(t_list) == len(e_list)
    for t, e in zip(t_list, e_list, strict=True):
        if not isinstance(t, torch.Tensor):
            assert t == e
            continue
        assert _dtype_name(t) == _dtype_name(e), (t.dtype, e.dtype)
        assert tuple(t.shape) == tuple(e.shape), (t.shape, e.shape)
        np.testing.assert_allclose(_to_np(e), _to_np(t), rtol=rtol, atol=atol, equal_nan=True)


def _tol(dtype: str) -> dict:
    return {"rtol": 1e-4, "atol": 1e-4} if dtype in (F32, "complex64") else \
        {"rtol": 1e-8, "atol": 1e-9}


def compare(fn: object, *arrays: np.ndarray, grad: bool = False, rtol: float | None = None,
            atol: float | None = None, seed: int = 7) -> None:
    """fn(lib, *tensors) in torch and ember: outputs, then the gradients of a random weighted
    sum of the floating outputs with respect to every input."""
    dt = str(arrays[0].dtype)
    tol = _tol(dt)
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    t_in = [torch.tensor(a, requires_grad=grad) for a in arrays]
    e_in = [ember.tensor(a, requires_grad=grad) for a in arrays]
    t_out, e_out = fn(torch, *t_in), fn(ember, *e_in)
    assert_same(t_out, e_out, rtol, atol)
    if not grad:
        return
    rng = _rng(seed)
    t_loss, e_loss = 0, 0
    for t, e in zip(_flatten(t_out), _flatten(e_out), strict=True):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            w = rng.standard_normal(tuple(t.shape))
            if t.is_complex():
                w = w + 1j * rng.standard_normal(tuple(t.shape))
            t_loss = t_loss + (t * torch.tensor(w, dtype=t.dtype)).abs().sum() \
                if t.is_complex() else t_loss + (t * torch.tensor(w, dtype=t.dtype)).sum()
            ew = ember.tensor(w, dtype=e.dtype)
            e_loss = e_loss + (e * ew).abs().sum() if e.is_complex() else e_loss + (e * ew).sum()
    t_grads = torch.autograd.grad(t_loss, t_in, allow_unused=True)
    e_grads = ember.autograd.grad(e_loss, e_in, allow_unused=True)
    for tg, eg in zip(t_grads, e_grads, strict=True):
        if tg is None:
            assert eg is None or not np.any(_to_np(eg))
            continue
        assert eg is not None
        np.testing.assert_allclose(_to_np(eg), _to_np(tg), rtol=rtol * 10, atol=atol * 10)


def finite_diff(fn: object, a: np.ndarray, eps: float = 1e-6) -> None:
    """Ember's float64 gradient of sum(w * fn(A)) against central differences."""
    w = _rng(11).standard_normal(np.shape(_to_np(fn(ember.tensor(a)))))
    x = ember.tensor(a, requires_grad=True)
    (g,) = ember.autograd.grad((fn(x) * ember.tensor(w)).sum(), [x])
    num = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        d = np.zeros_like(a)
        d[idx] = eps
        hi = float((_to_np(fn(ember.tensor(a + d))) * w).sum())
        lo = float((_to_np(fn(ember.tensor(a - d))) * w).sum())
        num[idx] = (hi - lo) / (2 * eps)
    np.testing.assert_allclose(_to_np(g), num, rtol=1e-5, atol=1e-6)


def same_error(fn: object, *arrays: np.ndarray, match: str | None = None) -> None:
    """torch raises; ember raises the same standard exception type, naming the op."""
    with pytest.raises(Exception) as t_exc:
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(Exception) as e_exc:
        fn(ember, *[ember.tensor(a) for a in arrays])
    for kind in (NotImplementedError, IndexError, TypeError, ValueError, RuntimeError):
        if isinstance(t_exc.value, kind):
            assert isinstance(e_exc.value, kind), (t_exc.value, e_exc.value)
            break
    if match is not None:
        assert match in str(e_exc.value), str(e_exc.value)


def compare_or_error(fn: object, *arrays: np.ndarray) -> None:
    """Where torch raises, ember raises the same kind of error; else the same values."""
    try:
        fn(torch, *[torch.tensor(a) for a in arrays])
    except Exception:  # noqa: BLE001
        same_error(fn, *arrays)
        return
    compare(fn, *arrays)


SHAPES = [(3, 3), (2, 4, 4), (2, 1, 3, 3)]
DTYPES = [F32, F64]


# --------------------------------------------------------------------------------- det, inv
@pytest.mark.parametrize("shape", SHAPES + [(0, 0), (2, 0, 0), (0, 3, 3), (1, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["det", "slogdet", "inv", "inv_ex"])
def test_det_inv_values_and_grads(op: str, dtype: str, shape: tuple) -> None:
    a = general(shape, dtype=dtype)
    compare(lambda L, x: getattr(L.linalg, op)(x), a, grad=True)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)])
def test_det_inv_complex(shape: tuple) -> None:
    a = cplx(shape)
    for op in ("det", "inv"):
        compare(lambda L, x, op=op: getattr(L.linalg, op)(x), a, grad=True)
    compare(lambda L, x: L.linalg.slogdet(x), a)


@pytest.mark.parametrize("op", ["det", "inverse", "logdet", "slogdet"])
def test_toplevel_det_spellings(op: str) -> None:
    a = spd((2, 3, 3))
    compare(lambda L, x: getattr(L, op)(x), a, grad=True)
    compare(lambda L, x: getattr(x, op)(), a, grad=True)


def test_logdet_negative_and_zero_det() -> None:
    a = np.stack([np.diag([-1.0, 2.0, 3.0]), np.diag([0.0, 1.0, 1.0]), np.eye(3) * 2])
    compare(lambda L, x: L.logdet(x), a)
    compare(lambda L, x: L.linalg.slogdet(x), a)


def test_det_grad_finite_difference() -> None:
    finite_diff(lambda x: ember.linalg.det(x), general((3, 3)))
    finite_diff(lambda x: ember.linalg.inv(x), general((2, 3, 3)))
    finite_diff(lambda x: ember.linalg.slogdet(x)[1], general((3, 3)))


def test_det_grad_singular_matrix() -> None:
    """det's gradient is the adjugate's transpose, finite where A is singular (torch's is zero
    there, which finite differences contradict: a deliberate difference)."""
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    finite_diff(lambda x: ember.linalg.det(x), a)
    finite_diff(lambda x: ember.linalg.det(x), np.stack([a, general((3, 3))]))
    finite_diff(lambda x: ember.linalg.det(x), np.zeros((2, 2)))
    compare(lambda L, x: L.linalg.det(x), a)


def test_singular_inverse_errors() -> None:
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    same_error(lambda L, x: L.linalg.inv(x), s)
    same_error(lambda L, x: L.inverse(x), s)
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv(ember.tensor(s))


def test_inv_ex_singular_info() -> None:
    s = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.eye(2), np.zeros((2, 2))])
    t_info = torch.linalg.inv_ex(torch.tensor(s)).info
    e = ember.linalg.inv_ex(ember.tensor(s))
    assert_same(t_info, e.info, 0, 0)
    np.testing.assert_allclose(_to_np(e.inverse)[1], np.eye(2))
    same_error(lambda L, x: L.linalg.inv_ex(x, check_errors=True), s)


def test_det_slogdet_result_dtypes() -> None:
    t = torch.linalg.slogdet(torch.tensor(cplx((3, 3))))
    e = ember.linalg.slogdet(ember.tensor(cplx((3, 3))))
    assert _dtype_name(e.sign) == _dtype_name(t.sign)
    assert _dtype_name(e.logabsdet) == _dtype_name(t.logabsdet)
    assert type(e).__name__ == type(t).__name__ == "linalg_slogdet"
    assert e._fields == ("sign", "logabsdet")
    assert type(ember.slogdet(ember.eye(2))).__name__ == type(torch.slogdet(torch.eye(2))).__name__


# --------------------------------------------------------------------------------- solve
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 2)),
    ((2, 3, 3), (2, 3)), ((2, 1, 3, 3), (4, 3, 1)), ((2, 3, 3), (3,)), ((0, 3, 3), (0, 3, 2)),
    ((3, 3), (3, 0)),
])
def test_solve_shapes_and_grads(dtype: str, a_shape: tuple, b_shape: tuple) -> None:
    a, b = general(a_shape, dtype=dtype), _rng(5).standard_normal(b_shape).astype(dtype)
    compare(lambda L, x, y: L.linalg.solve(x, y), a, b, grad=True)


@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((3, 3), (2, 3)), ((2, 3, 3), (2, 4, 3)), ((3, 3), (5, 2, 3)), ((2, 3, 3), (1, 3)),
])
def test_solve_left_false(a_shape: tuple, b_shape: tuple) -> None:
    a, b = general(a_shape), _rng(5).standard_normal(b_shape)
    compare(lambda L, x, y: L.linalg.solve(x, y, left=False), a, b, grad=True)


def test_solve_complex_and_mixed_dtype_error() -> None:
    compare(lambda L, x, y: L.linalg.solve(x, y), cplx((2, 3, 3)), cplx((2, 3, 2), 4), grad=True)
    same_error(lambda L, x, y: L.linalg.solve(x, y.float()), general((3, 3)), general((3, 2)))


def test_solve_errors() -> None:
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    same_error(lambda L, x, y: L.linalg.solve(x, y), s, np.ones((2, 1)))
    same_error(lambda L, x, y: L.linalg.solve(x, y), general((3, 3)), np.ones((4, 1)))
    same_error(lambda L, x, y: L.linalg.solve(x, y), general((3, 4)), np.ones((3, 1)))
    same_error(lambda L, x, y: L.linalg.solve(x, y), np.eye(2, dtype=np.int64),
               np.ones((2, 1), dtype=np.int64))
    same_error(lambda L, x, y: L.linalg.solve(x, y), general((2, 3, 3)), np.ones((3, 3, 1)))
    for b_shape in [(3,), (2, 3)]:  # torch takes no vector B with left=False
        same_error(lambda L, x, y: L.linalg.solve(x, y, left=False), general((2, 3, 3)),
                   np.ones(b_shape), match="linalg.solve")


def test_solve_ex() -> None:
    a, b = general((2, 3, 3)), _rng(5).standard_normal((2, 3, 2))
    compare(lambda L, x, y: L.linalg.solve_ex(x, y), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.solve_ex(x, y, left=False), a, b.swapaxes(-1, -2))
    s = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.eye(2)])
    t_info = torch.linalg.solve_ex(torch.tensor(s), torch.ones(2, 2, 1, dtype=torch.float64)).info
    e_info = ember.linalg.solve_ex(ember.tensor(s), ember.ones(2, 2, 1, dtype=ember.float64)).info
    assert_same(t_info, e_info, 0, 0)
    same_error(lambda L, x: L.linalg.solve_ex(x, x, check_errors=True), s)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular(upper: bool, left: bool, unitriangular: bool) -> None:
    a = general((2, 3, 3))
    b = _rng(6).standard_normal((2, 3, 4) if left else (2, 4, 3))
    compare(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                      unitriangular=unitriangular),
            a, b, grad=True)


def test_solve_triangular_broadcast_and_errors() -> None:
    compare(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True), general((3, 3)),
            _rng(6).standard_normal((2, 3, 2)), grad=True)
    same_error(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True), general((3, 3)),
               np.ones(3))
    same_error(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True), general((3, 3)),
               np.ones((4, 2)))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_triangular_solve_toplevel(upper: bool, transpose: bool, unitriangular: bool) -> None:
    compare(lambda L, y, x: L.triangular_solve(y, x, upper=upper, transpose=transpose,
                                               unitriangular=unitriangular),
            _rng(6).standard_normal((2, 3, 2)), general((2, 3, 3)), grad=True)


def _factor(upper: bool) -> np.ndarray:
    factor = np.linalg.cholesky(spd((2, 3, 3)))
    return np.swapaxes(factor, -1, -2) if upper else factor


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_solve_and_inverse(upper: bool) -> None:
    b = _rng(7).standard_normal((2, 3, 2))
    compare(lambda L, y, f: L.cholesky_solve(y, f, upper=upper), b, _factor(upper))
    compare(lambda L, f: L.cholesky_inverse(f, upper=upper), _factor(upper)[0])
    compare(lambda L, y, f: L.cholesky_solve(y, f, upper=upper), b, _factor(upper)[0])


@pytest.mark.xfail(reason="ops/composite.py cholesky_solve: the factor's gradient is masked to "
                          "its triangle (torch's is the full matrix)", strict=True)
@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_solve_factor_grad(upper: bool) -> None:
    b = _rng(7).standard_normal((2, 3, 2))
    compare(lambda L, y, f: L.cholesky_solve(y, f, upper=upper), b, _factor(upper), grad=True)


# --------------------------------------------------------------------------------- lstsq
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("a_shape", [(5, 3), (2, 5, 3), (3, 3)])
def test_lstsq_fields(driver: str | None, a_shape: tuple) -> None:
    a = general(a_shape)
    b = _rng(8).standard_normal(a_shape[:-1] + (2,))
    compare(lambda L, x, y: tuple(L.linalg.lstsq(x, y, driver=driver)), a, b)
    compare(lambda L, x, y: L.linalg.lstsq(x, y, driver=driver).solution, a, b, grad=True)


@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss"])
def test_lstsq_wide_rank_deficient_and_rcond(driver: str) -> None:
    wide = general((3, 5))
    b = _rng(8).standard_normal((3, 2))
    compare(lambda L, x, y: tuple(L.linalg.lstsq(x, y, driver=driver)), wide, b)
    deficient = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    compare(lambda L, x, y: L.linalg.lstsq(x, y, driver=driver).rank, deficient, b)
    compare(lambda L, x, y: L.linalg.lstsq(x, y, rcond=0.5, driver=driver).rank,
            np.diag([1.0, 0.3, 2.0]), np.ones((3, 1)))


def test_lstsq_errors_and_vector_b() -> None:
    compare(lambda L, x, y: L.linalg.lstsq(x, y).solution, general((5, 3)), np.ones(5))
    same_error(lambda L, x, y: L.linalg.lstsq(x, y, driver="foo"), general((5, 3)),
               np.ones((5, 1)))
    same_error(lambda L, x, y: L.linalg.lstsq(x, y), np.ones((3, 2), dtype=np.int64),
               np.ones((3, 1), dtype=np.int64))
    same_error(lambda L, x, y: L.linalg.lstsq(x, y), general((5, 3)), np.ones((4, 1)),
               match="linalg.lstsq")
    same_error(lambda L, x, y: L.linalg.lstsq(x, y.float()), general((5, 3)), np.ones((5, 1)))
    compare(lambda L, x, y: tuple(L.linalg.lstsq(x, y)), general((2, 5, 3)),
            _rng(2).standard_normal((2, 5)))


# --------------------------------------------------------------------------------- cholesky
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 3, 3), (0, 0)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(dtype: str, shape: tuple, upper: bool) -> None:
    a = spd(shape, dtype=dtype)
    compare(lambda L, x: L.linalg.cholesky(x, upper=upper), a, grad=True)
    compare(lambda L, x: tuple(L.linalg.cholesky_ex(x, upper=upper)), a, grad=True)


def test_cholesky_reads_lower_triangle_and_complex() -> None:
    a = spd((3, 3))
    a[0, 2] = 100.0  # only the lower triangle is read
    compare(lambda L, x: L.linalg.cholesky(x), a)
    c = cplx((3, 3))
    compare(lambda L, x: L.linalg.cholesky(x @ x.mH), c, grad=True)
    compare(lambda L, x: L.cholesky(x, upper=True), spd((2, 3, 3)), grad=True)


def test_cholesky_errors_and_info() -> None:
    bad = np.stack([spd((3, 3)), np.diag([1.0, -1.0, 1.0]), np.diag([1.0, 1.0, 0.0])])
    same_error(lambda L, x: L.linalg.cholesky(x), bad, match="positive-definite")
    same_error(lambda L, x: L.linalg.cholesky_ex(x, check_errors=True), bad)
    t = torch.linalg.cholesky_ex(torch.tensor(bad))
    e = ember.linalg.cholesky_ex(ember.tensor(bad))
    assert_same(t.info, e.info, 0, 0)
    np.testing.assert_allclose(_to_np(e.L)[0], _to_np(t.L)[0])
    same_error(lambda L, x: L.linalg.cholesky(x), general((3, 4)))
    same_error(lambda L, x: L.linalg.cholesky(x), np.eye(3, dtype=np.int64))


# --------------------------------------------------------------------------------- qr
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3), (2, 3, 4), (0, 3), (3, 0)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_values(dtype: str, shape: tuple, mode: str) -> None:
    a = general(shape, dtype=dtype)
    compare(lambda L, x: tuple(L.linalg.qr(x, mode=mode)), a, rtol=1e-3 if dtype == F32 else None)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (2, 4, 3), (3, 5)])
@pytest.mark.parametrize("mode", ["reduced", "r"])
def test_qr_grads(shape: tuple, mode: str) -> None:
    a = general(shape)
    if mode == "r":  # torch: Q is not computed, so there is no derivative
        same_error(lambda L, x: L.linalg.qr(x.requires_grad_(), mode="r").R.sum().backward(), a,
                   match="mode='r'")
        return
    compare(lambda L, x: tuple(L.linalg.qr(x, mode=mode)), a, grad=True)
    finite_diff(lambda x: ember.linalg.qr(x).R, a)


def test_qr_complete_grad_square_and_errors() -> None:
    compare(lambda L, x: tuple(L.linalg.qr(x, mode="complete")), general((3, 3)), grad=True)
    same_error(lambda L, x: L.linalg.qr(x, mode="bogus"), general((3, 3)))
    same_error(lambda L, x: L.linalg.qr(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.qr(x), np.ones(3))
    compare(lambda L, x: tuple(L.qr(x)), general((4, 3)))
    compare(lambda L, x: tuple(L.qr(x, some=False)), general((4, 3)))


# --------------------------------------------------------------------------------- svd
def _svd_invariants(L: object, x: object, full: bool) -> tuple:
    U, S, Vh = L.linalg.svd(x, full_matrices=full)
    k = S.shape[-1]
    recon = (U[..., :, :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]
    proj_u = U @ U.mH  # the projector is sign free
    return S, recon, proj_u, U.shape, Vh.shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3), (2, 3, 4), (0, 3), (2, 0, 0)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_values(dtype: str, shape: tuple, full: bool) -> None:
    compare(lambda L, x: _svd_invariants(L, x, full), general(shape, dtype=dtype),
            rtol=1e-3 if dtype == F32 else None)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3)])
def test_svd_gauge_invariant_grads(shape: tuple) -> None:
    a = general(shape)
    compare(lambda L, x: L.linalg.svdvals(x), a, grad=True)
    compare(lambda L, x: _svd_invariants(L, x, False)[:2], a, grad=True)
    compare(lambda L, x: L.linalg.svd(x, full_matrices=False).U.abs(), a, grad=True)
    finite_diff(lambda x: ember.linalg.svdvals(x), a)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 3)])
def test_svd_full_matrices_grad(shape: tuple) -> None:
    """With full_matrices, torch differentiates through the first k singular vectors."""
    a = general(shape)

    def fn(L: object, x: object) -> tuple:
        U, S, Vh = L.linalg.svd(x, full_matrices=True)
        k = S.shape[-1]
        return S, ((U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]), U[..., :k].abs()

    compare(fn, a, grad=True)
    compare(lambda L, x: L.svd(x, some=False).S, a, grad=True)


def test_svd_toplevel_and_complex() -> None:
    compare(lambda L, x: (L.svd(x).S, L.svd(x, some=False).V.shape), general((4, 3)))
    compare(lambda L, x: tuple(L.svd(x, compute_uv=False)), general((4, 3)))
    compare(lambda L, x: tuple(L.svd(x, some=False, compute_uv=False)), general((2, 4, 3)))
    compare(lambda L, x: L.svd(x).S, general((4, 3)), grad=True)
    c = cplx((2, 4, 3))
    compare(lambda L, x: L.linalg.svdvals(x), c, grad=True)
    same_error(lambda L, x: L.linalg.svd(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.svdvals(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.svd(x), np.ones(3))


# --------------------------------------------------------------------------------- eigh
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 3, 3), (1, 1)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(dtype: str, shape: tuple, uplo: str) -> None:
    a = sym(shape, dtype=dtype)
    a[..., 0, -1] += 5.0  # the two triangles differ: UPLO decides which one is read
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == F32 else {}

    def invariants(L: object, x: object) -> tuple:
        w, V = L.linalg.eigh(x, UPLO=uplo)
        return w, (V * w.unsqueeze(-2).exp()) @ V.mH, V.abs()

    compare(lambda L, x: L.linalg.eigvalsh(x, UPLO=uplo), a, grad=True, **tol)
    compare(invariants, a, grad=True, **tol)


def test_eigh_errors_and_complex() -> None:
    same_error(lambda L, x: L.linalg.eigh(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.eigh(x), general((3, 4)))
    same_error(lambda L, x: L.linalg.eigh(x, UPLO="X"), sym((3, 3)))
    c = cplx((3, 3))
    compare(lambda L, x: L.linalg.eigvalsh(x + x.mH), c, grad=True)


# --------------------------------------------------------------------------------- eig
def _sorted_eigvals(L: object, x: object) -> object:
    w = L.linalg.eigvals(x)
    key = w.real * 1000 + w.imag
    return L.take_along_dim(w, key.argsort(-1), -1)


@pytest.mark.parametrize("dtype", DTYPES + ["complex128"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 3, 3)])
def test_eig_values_and_dtypes(dtype: str, shape: tuple) -> None:
    a = cplx(shape) if dtype == "complex128" else general(shape, dtype=dtype)
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == F32 else {}
    compare(_sorted_eigvals, a, **tol)

    def reconstruct(L: object, x: object) -> object:
        w, V = L.linalg.eig(x)
        return (V * w.unsqueeze(-2)) @ L.linalg.inv(V)

    compare(reconstruct, a, **tol)


def test_eig_grads_and_errors() -> None:
    a = general((3, 3))
    compare(lambda L, x: L.linalg.eigvals(x).abs(), a, grad=True)
    same_error(lambda L, x: L.linalg.eig(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.eigvals(x), general((3, 4)))
    same_error(lambda L, x: L.linalg.eig(x), np.ones(3))


# --------------------------------------------------------------------------------- norms
MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0), (-1, -2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord: object, dim: tuple, keepdim: bool) -> None:
    a = general((3, 4, 5))
    compare(lambda L, x: L.linalg.matrix_norm(x, ord, dim, keepdim), a, grad=True)
    compare(lambda L, x: L.linalg.norm(x, ord, dim, keepdim), a, grad=True)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_dtypes_and_defaults(ord: object) -> None:
    a = general((2, 3, 3), dtype=F32)
    compare(lambda L, x: L.linalg.matrix_norm(x, ord, dtype=L.float64), a)
    compare(lambda L, x: L.linalg.matrix_norm(x, ord), cplx((3, 3)), grad=True)
    compare(lambda L, x: L.linalg.norm(x, ord), a[0])
    compare(lambda L, x: L.linalg.matrix_norm(x), a)


def test_matrix_norm_errors() -> None:
    same_error(lambda L, x: L.linalg.matrix_norm(x, 3), general((3, 3)))
    same_error(lambda L, x: L.linalg.matrix_norm(x), np.ones(3))
    same_error(lambda L, x: L.linalg.matrix_norm(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.matrix_norm(x, dim=(0, 0)), general((3, 3)))
    same_error(lambda L, x: L.linalg.norm(x, "fro"), general((2, 3, 3)))
    same_error(lambda L, x: L.linalg.norm(x, "fro", dim=0), general((2, 3, 3)))
    same_error(lambda L, x: L.linalg.matrix_norm(x, dim=(0, 3)), general((2, 3, 3)))
    same_error(lambda L, x: L.linalg.matrix_norm(x, dtype=L.float32), general((3, 3)))
    same_error(lambda L, x: L.linalg.matrix_norm(x, dtype=L.complex64), general((3, 3)))
    same_error(lambda L, x: L.linalg.norm(x, 2, dim=(0, 1, 2)), general((2, 3, 3)))
    for shape in [(0, 3), (3, 0), (2, 0, 3), (0, 0)]:  # max over nothing is 0, min raises
        for ord in MATRIX_ORDS:
            compare_or_error(lambda L, x, ord=ord: L.linalg.matrix_norm(x, ord), np.zeros(shape))


@pytest.mark.parametrize("ord", [2, 1, 0, 3, 0.5, -1, -2, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (1,)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm(ord: object, dim: object, keepdim: bool) -> None:
    a = general((3, 4, 5))
    a[0, 0, 0] = 0.0
    compare(lambda L, x: L.linalg.vector_norm(x, ord, dim, keepdim), a, grad=ord not in (0,))
    if dim is None or isinstance(dim, int):
        compare(lambda L, x: L.linalg.norm(x.flatten() if dim is None else x, ord, dim, keepdim),
                a, grad=ord not in (0,))


def test_vector_norm_edges() -> None:
    compare(lambda L, x: L.linalg.vector_norm(x), np.zeros((0, 3)))
    compare(lambda L, x: L.linalg.vector_norm(x, dim=0), np.zeros((0, 3)))
    compare(lambda L, x: L.linalg.vector_norm(x, 0, dim=1), np.zeros((0, 3)))
    compare(lambda L, x: L.linalg.vector_norm(x), np.array(-3.0))
    compare(lambda L, x: L.linalg.vector_norm(x), np.zeros(4), grad=True)
    compare(lambda L, x: L.linalg.vector_norm(x, math.inf), np.array([1.0, -3.0, 3.0]),
            grad=True)
    compare(lambda L, x: L.linalg.vector_norm(x, 2), np.array([1.0, math.nan, math.inf]))
    compare(lambda L, x: L.linalg.vector_norm(x, math.inf), np.array([1.0, -math.inf]))
    compare(lambda L, x: L.linalg.vector_norm(x, 3, dtype=L.float64), general((3, 3), dtype=F32))
    compare(lambda L, x: L.linalg.vector_norm(x, 2), general((5,), dtype="float16"),
            rtol=1e-3, atol=1e-3)
    compare(lambda L, x: L.linalg.vector_norm(x, 1), cplx((2, 3)), grad=True)
    compare(lambda L, x: L.linalg.norm(x), general((2, 3, 4)))
    compare(lambda L, x: L.linalg.norm(x, dim=(0, 1)), general((2, 3, 4)))
    same_error(lambda L, x: L.linalg.vector_norm(x), np.ones(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.vector_norm(x, -1), np.zeros((0, 3)))
    same_error(lambda L, x: L.linalg.vector_norm(x, math.inf), np.zeros((0, 3)))
    same_error(lambda L, x: L.linalg.vector_norm(x, dtype=L.float32), general((3,)))
    same_error(lambda L, x: L.linalg.vector_norm(x, dtype=L.complex128), general((3,)))
    same_error(lambda L, x: L.linalg.vector_norm(x), np.ones(3, dtype=bool))
    same_error(lambda L, x: L.linalg.vector_norm(x, "fro"), general((3,)))
    same_error(lambda L, x: L.linalg.vector_norm(x, math.inf, dim=0), np.zeros((0, 3)))
    compare(lambda L, x: L.linalg.vector_norm(x, -1, dim=1), np.zeros((0, 3)))
    compare(lambda L, x: L.linalg.vector_norm(x, dim=0), np.array(-3.0))


# ------------------------------------------------------------------- pinv, rank, cond
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 3, 3), (0, 3)])
def test_pinv(shape: tuple) -> None:
    a = general(shape)
    compare(lambda L, x: L.linalg.pinv(x), a, grad=True)
    compare(lambda L, x: L.pinverse(x), a)


def test_pinv_tolerances_and_hermitian() -> None:
    d = np.diag([3.0, 1e-3, 0.5])
    for kw in ({"atol": 0.1}, {"rtol": 0.1}, {"atol": 0.6, "rtol": 0.01}, {"rtol": 0.0}):
        compare(lambda L, x, kw=kw: L.linalg.pinv(x, **kw), d)
        compare(lambda L, x, kw=kw: L.linalg.matrix_rank(x, **kw), d)
    h = sym((3, 3))
    compare(lambda L, x: L.linalg.pinv(x, hermitian=True), h, grad=True)
    compare(lambda L, x: L.linalg.matrix_rank(x, hermitian=True), h)
    lower_only = np.tril(h)  # hermitian=True reads only the lower triangle
    compare(lambda L, x: L.linalg.pinv(x, hermitian=True), lower_only)
    compare(lambda L, x: L.linalg.pinv(x, atol=L.tensor([0.1, 10.0]).double()),
            np.stack([d, d]))
    compare(lambda L, x: L.linalg.pinv(x, rcond=0.1), d)


def test_matrix_rank_and_errors() -> None:
    compare(lambda L, x: L.linalg.matrix_rank(x), np.array([[1.0, 2.0], [2.0, 4.0]]))
    compare(lambda L, x: L.linalg.matrix_rank(x), general((2, 4, 3)))
    compare(lambda L, x: L.linalg.matrix_rank(x), np.zeros((3, 0)))
    compare(lambda L, x: L.linalg.matrix_rank(x, tol=0.6), np.diag([3.0, 0.5]))
    for op in ("matrix_rank", "pinv"):
        same_error(lambda L, x, op=op: getattr(L.linalg, op)(x), np.eye(3, dtype=np.int64))
        same_error(lambda L, x, op=op: getattr(L.linalg, op)(x), np.ones(3))


@pytest.mark.parametrize("p", [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_cond(p: object) -> None:
    a = general((2, 3, 3))
    # torch's backward of the norm-based orders fails (its inv_ex output is modified in place)
    compare(lambda L, x: L.linalg.cond(x, p), a, grad=p in (None, 2, -2))
    if p not in (None, 2, -2):
        finite_diff(lambda x: ember.linalg.cond(x, p), a)
    if p in (None, 2, -2):
        compare(lambda L, x: L.linalg.cond(x, p), general((4, 3)))
        compare(lambda L, x: L.linalg.cond(x, p), np.zeros((2, 0, 0)))


def test_cond_errors() -> None:
    same_error(lambda L, x: L.linalg.cond(x, 1), general((4, 3)))
    same_error(lambda L, x: L.linalg.cond(x), np.ones(3))
    same_error(lambda L, x: L.linalg.cond(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.cond(x, 3), general((3, 3)))
    # a singular matrix: torch gives inf for the non-svd orders
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in (1, -1, "fro", math.inf, -math.inf):
        compare(lambda L, x, p=p: L.linalg.cond(x, p), np.stack([s, np.eye(2)]))
    compare(lambda L, x: L.linalg.cond(x), np.zeros((2, 2)))
    compare(lambda L, x: L.linalg.cond(x, -2), np.zeros((2, 2)))
    compare(lambda L, x: L.linalg.cond(x, 1), np.zeros((0, 0)))
    compare(lambda L, x: L.linalg.cond(x, "fro"), np.zeros((2, 0, 0)))
    compare(lambda L, x: L.linalg.cond(x), cplx((3, 3)))
    compare(lambda L, x: L.linalg.cond(x, 1), cplx((3, 3)))
    same_error(lambda L, x: L.linalg.cond(x, 1), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.cond(x), general((3, 3), dtype="float16"))


# --------------------------------------------------------------- matrix_power, matrix_exp
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2, -3])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (0, 2, 2)])
def test_matrix_power(n: int, shape: tuple) -> None:
    a = general(shape) / 3
    compare(lambda L, x: L.linalg.matrix_power(x, n), a, grad=True)
    compare(lambda L, x: L.matrix_power(x, n), a)


def test_matrix_power_integer_and_errors() -> None:
    ints = np.array([[1, 2], [3, 4]])
    compare(lambda L, x: L.linalg.matrix_power(x, 3), ints)
    compare(lambda L, x: L.linalg.matrix_power(x, 0), ints)
    same_error(lambda L, x: L.linalg.matrix_power(x, -1), ints)
    same_error(lambda L, x: L.linalg.matrix_power(x, 2), general((3, 4)))
    same_error(lambda L, x: L.linalg.matrix_power(x, 2), np.ones(3))
    same_error(lambda L, x: L.linalg.matrix_power(x, -1), np.array([[1.0, 2.0], [2.0, 4.0]]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 3, 3)])
@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_matrix_exp(dtype: str, shape: tuple, scale: float) -> None:
    a = (_rng(3).standard_normal(shape) * scale).astype(dtype)
    tol = {"rtol": 1e-4, "atol": 1e-4 * scale ** 2} if dtype == F32 else {}
    compare(lambda L, x: L.linalg.matrix_exp(x), a, grad=True, **tol)
    compare(lambda L, x: L.matrix_exp(x), a, **tol)


def test_matrix_exp_special_and_errors() -> None:
    compare(lambda L, x: L.linalg.matrix_exp(x), np.zeros((2, 3, 3)))
    compare(lambda L, x: L.linalg.matrix_exp(x), np.diag([1.0, -2.0, 0.5]), grad=True)
    compare(lambda L, x: L.linalg.matrix_exp(x), np.array([[0.0, 1.0], [-1.0, 0.0]]) * 3)
    compare(lambda L, x: L.linalg.matrix_exp(x), cplx((3, 3)) / 3, grad=True)
    finite_diff(lambda x: ember.linalg.matrix_exp(x), general((3, 3)) / 3)
    same_error(lambda L, x: L.linalg.matrix_exp(x), np.ones(3))
    same_error(lambda L, x: L.linalg.matrix_exp(x), general((3, 4)))
    same_error(lambda L, x: L.linalg.matrix_exp(x), np.eye(3, dtype=np.int64))


# --------------------------------------------------------------- cross, multi_dot, vecdot
def test_cross() -> None:
    a, b = general((4, 3)), general((4, 3), seed=1)
    compare(lambda L, x, y: L.linalg.cross(x, y), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.cross(x, y, dim=0), a.T.copy(), b.T.copy(), grad=True)
    compare(lambda L, x, y: L.linalg.cross(x, y), a, b[:1], grad=True)
    compare(lambda L, x, y: L.linalg.cross(x.mT, y.mT, dim=-2), a, b)
    compare(lambda L, x, y: L.cross(x, y, dim=1), a, b)
    same_error(lambda L, x, y: L.linalg.cross(x, y), general((4, 2)), general((4, 2)))
    same_error(lambda L, x, y: L.linalg.cross(x, y, dim=0), a, b)


@pytest.mark.parametrize("shapes", [
    [(3, 4), (4, 5)], [(3, 4), (4, 5), (5, 2)], [(4,), (4, 5), (5, 2)], [(3, 4), (4, 5), (5,)],
    [(4,), (4, 5), (5,)], [(2, 3), (3, 0), (0, 4)],
])
def test_multi_dot(shapes: list) -> None:
    arrays = [general(s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda L, *xs: L.linalg.multi_dot(list(xs)), *arrays, grad=True)
    compare(lambda L, *xs: L.chain_matmul(*xs), *arrays) if all(len(s) == 2 for s in shapes) \
        else None


def test_multi_dot_errors() -> None:
    same_error(lambda L, x: L.linalg.multi_dot([x]), general((3, 3)))
    same_error(lambda L, x, y: L.linalg.multi_dot([x, y]), general((2, 3, 3)), general((3, 3)))
    same_error(lambda L, x, y: L.linalg.multi_dot([x, y]), general((3, 4)), general((3, 4)))
    same_error(lambda L, x, y: L.linalg.multi_dot([x, y.float()]), general((3, 4)),
               general((4, 3)))


def test_vecdot() -> None:
    a, b = general((3, 4)), general((3, 4), seed=1)
    compare(lambda L, x, y: L.linalg.vecdot(x, y), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.vecdot(x, y, dim=0), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.vecdot(x, y), a, b[0], grad=True)
    compare(lambda L, x, y: L.linalg.vecdot(x, y), cplx((2, 3)), cplx((2, 3), 5), grad=True)
    compare(lambda L, x, y: L.vdot(x, y), cplx((1, 3))[0], cplx((1, 3), 5)[0])
    same_error(lambda L, x, y: L.linalg.vecdot(x, y), general((3, 4)), general((3, 5)))
    same_error(lambda L, x, y: L.linalg.vecdot(x, y.float()), general((3, 4)), general((3, 4)))


# --------------------------------------------------------------- householder_product
@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (2, 5, 3)])
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_householder_product(shape: tuple, k: int) -> None:
    a = general(shape)
    tau = _rng(4).standard_normal(shape[:-2] + (k,))
    compare(lambda L, x, t: L.linalg.householder_product(x, t), a, tau, grad=True)


def test_householder_product_of_geqrf_and_errors() -> None:
    a = general((5, 3))
    compare(lambda L, x: L.linalg.householder_product(*L.geqrf(x)), a)
    compare(lambda L, x: tuple(L.geqrf(x)), general((2, 5, 3)))
    same_error(lambda L, x, t: L.linalg.householder_product(x, t), general((3, 5)), np.ones(2))
    same_error(lambda L, x, t: L.linalg.householder_product(x, t), general((5, 3)), np.ones(4))
    same_error(lambda L, x, t: L.linalg.householder_product(x, t), general((5, 3)),
               np.ones((1, 2)))
    same_error(lambda L, x, t: L.linalg.householder_product(x, t.float()), general((5, 3)),
               np.ones(2))


# --------------------------------------------------------------- LU family
LU_SHAPES = [(3, 3), (4, 3), (3, 4), (2, 3, 3), (2, 1, 4, 2), (0, 3, 3), (0, 0), (3, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LU_SHAPES)
def test_lu_values_and_grads(dtype: str, shape: tuple) -> None:
    a = general(shape, dtype=dtype)
    compare(lambda L, x: tuple(L.linalg.lu(x)), a, grad=True)
    compare(lambda L, x: tuple(L.linalg.lu_factor(x)), a)
    compare(lambda L, x: tuple(L.linalg.lu_factor_ex(x)), a, grad=True)
    compare(lambda L, x: tuple(L.lu(x, get_infos=True)), a)
    compare(lambda L, x: tuple(L.lu_unpack(*L.linalg.lu_factor(x))), a, grad=True)


def test_lu_singular_and_ties() -> None:
    s = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((2, 2)), np.array([[1.0, 1.0],
                                                                                  [-1.0, 1.0]])])
    compare(lambda L, x: tuple(L.linalg.lu_factor_ex(x)), s)
    compare(lambda L, x: tuple(L.linalg.lu(x)), s)
    same_error(lambda L, x: L.linalg.lu_factor(x), s, match="lu_factor")
    same_error(lambda L, x: L.linalg.lu_factor_ex(x, check_errors=True), s)
    same_error(lambda L, x: L.linalg.lu_factor(x), np.eye(3, dtype=np.int64))
    same_error(lambda L, x: L.linalg.lu(x), np.ones(3))
    same_error(lambda L, x: L.linalg.lu(x), general((3, 3), dtype="float16"))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
@pytest.mark.parametrize("b_batch", [(), (2,)])
def test_lu_solve(left: bool, adjoint: bool, b_batch: tuple) -> None:
    a = general((2, 3, 3))
    b = _rng(9).standard_normal(b_batch + ((3, 4) if left else (4, 3)))

    def fn(L: object, x: object, y: object) -> object:
        LU, piv = L.linalg.lu_factor(x)
        return L.linalg.lu_solve(LU, piv, y, left=left, adjoint=adjoint)

    compare(fn, a, b, grad=True)
    compare(lambda L, x, y: L.lu_solve(y, *L.linalg.lu_factor(x)), a, b[..., :3, :3])


def test_lu_solve_complex_and_errors() -> None:
    c, b = cplx((3, 3)), cplx((3, 2), 4)
    for adjoint in (True, False):
        compare(lambda L, x, y, adj=adjoint: L.linalg.lu_solve(*L.linalg.lu_factor(x), y,
                                                                adjoint=adj), c, b, grad=True)
    a = general((3, 3))
    same_error(lambda L, x, y: L.linalg.lu_solve(*L.linalg.lu_factor(x), y), a, np.ones(3))
    same_error(lambda L, x, y: L.linalg.lu_solve(*L.linalg.lu_factor(x), y), a, np.ones((4, 1)))
    same_error(lambda L, x: L.lu_unpack(L.linalg.lu_factor(x)[0], L.linalg.lu_factor(x)[1].long()),
               a)
    compare(lambda L, x: tuple(L.lu_unpack(*L.linalg.lu_factor(x), unpack_data=False)), a)
    compare(lambda L, x: tuple(L.lu_unpack(*L.linalg.lu_factor(x), unpack_pivots=False)), a)


# --------------------------------------------------------------- tensorsolve, tensorinv
def test_tensorinv_and_tensorsolve() -> None:
    a = general((24, 24)).reshape(4, 6, 8, 3)
    compare(lambda L, x: L.linalg.tensorinv(x, ind=2), a, grad=True)
    compare(lambda L, x: L.linalg.tensorinv(x.reshape(24, 2, 12), ind=1), a, grad=True)
    b = _rng(10).standard_normal((4, 6))
    compare(lambda L, x, y: L.linalg.tensorsolve(x, y), a, b, grad=True)
    # dims moves those dims of A to the end: A (8, 4, 6, 3) with dims=(0,) solves like a
    compare(lambda L, x, y: L.linalg.tensorsolve(x, y, dims=(0,)), a.transpose(2, 0, 1, 3).copy(),
            b, grad=True)
    compare(lambda L, x, y: L.linalg.tensorsolve(x, y, dims=(-4,)),
            a.transpose(2, 0, 1, 3).copy(), b)
    same_error(lambda L, x: L.linalg.tensorinv(x, ind=0), a)
    same_error(lambda L, x: L.linalg.tensorinv(x, ind=1), a)
    same_error(lambda L, x, y: L.linalg.tensorsolve(x, y), a, np.ones((4, 5)))


# --------------------------------------------------------------- vander, diagonal
def test_vander() -> None:
    x = np.array([1.0, -2.0, 0.5, 3.0])
    compare(lambda L, t: L.linalg.vander(t), x, grad=True)
    compare(lambda L, t: L.linalg.vander(t, N=2), x, grad=True)
    compare(lambda L, t: L.linalg.vander(t, N=6), general((2, 4)), grad=True)
    compare(lambda L, t: L.linalg.vander(t), np.array([0.0, 2.0, -1.0]), grad=True)
    compare(lambda L, t: L.linalg.vander(t), np.array([1, 2, 3]))
    compare(lambda L, t: L.linalg.vander(t), np.array([1, 2, 3], dtype=np.int32))
    same_error(lambda L, t: L.linalg.vander(t), np.array([True, False]))
    same_error(lambda L, t: L.linalg.vander(t), np.array([1.0, 2.0], dtype=np.float16))
    same_error(lambda L, t: L.linalg.vander(t), np.zeros(0))
    compare(lambda L, t: L.linalg.vander(t), cplx((1, 3))[0])
    compare(lambda L, t: L.vander(t, N=3, increasing=False), x)
    same_error(lambda L, t: L.linalg.vander(t), np.array(2.0))
    same_error(lambda L, t: L.linalg.vander(t, N=1), x)
    same_error(lambda L, t: L.linalg.vander(t, N=0), x)


@pytest.mark.parametrize(("offset", "dim1", "dim2"), [(0, -2, -1), (1, -2, -1), (-1, 0, 2),
                                                        (5, -2, -1), (0, 2, 0)])
def test_diagonal(offset: int, dim1: int, dim2: int) -> None:
    a = general((2, 3, 4))
    compare(lambda L, x: L.linalg.diagonal(x, offset=offset, dim1=dim1, dim2=dim2), a,
            grad=True)
    same_error(lambda L, x: L.linalg.diagonal(x, dim1=0, dim2=0), a)


# --------------------------------------------------------------- top-level products
def test_trace_outer_kron() -> None:
    a = general((3, 4))
    compare(lambda L, x: L.trace(x), a, grad=True)
    compare(lambda L, x: L.trace(x), np.arange(6).reshape(2, 3))
    compare(lambda L, x: L.trace(x), np.zeros((0, 3)))
    same_error(lambda L, x: L.trace(x), general((2, 3, 3)))
    u, v = general((3,)), general((4,), seed=1)
    compare(lambda L, x, y: L.outer(x, y), u, v, grad=True)
    compare(lambda L, x, y: L.ger(x, y), u, v)
    compare(lambda L, x, y: L.outer(x, y), np.arange(3), np.arange(2))
    same_error(lambda L, x, y: L.outer(x, y), a, v)
    compare(lambda L, x, y: L.kron(x, y), a, general((2, 2), seed=4), grad=True)
    compare(lambda L, x, y: L.kron(x, y), general((2, 1, 3)), general((2, 2), seed=4), grad=True)


@pytest.mark.parametrize(("a_shape", "b_shape", "dims"), [
    ((3, 4, 5), (4, 5, 2), 2), ((3, 4), (4, 2), 1), ((3, 4), (5, 2), 0),
    ((3, 4, 5), (5, 3, 2), ([0, 2], [1, 0])), ((3, 4, 5), (2, 4), ([1], [1])),
    ((3, 4, 5), (5, 4), ((-1, -2), (0, 1))),
])
def test_tensordot(a_shape: tuple, b_shape: tuple, dims: object) -> None:
    compare(lambda L, x, y: L.tensordot(x, y, dims=dims), general(a_shape),
            general(b_shape, seed=1), grad=True)


def test_tensordot_errors() -> None:
    same_error(lambda L, x, y: L.tensordot(x, y, dims=1), general((3, 4)), general((3, 2)))
    same_error(lambda L, x, y: L.tensordot(x, y, dims=([0], [0, 1])), general((3, 4)),
               general((3, 4)))
    same_error(lambda L, x, y: L.tensordot(x, y, dims=-1), general((3, 4)), general((4, 2)))
    same_error(lambda L, x, y: L.tensordot(x, y, dims=1), general((3, 4)),
               general((4, 2), dtype=F32))
    same_error(lambda L, x, y: L.tensordot(x, y, dims=3), general((3, 4)), general((4, 2)))
    compare(lambda L, x, y: L.tensordot(x, y, dims=([0], [0])), general((1, 4)),
            general((3, 2)), grad=True)


@pytest.mark.parametrize(("eq", "shapes"), [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->j", [(3, 3, 2)]), ("bii->bi", [(2, 3, 3)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("...ij,...jk->...ik",
                                                                    [(2, 2, 3), (3, 4)]),
    ("i,i->", [(3,), (3,)]), ("i,j->ij", [(3,), (2,)]), ("ba", [(2, 3)]),
    ("...ii->...i", [(2, 3, 3)]), ("i...->...", [(3, 2, 2)]), ("bij,bjk->bik", [(2, 2, 3),
                                                                               (1, 3, 4)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]), ("ii,i->i", [(3, 3), (3,)]), ("i->", [(0,)]),
])
def test_einsum(eq: str, shapes: list) -> None:
    arrays = [general(s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda L, *xs: L.einsum(eq, *xs), *arrays, grad=True)
    compare(lambda L, *xs: L.einsum(eq, list(xs)), *arrays)


def test_einsum_sublist_and_errors() -> None:
    a, b = general((2, 3)), general((3, 4), seed=1)
    compare(lambda L, x, y: L.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b, grad=True)
    compare(lambda L, x, y: L.einsum(x, [0, 1], y, [1, 2]), a, b)
    compare(lambda L, x: L.einsum(x, [Ellipsis, 0], [Ellipsis]), a)
    same_error(lambda L, x, y: L.einsum("ij,jk->ik", x, y), a, a)
    same_error(lambda L, x: L.einsum("ij,jk->ik", x), a)
    same_error(lambda L, x: L.einsum("ijk->i", x), a)
    same_error(lambda L, x: L.einsum("ij->k", x), a)
    same_error(lambda L, x: L.einsum("ij->ii", x), a)
    same_error(lambda L, x: L.einsum("i.j->", x), a)
    compare(lambda L, x, y: L.einsum("ij,kj->ikj", x, y), general((2, 1)), general((3, 4)))
    compare(lambda L, x, y: L.einsum("ij,kj->ik", x, y), general((2, 1)), np.zeros((3, 0)))
    same_error(lambda L, x, y: L.einsum("ij,jk->ik", x, y), a, b.astype(F32))


@pytest.mark.parametrize("op", ["det", "slogdet", "inv", "inv_ex", "svdvals", "pinv",
                                "matrix_rank", "cond", "eigvalsh", "eigvals", "cholesky",
                                "lu_factor", "lu", "qr", "matrix_norm", "matrix_exp", "eig",
                                "eigh", "svd", "cholesky_ex", "lu_factor_ex"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float16"])
def test_dtype_errors(op: str, dtype: str) -> None:
    """torch's error kinds for integer, bool and half inputs (or the same values)."""
    a = np.array([[2, 1], [1, 3]]).astype(dtype)
    if dtype == "float16" and op == "matrix_norm":
        compare(lambda L, x: L.linalg.matrix_norm(x), a, rtol=1e-2, atol=1e-2)
        return
    if dtype == "float16" and op == "matrix_exp":  # torch's CPU half kernel overflows to inf
        e = ember.linalg.matrix_exp(ember.tensor(a))
        t = torch.linalg.matrix_exp(torch.tensor(a, dtype=torch.float32))
        assert _dtype_name(e) == "float16"
        np.testing.assert_allclose(_to_np(e), _to_np(t), rtol=1e-2)
        return
    same_error(lambda L, x: getattr(L.linalg, op)(x), a)
    same_error(lambda L, x: getattr(L.linalg, op)(x), np.ones(3, dtype=dtype))


# --------------------------------------------------------------- layouts, complex, results
@pytest.mark.parametrize("op", ["det", "inv", "slogdet", "svdvals", "eigvalsh", "matrix_exp",
                                "pinv", "matrix_norm", "cholesky", "qr", "lu_factor"])
def test_transposed_and_strided_inputs(op: str) -> None:
    a = spd((2, 4, 4))
    compare(lambda L, x: getattr(L.linalg, op)(x.mT), a, grad=True, rtol=1e-6, atol=1e-8)
    compare(lambda L, x: getattr(L.linalg, op)(x[:, ::2, ::2]), a, rtol=1e-6, atol=1e-8)
    if op == "matrix_exp":  # torch's matrix_exp fails on an expanded batch (a view error)
        e = ember.linalg.matrix_exp(ember.tensor(a).expand(3, 2, 4, 4))
        t = torch.linalg.matrix_exp(torch.tensor(a)).expand(3, 2, 4, 4)
        np.testing.assert_allclose(_to_np(e), _to_np(t), rtol=1e-6)
        return
    compare(lambda L, x: getattr(L.linalg, op)(x.expand(3, 2, 4, 4)), a, rtol=1e-6, atol=1e-8)


def test_solve_strided_operands() -> None:
    a, b = general((2, 3, 3)), _rng(5).standard_normal((2, 2, 3))
    compare(lambda L, x, y: L.linalg.solve(x.mT, y.mT), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.solve_triangular(x.mT, y.mT, upper=False), a, b, grad=True)
    compare(lambda L, x, y: L.linalg.lu_solve(*L.linalg.lu_factor(x.mT), y.mT), a, b)


@pytest.mark.parametrize("op", ["qr", "pinv", "matrix_rank", "lstsq", "householder_product",
                                "matrix_power", "cond", "eigvals", "matrix_exp", "multi_dot"])
def test_complex_inputs(op: str) -> None:
    a = cplx((2, 4, 3))
    sq = cplx((2, 3, 3), 4)
    fns = {
        "qr": (lambda L, x: L.linalg.qr(x).R.abs(), a),
        "pinv": (lambda L, x: L.linalg.pinv(x), a),
        "matrix_rank": (lambda L, x: L.linalg.matrix_rank(x), a),
        "lstsq": (lambda L, x: L.linalg.lstsq(x, x[..., :2]).solution, a),
        "householder_product": (lambda L, x: L.linalg.householder_product(x, x[..., 0, :2]), a),
        "matrix_power": (lambda L, x: L.linalg.matrix_power(x, -2), sq),
        "cond": (lambda L, x: L.linalg.cond(x, "fro"), sq),
        "eigvals": (lambda L, x: L.linalg.eigvals(x).abs().sort(-1).values, sq),
        "matrix_exp": (lambda L, x: L.linalg.matrix_exp(x / 3), sq),
        "multi_dot": (lambda L, x: L.linalg.multi_dot([x[0], x[1].mT, x[0]]), a),
    }
    fn, x = fns[op]
    compare(fn, x, grad=op not in ("matrix_rank", "cond"))


def test_result_field_names() -> None:
    a = ember.tensor(spd((3, 3)))
    assert ember.linalg.inv_ex(a)._fields == ("inverse", "info")
    assert ember.linalg.cholesky_ex(a)._fields == ("L", "info")
    assert ember.linalg.solve_ex(a, a)._fields == ("result", "info")
    assert ember.linalg.lu(a)._fields == ("P", "L", "U")
    assert ember.linalg.lu_factor_ex(a)._fields == ("LU", "pivots", "info")
    assert ember.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert ember.linalg.lstsq(a, a)._fields == ("solution", "residuals", "rank",
                                                "singular_values")
    assert ember.svd(a)._fields == ("U", "S", "V")
    t = torch.linalg.inv_ex(torch.tensor(spd((3, 3))))
    np.testing.assert_allclose(_to_np(ember.linalg.inv_ex(a).inverse), _to_np(t.inverse))


def test_lu_without_pivoting_and_slogdet_singular() -> None:
    same_error(lambda L, x: L.linalg.lu(x, pivot=False), general((3, 3)))
    same_error(lambda L, x: L.linalg.lu_factor(x, pivot=False), general((3, 3)))
    s = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), -np.eye(2)])
    compare(lambda L, x: tuple(L.linalg.slogdet(x)), s)
    compare(lambda L, x: L.linalg.det(x), s)


def test_slogdet_grad_at_singular_matrix_is_not_finite() -> None:
    """torch's gradient there is +-inf (its signs come from LU round-off: not compared)."""
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(s, requires_grad=True)
        lib.linalg.slogdet(x).logabsdet.backward()
        grads.append(_to_np(x.grad))
    np.testing.assert_array_equal(np.isinf(grads[1]), np.isinf(grads[0]))
    compare(lambda L, x: L.linalg.slogdet(x).logabsdet, np.stack([general((2, 2)), -np.eye(2)]),
            grad=True)


def test_more_argument_checks() -> None:
    a = general((3, 3))
    compare(lambda L, x, y: L.linalg.solve_triangular(x, y.float(), upper=True), a, a)
    compare(lambda L, x, y: L.linalg.solve_triangular(x.float(), y, upper=True), a, a,
            rtol=1e-5, atol=1e-6)
    same_error(lambda L, x, y: L.linalg.solve_triangular(x, y, upper=True),
               np.eye(2, dtype=np.int64), np.eye(2, dtype=np.int64))
    same_error(lambda L, x, y: L.linalg.solve_triangular(x.half(), y.half(), upper=True), a, a)
    for ord in ("nuc", 2, -2):
        same_error(lambda L, x, ord=ord: L.linalg.matrix_norm(x, ord), a.astype("float16"))
    same_error(lambda L, x, y: L.linalg.cross(x, y), general((2, 1, 3)), general((4, 3)))
    same_error(lambda L, x, y: L.linalg.cross(x, y.float()), general((2, 3)), general((2, 3)))
    same_error(lambda L, x, y: L.linalg.cross(x, y.float()), np.ones((2, 3), dtype=np.int64),
               general((2, 3)))
    compare(lambda L, x, y: L.linalg.cross(x, y), general((2, 1, 3)), general((1, 4, 3)),
            grad=True)
    same_error(lambda L, x: L.linalg.matrix_power(x, 2), np.eye(2, dtype=bool))
    compare(lambda L, x: L.linalg.matrix_power(x, 1), np.eye(2, dtype=bool))
    compare(lambda L, x: L.linalg.matrix_power(x, 0), np.eye(2, dtype=bool))
    same_error(lambda L, x: L.linalg.matrix_power(x, 2), np.ones((2, 3), dtype=np.int64))
    same_error(lambda L, x: L.linalg.matrix_power(x, -1), np.eye(2, dtype="float16"))


@pytest.mark.xfail(reason="torch's gelsy finds the rank with a column-pivoted QR, Ember from the "
                          "singular values: a truncating rcond may keep different directions",
                   strict=True)
def test_lstsq_gelsy_truncating_rcond() -> None:
    a = general((3, 3))
    compare(lambda L, x: L.linalg.lstsq(x, x, rcond=0.5).solution, a)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("dtype", [F64, "complex128"])
def test_ormqr(left: bool, transpose: bool, dtype: str) -> None:
    """torch.ormqr (ember.ops.matfun.ormqr until ember/__init__.py exports it)."""
    from ember.ops.matfun import ormqr

    a = cplx((2, 5, 3)) if dtype == "complex128" else general((2, 5, 3))
    c = cplx((2, 5, 4), 6) if dtype == "complex128" else general((2, 5, 4), seed=6)
    if not left:
        c = np.swapaxes(c, -1, -2).copy()
    t_a, t_tau = torch.geqrf(torch.tensor(a))
    e_a, e_tau = ember.geqrf(ember.tensor(a))
    t = torch.ormqr(t_a, t_tau, torch.tensor(c), left=left, transpose=transpose)
    e = ormqr(e_a, e_tau, ember.tensor(c), left=left, transpose=transpose)
    assert_same(t, e, 1e-10, 1e-10)
    x = ember.tensor(c, requires_grad=True)
    ormqr(e_a, e_tau, x, left=left, transpose=transpose).abs().sum().backward()
    tx = torch.tensor(c, requires_grad=True)
    torch.ormqr(t_a, t_tau, tx, left=left, transpose=transpose).abs().sum().backward()
    np.testing.assert_allclose(_to_np(x.grad), _to_np(tx.grad), rtol=1e-8, atol=1e-10)
    with pytest.raises(RuntimeError, match="ormqr"):
        ormqr(e_a, e_tau, ember.tensor(c[..., :4, :] if left else c[..., :4]), left=left)


def test_result_tuple_names_and_fields() -> None:
    # torch.* and torch.linalg.* name their result tuples apart (torch.svd gives V, linalg Vh)
    calls = {
        "svd": lambda m, x: m.svd(x), "linalg.svd": lambda m, x: m.linalg.svd(x),
        "qr": lambda m, x: m.linalg.qr(x), "eigh": lambda m, x: m.linalg.eigh(x),
        "slogdet": lambda m, x: m.slogdet(x), "linalg.slogdet": lambda m, x: m.linalg.slogdet(x),
        "inv_ex": lambda m, x: m.linalg.inv_ex(x), "cholesky_ex": lambda m, x: m.linalg.cholesky_ex(x),
        "solve_ex": lambda m, x: m.linalg.solve_ex(x, x), "lstsq": lambda m, x: m.linalg.lstsq(x, x),
        "nanmedian": lambda m, x: m.nanmedian(x, 0), "median": lambda m, x: m.median(x, 0),
    }
    for name, call in calls.items():
        t, e = call(torch, torch.eye(2)), call(ember, ember.eye(2))
        assert (type(e).__name__, sorted(e._fields)) == (type(t).__name__, _fields(t)), name


def _fields(t: object) -> tuple:
    """torch's structseq has no _fields: its field names are the attributes it exposes."""
    names = ("U", "S", "V", "Vh", "Q", "R", "eigenvalues", "eigenvectors", "sign", "logabsdet",
             "inverse", "info", "L", "result", "solution", "residuals", "rank",
             "singular_values", "values", "indices")
    return sorted(n for n in names if hasattr(t, n))
