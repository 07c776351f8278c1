"""autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _run(m):
    A = m.tensor(np.arange(12.0).reshape(3, 4) / 5)
    F = m.autograd.functional
    x = m.tensor([0.1, 0.2, -0.3, 0.5], dtype=m.float64)
    y = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
    v = m.tensor([1.0, -1.0, 2.0, 0.5], dtype=m.float64)

    def pair(x, y):
        return A @ x.tanh() * y.exp(), (x * y.sum()).sum()

    def scalar(x):
        return (x.sin() ** 2).sum() * x.prod()

    out = {}
    jac = F.jacobian(pair, (x, y))
    out.update({f"jacobian{i}{j}": jac[i][j] for i in range(2) for j in range(2)})
    out["jacobian_single"] = F.jacobian(lambda x: x.exp() * 2, x)
    out["hessian"] = F.hessian(scalar, x)
    hess = F.hessian(lambda a, b: (a * a * b.sum()).sum(), (x, y))
    out.update({f"hessian{i}{j}": hess[i][j] for i in range(2) for j in range(2)})
    out["vjp_out"], out["vjp"] = F.vjp(lambda x: A @ x, x, y)
    out["jvp_out"], out["jvp"] = F.jvp(lambda x: A @ x.tanh(), x, v)
    out["hvp"] = F.hvp(scalar, x, v)[1]
    out["vhp"] = F.vhp(scalar, x, v)[1]
    out["vjp_scalar"] = F.vjp(scalar, x)[1]
    return out


def test_functional_derivatives_match_torch():
    ours, theirs = _run(ember), _run(torch)
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key].numpy(), theirs[key].detach().numpy()
        assert a.shape == b.shape, key
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=key)


def test_strict_mode_and_independent_inputs():
    F = ember.autograd.functional
    x, y = ember.randn(3, dtype=ember.float64), ember.randn(2, dtype=ember.float64)
    jac = F.jacobian(lambda a, b: a * 2, (x, y))
    assert jac[1].shape == (3, 2) and not jac[1].numpy().any()
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        F.vjp(lambda a: a * 2, x)


def test_create_graph_lets_the_result_be_differentiated():
    x = ember.tensor([0.3, -0.7], dtype=ember.float64, requires_grad=True)
    h = ember.autograd.functional.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)
    h.trace().backward()  # d/dx sum(12 x^2) = 24 x
    np.testing.assert_allclose(x.grad.numpy(), 24 * x.detach().numpy())
