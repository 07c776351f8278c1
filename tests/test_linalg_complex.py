"""Complex inputs to the linalg functions, compared with torch: inv, det, slogdet, logdet, solve,
cholesky (and cholesky_solve / cholesky_inverse), eigh, eigvalsh, lu_factor / lu / lu_solve,
qr, svd and pinv, with their top-level and Tensor-method spellings.

Values and every gradient go through `conformance.compare` (a random complex upstream gradient,
so a missing conjugate or transpose shows), for complex64 and complex128, single and batched.
Eigen- and singular vectors are fixed only up to a phase per column, so those cases compare
phase-free quantities (V diag(f(L)) V^H, |V|), as torch's documentation advises. A float64
finite-difference check confirms torch's gradient convention (dL/dx + i dL/dy) independently.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autograd_helpers import check_same_error
from complex_finite_difference import finite_difference
from conformance import Input, compare

import ember

COMPLEX = ["complex64", "complex128"]
BATCHES = [(), (2,)]
N = 3


def _complex(shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def general(batch: tuple, seed: int = 0) -> np.ndarray:
    """Well-conditioned square matrices with no structure."""
    return _complex(batch + (N, N), seed) + 2.5 * np.eye(N)


def hermitian_pd(batch: tuple, seed: int = 1) -> np.ndarray:
    """Hermitian positive definite matrices X X^H + I, with distinct eigenvalues."""
    X = _complex(batch + (N, N), seed)
    return X @ np.conj(np.swapaxes(X, -1, -2)) + np.eye(N)


def rhs(batch: tuple, seed: int = 2, k: int = 2) -> np.ndarray:
    return _complex(batch + (N, k), seed)


def tall(batch: tuple, seed: int = 3) -> np.ndarray:
    return _complex(batch + (N + 2, N), seed)


def wide(batch: tuple, seed: int = 4) -> np.ndarray:
    return _complex(batch + (N, N + 2), seed)


def _spectral(m, w, V, f):
    """V diag(f(w)) V^H: free of each eigenvector's phase."""
    return (V * f(w).to(V.dtype).unsqueeze(-2)) @ V.mH


CASES = {
    "linalg.inv": (lambda m, a: m.linalg.inv(a), [general]),
    "inverse": (lambda m, a: m.inverse(a), [general]),
    "Tensor.inverse": (lambda m, a: a.inverse(), [general]),
    "linalg.inv_ex": (lambda m, a: tuple(m.linalg.inv_ex(a)), [general]),
    "linalg.det": (lambda m, a: m.linalg.det(a), [general]),
    "det": (lambda m, a: m.det(a), [general]),
    "Tensor.det": (lambda m, a: a.det(), [general]),
    "linalg.slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), [general]),
    "slogdet_sign": (lambda m, a: m.linalg.slogdet(a).sign, [general]),
    "slogdet_logabsdet": (lambda m, a: m.linalg.slogdet(a).logabsdet, [general]),
    "logdet": (lambda m, a: m.logdet(a), [general]),
    "Tensor.logdet": (lambda m, a: a.logdet(), [general]),
    "linalg.solve": (lambda m, a, b: m.linalg.solve(a, b), [general, rhs]),
    "linalg.solve_vector": (lambda m, a, b: m.linalg.solve(a, b[..., 0]), [general, rhs]),
    "linalg.solve_right": (lambda m, a, b: m.linalg.solve(a, b.mT, left=False), [general, rhs]),
    "linalg.solve_ex": (lambda m, a, b: tuple(m.linalg.solve_ex(a, b)), [general, rhs]),
    "linalg.solve_triangular": (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
                                [general, rhs]),
    "linalg.cholesky": (lambda m, a: m.linalg.cholesky(a), [hermitian_pd]),
    "linalg.cholesky_upper": (lambda m, a: m.linalg.cholesky(a, upper=True), [hermitian_pd]),
    "linalg.cholesky_ex": (lambda m, a: tuple(m.linalg.cholesky_ex(a)), [hermitian_pd]),
    "cholesky_solve": (lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(a)),
                       [hermitian_pd, rhs]),
    "Tensor.cholesky_solve_upper": (
        lambda m, a, b: b.cholesky_solve(m.linalg.cholesky(a, upper=True), upper=True),
        [hermitian_pd, rhs]),
    "cholesky_inverse": (lambda m, a: m.cholesky_inverse(m.linalg.cholesky(a)), [hermitian_pd]),
    "cholesky_inverse_upper": (
        lambda m, a: m.cholesky_inverse(m.linalg.cholesky(a, upper=True), upper=True),
        [hermitian_pd]),
    "linalg.eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [hermitian_pd]),
    "linalg.eigh_spectral": (lambda m, a: _spectral(m, *m.linalg.eigh(a), lambda w: w.sin()),
                             [hermitian_pd]),
    "linalg.eigh_upper": (lambda m, a: _spectral(m, *m.linalg.eigh(a, UPLO="U"),
                                                 lambda w: w.sqrt()), [hermitian_pd]),
    "linalg.eigh_abs": (lambda m, a: (lambda w, V: (w, V.abs()))(*m.linalg.eigh(a)),
                        [hermitian_pd]),
    "linalg.lu_factor": (lambda m, a: tuple(m.linalg.lu_factor(a)), [general]),
    "linalg.lu_factor_ex": (lambda m, a: tuple(m.linalg.lu_factor_ex(a)), [general]),
    "linalg.lu": (lambda m, a: tuple(m.linalg.lu(a)), [general]),
    "linalg.lu_solve": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b),
                        [general, rhs]),
    "linalg.lu_solve_adjoint": (
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, adjoint=True),
        [general, rhs]),
    "linalg.lu_solve_right": (
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b.mT, left=False),
        [general, rhs]),
    "linalg.qr": (lambda m, a: tuple(m.linalg.qr(a)), [tall]),
    "linalg.qr_wide": (lambda m, a: tuple(m.linalg.qr(a)), [wide]),
    "linalg.svd_spectral": (
        lambda m, a: (lambda U, S, Vh: (S, (U * S.to(U.dtype).unsqueeze(-2) ** 2) @ Vh))(
            *m.linalg.svd(a, full_matrices=False)), [tall]),
    "svd_abs": (lambda m, a: (lambda U, S, V: (U.abs(), S, V.abs()))(*m.svd(a)), [wide]),
    "linalg.pinv": (lambda m, a: m.linalg.pinv(a), [tall]),
    "linalg.lstsq": (lambda m, a, b: m.linalg.lstsq(a, b).solution,
                     [tall, lambda batch: _complex(batch + (N + 2, 2), 5)]),
    "linalg.matrix_power_negative": (lambda m, a: m.linalg.matrix_power(a, -2), [general]),
}
# complex64 rounds more through these
LOOSE = {"linalg.eigh_spectral", "linalg.eigh_upper", "linalg.eigh_abs",
         "linalg.svd_spectral", "svd_abs", "linalg.pinv", "linalg.lstsq"}


@pytest.mark.parametrize("batch", BATCHES, ids=["single", "batched"])
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str, dtype: str, batch: tuple) -> None:
    fn, makers = CASES[name]
    specs = [Input(batch, values=make(batch).astype(dtype)) for make in makers]
    tol = {}
    if dtype == "complex64":
        tol = {"rtol": 1e-3, "atol": 1e-4} if name in LOOSE else {"rtol": 2e-4, "atol": 2e-5}
    compare(fn, specs, dtype=dtype, **tol)


def test_output_dtypes_follow_torch() -> None:
    for dtype in COMPLEX:
        A = general(()).astype(dtype)
        outs = []
        for m in (ember, torch):
            a = m.tensor(A)
            outs.append([m.linalg.det(a), *m.linalg.slogdet(a), m.linalg.eigvalsh(a @ a.mH),
                         *m.linalg.eigh(a @ a.mH), m.linalg.cholesky(a @ a.mH), m.logdet(a)])
        assert [str(e.dtype).split(".")[-1] for e in outs[0]] == \
            [str(t.dtype).split(".")[-1] for t in outs[1]]


def test_complex_lu_pivots_as_lapack() -> None:
    """getrf compares |Re| + |Im| (BLAS izamax): 2 + 2j beats 3 though |2 + 2j| < 3."""
    A = np.array([[3, 1], [2 + 2j, 5]])
    e, t = ember.linalg.lu_factor(ember.tensor(A)), torch.linalg.lu_factor(torch.tensor(A))
    np.testing.assert_array_equal(e.pivots.numpy(), t.pivots.numpy())
    np.testing.assert_allclose(e.LU.numpy(), t.LU.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["linalg.inv", "linalg.det", "linalg.slogdet", "logdet",
                                  "linalg.solve", "linalg.cholesky", "linalg.eigh_spectral",
                                  "linalg.lu_solve", "linalg.qr", "linalg.svd_spectral"])
def test_double_backward_matches_torch(name: str) -> None:
    fn, makers = CASES[name]
    arrays = [make(()) for make in makers]
    grads = []
    for m in (ember, torch):
        inputs = [m.tensor(a, requires_grad=True) for a in arrays]
        loss = _real_loss(m, fn(m, *inputs))
        first = m.autograd.grad(loss, inputs, create_graph=True)
        sum((m.view_as_real(g) ** 2).sum() for g in first).backward()
        grads.append([x.grad.detach().resolve_conj().numpy() if m is torch else x.grad.numpy()
                      for x in inputs])
    for e, t in zip(*grads, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------ gradient convention
def _real_loss(m, out):
    """A real loss weighing every real and imaginary part of every float or complex output."""
    total = 0
    for i, o in enumerate(out if isinstance(out, tuple) else (out,)):
        if not (o.is_complex() or o.is_floating_point()):
            continue
        parts = m.view_as_real(o) if o.is_complex() else o
        w = np.cos(np.arange(parts.numel()) * (1.3 + i)).reshape(tuple(parts.shape))
        total = total + (parts * m.tensor(w, dtype=parts.dtype)).sum()
    return total


def _from_x(make_hermitian):
    """Hermitian-input ops read one triangle, so differentiate through A = X X^H + I instead."""
    return lambda m, x, *rest: make_hermitian(m, x @ x.mH + m.eye(N, dtype=x.dtype), *rest)


FD_CASES = {
    "inv": (lambda m, a: m.linalg.inv(a), [general]),
    "det": (lambda m, a: m.linalg.det(a), [general]),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), [general]),
    "logdet": (lambda m, a: m.logdet(a), [general]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [general, rhs]),
    "cholesky": (_from_x(lambda m, a: m.linalg.cholesky(a)), [general]),
    "cholesky_solve": (_from_x(lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(a))),
                       [general, rhs]),
    "eigh": (_from_x(lambda m, a: _spectral(m, *m.linalg.eigh(a), lambda w: w.log())),
             [general]),
    "eigvalsh": (_from_x(lambda m, a: m.linalg.eigvalsh(a)), [general]),
    "lu_solve": (lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b), [general, rhs]),
    "qr": (lambda m, a: tuple(m.linalg.qr(a)), [tall]),
    "svd": (lambda m, a: (lambda U, S, Vh: (U * S.to(U.dtype).unsqueeze(-2).exp()) @ Vh)(
        *m.linalg.svd(a, full_matrices=False)), [general]),
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_gradient_by_finite_differences(name: str) -> None:
    fn, makers = FD_CASES[name]
    arrays = [make((), seed=10 + i) for i, make in enumerate(makers)]
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    _real_loss(ember, fn(ember, *inputs)).backward()
    for i, x in enumerate(inputs):
        def loss_of(z, i=i):
            args = [ember.tensor(z if j == i else a) for j, a in enumerate(arrays)]
            return _real_loss(ember, fn(ember, *args)).item()

        expected = finite_difference(loss_of, arrays[i])
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, op", [
    (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.int64)), "linalg.inv"),
    (lambda m: m.inverse(m.ones(2, 2, dtype=m.int64)), "linalg.inv"),
    (lambda m: m.linalg.det(m.ones(2, 2, dtype=m.int32)), "linalg.det"),
    (lambda m: m.logdet(m.ones(2, 2, dtype=m.int64)), "logdet"),
])
def test_integer_input_names_the_op(call, op) -> None:
    check_same_error(call, op, "floating point or complex", "got")


@pytest.mark.parametrize("call, op", [
    (lambda m: m.linalg.solve(m.ones(2, 2, dtype=m.int64), m.ones(2, dtype=m.int64)),
     "linalg.solve"),
    (lambda m: m.linalg.cholesky(m.ones(2, 2, dtype=m.int64)), "linalg.cholesky"),
    (lambda m: m.linalg.eigh(m.ones(2, 2, dtype=m.int32)), "linalg.eigh"),
    (lambda m: m.linalg.lu_factor(m.ones(2, 2, dtype=m.int64)), "linalg.lu_factor"),
    (lambda m: m.cholesky_solve(m.ones(2, 1, dtype=m.int64), m.ones(2, 2, dtype=m.int64)),
     "cholesky_solve"),
])
def test_integer_input_is_refused(call, op) -> None:
    with pytest.raises((RuntimeError, NotImplementedError)):  # torch: "not implemented for"
        call(torch)
    with pytest.raises(RuntimeError, match=op):
        call(ember)


def test_not_positive_definite_complex_cholesky() -> None:
    single = np.array([[1, 2j], [-2j, 1]], dtype=np.complex64)
    check_same_error(lambda m: m.linalg.cholesky(m.tensor(single)), "linalg.cholesky",
                     "not positive-definite", "leading minor of order 2")
    batch = np.stack([np.eye(2, dtype=np.complex128), single])
    error = check_same_error(lambda m: m.linalg.cholesky(m.tensor(batch)), "Batch element 1")
    assert isinstance(error, ember.linalg.LinAlgError)
    info = ember.linalg.cholesky_ex(ember.tensor(batch)).info
    np.testing.assert_array_equal(info.numpy(), torch.linalg.cholesky_ex(
        torch.tensor(batch)).info.numpy())


def test_singular_complex_matrix() -> None:
    for call in (lambda m: m.linalg.inv(m.zeros(2, 2, dtype=m.complex64)),
                 lambda m: m.linalg.solve(m.zeros(2, 2, dtype=m.complex128),
                                          m.ones(2, dtype=m.complex128))):
        error = check_same_error(call, "singular")
        assert isinstance(error, ember.linalg.LinAlgError)


@pytest.mark.parametrize("vectors, op", [
    (lambda m, a: m.linalg.eigh(a @ a.mH).eigenvectors, "linalg_eigh_backward"),
    (lambda m, a: m.linalg.svd(a).U, "svd_backward"),
])
def test_phase_dependent_loss_raises_as_torch(vectors, op) -> None:
    A = general(())

    def call(m):
        vectors(m, m.tensor(A, requires_grad=True)).real.sum().backward()

    check_same_error(call, op, "e^{i phi}", "ill-defined")
