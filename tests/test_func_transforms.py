"""ember.func's transforms against torch.func: per-sample gradients, nested grad, Jacobians,
Hessians, vjp and vmap's in_dims/out_dims."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import assert_close

import ember

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 3))
W = RNG.standard_normal((3,))
Y = RNG.standard_normal((5,))


def both(fn):
    return fn(ember, ember.tensor(X), ember.tensor(W), ember.tensor(Y)), \
        fn(torch, torch.tensor(X), torch.tensor(W), torch.tensor(Y))


def _close(a, b, what):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{what}[{i}]")
    else:
        assert_close(a, b, 1e-9, 1e-10, what)


CASES = {
    "grad": lambda m, x, w, y: m.func.grad(lambda w: ((x @ w - y) ** 2).mean())(w),
    "grad_argnums": lambda m, x, w, y: m.func.grad(
        lambda x, w: (x @ w).sin().sum(), argnums=(0, 1))(x, w),
    "grad_has_aux": lambda m, x, w, y: m.func.grad(
        lambda w: ((x @ w).sum(), (x @ w).detach()), has_aux=True)(w),
    "grad_and_value": lambda m, x, w, y: m.func.grad_and_value(lambda w: (w ** 3).sum())(w),
    "nested_grad": lambda m, x, w, y: m.func.grad(
        lambda w: m.func.grad(lambda v: (v ** 3).sum())(w).sum())(w),
    "per_sample_grads": lambda m, x, w, y: m.func.vmap(
        m.func.grad(lambda w, xi, yi: (xi @ w - yi) ** 2), in_dims=(None, 0, 0))(w, x, y),
    "vmap_out_dims": lambda m, x, w, y: m.func.vmap(lambda r: r * w, out_dims=1)(x),
    "vmap_in_dim1": lambda m, x, w, y: m.vmap(lambda c: c.sum() * c, in_dims=1)(x),
    "vmap_tuple_out": lambda m, x, w, y: m.func.vmap(lambda r: (r.max(), r.min()))(x),
    "vmap_nested": lambda m, x, w, y: m.func.vmap(m.func.vmap(lambda a: a * 2))(x),
    "jacrev": lambda m, x, w, y: m.func.jacrev(lambda w: (x @ w).tanh())(w),
    "jacfwd_argnums": lambda m, x, w, y: m.func.jacfwd(lambda x, w: x @ w, argnums=(0, 1))(x, w),
    "hessian": lambda m, x, w, y: m.func.hessian(lambda w: (x @ w).exp().sum())(w),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_matches_torch_func(name) -> None:
    ours, theirs = both(CASES[name])
    _close(ours, theirs, name)


def test_vjp_matches_torch_func() -> None:
    def run(m):
        w = m.tensor(W)
        out, fn = m.func.vjp(lambda w: (m.tensor(X) @ w).sin(), w)
        return out, fn(m.ones(5, dtype=m.float64))

    _close(run(ember), run(torch), "vjp")


def test_grad_results_do_not_require_grad_at_top_level_and_errors() -> None:
    g = ember.func.grad(lambda w: (w * w).sum())(ember.tensor(W))
    assert not g.requires_grad
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.func.grad(lambda w: w * 2)(lib.tensor(W))  # not a scalar
        with pytest.raises(ValueError):
            lib.func.vmap(lambda a, b: a + b)(lib.zeros(2, 3), lib.zeros(3, 3))
        with pytest.raises(ValueError):
            lib.func.vmap(lambda a: a, in_dims=2)(lib.zeros(2, 3))


def test_per_sample_gradients_of_a_model_with_functional_call() -> None:
    """torch's per-sample-gradient recipe: vmap(grad(loss of functional_call))."""
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 1).double()
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        out = ember.func.functional_call(model, p, (xi.unsqueeze(0),))
        return ((out.squeeze() - yi) ** 2)

    per_sample = ember.func.vmap(ember.func.grad(loss), in_dims=(None, 0, 0))(
        params, ember.tensor(X), ember.tensor(Y))
    tmodel = torch.nn.Linear(3, 1).double()
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in params.items()})
    tparams = {k: v.detach() for k, v in tmodel.named_parameters()}

    def tloss(p, xi, yi):
        out = torch.func.functional_call(tmodel, p, (xi.unsqueeze(0),))
        return ((out.squeeze() - yi) ** 2)

    expected = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.tensor(X), torch.tensor(Y))
    for k in expected:
        assert_close(per_sample[k], expected[k], 1e-9, 1e-10, k)
