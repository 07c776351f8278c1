"""linalg.eig / linalg.eigvals compared with torch: eigenvalues, the eigen-equation, and the
gradients of losses that do not depend on the eigenvectors' arbitrary phase."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _matrices(shape, complex_input, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    return A + 1j * rng.standard_normal(shape) if complex_input else A


def _loss(m, A):
    L, V = m.linalg.eig(A)
    weights = m.tensor(np.arange(L.shape[-1]) + 0.5j)
    return ((L * weights).real.sum() + (V.abs() ** 3).sum()
            + m.linalg.eigvals(A).abs().sum() + m.linalg.eigvals(A).imag.pow(2).sum())


@pytest.mark.parametrize("complex_input", [False, True])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)])
@pytest.mark.parametrize("double", [True, False])
def test_eig_matches_torch(shape, complex_input, double):
    A0 = _matrices(shape, complex_input)
    A0 = A0.astype({(False, True): "float64", (False, False): "float32",
                    (True, True): "complex128", (True, False): "complex64"}[
                        complex_input, double])
    results = []
    for m in (ember, torch):
        A = m.tensor(A0, requires_grad=True)
        L, V = m.linalg.eig(A)
        _loss(m, A).backward()
        results.append((L.detach().numpy(), V.detach().numpy(), A.grad.numpy()))
    (Le, Ve, ge), (Lt, _, gt) = results
    expected_dtype = "complex128" if double else "complex64"
    assert Le.dtype == expected_dtype and Ve.dtype == expected_dtype
    assert ge.dtype == A0.dtype
    tol = 1e-8 if double else 2e-3
    np.testing.assert_allclose(np.sort_complex(Le.ravel()), np.sort_complex(Lt.ravel()),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(A0 @ Ve, Ve * Le[..., None, :], rtol=tol, atol=tol)
    np.testing.assert_allclose(np.linalg.norm(Ve, axis=-2), 1, rtol=tol)
    np.testing.assert_allclose(ge, gt, rtol=tol, atol=tol)


def test_eigvals_gradient_alone():
    A0 = _matrices((3, 3), False, seed=2)
    grads = []
    for m in (ember, torch):
        A = m.tensor(A0, requires_grad=True)
        (m.linalg.eigvals(A) ** 2).real.sum().backward()
        grads.append(A.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert ember.linalg.eig(ember.tensor(A0)).eigenvalues.is_complex()


def test_phase_dependent_loss_raises():
    A = ember.tensor(_matrices((3, 3), True), requires_grad=True)
    _, V = ember.linalg.eig(A)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        V.real.sum().backward()


def test_errors():
    with pytest.raises(RuntimeError, match="square"):
        ember.linalg.eig(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="floating point or complex"):
        ember.linalg.eigvals(ember.ones(2, 2, dtype=ember.int64))
