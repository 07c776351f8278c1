"""matrix_exp, householder_product, geqrf and the weight-norm helpers against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conformance import compare, gradcheck


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (5, 5)])
@pytest.mark.parametrize("scale", [0.1, 1.0, 6.0])
def test_matrix_exp_matches_torch(shape, scale) -> None:
    for fn in (lambda m, a: m.matrix_exp(a * scale), lambda m, a: m.linalg.matrix_exp(a * scale),
               lambda m, a: (a * scale).matrix_exp()):
        compare(fn, [shape], dtype="float64", rtol=1e-9, atol=1e-9)
    compare(lambda m, a: m.matrix_exp(a * scale), [shape], dtype="float32", rtol=1e-3, atol=1e-4)


def test_matrix_exp_gradcheck_and_known_values() -> None:
    gradcheck(lambda m, a: m.matrix_exp(a), [(3, 3)])
    theta = 0.7  # exp of a skew-symmetric 2x2 is a rotation
    r = ember.matrix_exp(ember.tensor([[0.0, -theta], [theta, 0.0]], dtype=ember.float64))
    np.testing.assert_allclose(r.numpy(), [[np.cos(theta), -np.sin(theta)],
                                           [np.sin(theta), np.cos(theta)]], atol=1e-14)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (2, 6, 4)])
def test_geqrf_and_householder_product_match_torch(shape) -> None:
    a = np.random.default_rng(0).standard_normal(shape)
    e_h, e_tau = ember.geqrf(ember.tensor(a))
    t_h, t_tau = torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(e_h.numpy(), t_h.numpy(), atol=1e-12)
    np.testing.assert_allclose(e_tau.numpy(), t_tau.numpy(), atol=1e-12)
    k = shape[-1]
    compare(lambda m, h, tau: m.linalg.householder_product(h, tau),
            [shape, (*shape[:-2], k)], dtype="float64", rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_norm_except_dim_and_weight_norm_match_torch(dim) -> None:
    compare(lambda m, v: m.norm_except_dim(v, 2, dim), [(3, 4, 2)], dtype="float64")
    g_shape = () if dim == -1 else tuple(s if i == dim else 1 for i, s in enumerate((3, 4, 2)))
    compare(lambda m, v, g: m._weight_norm(v, g, dim), [(3, 4, 2), g_shape], dtype="float64")
