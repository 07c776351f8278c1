"""torch._foreach_* (ember/ops/foreach.py) against torch: every overload custom optimizers and
EMA code use, in place and out of place, with gradients through the out-of-place forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

RNG = np.random.RandomState(0)
A = [RNG.rand(2, 3).astype(np.float32) + 0.5, RNG.rand(4).astype(np.float32) + 0.5]
B = [RNG.rand(2, 3).astype(np.float32) + 0.5, RNG.rand(4).astype(np.float32) + 0.5]
C = [RNG.rand(2, 3).astype(np.float32) + 0.5, RNG.rand(4).astype(np.float32) + 0.5]


def lists(m, requires_grad=False):
    return [[m.tensor(a, requires_grad=requires_grad) for a in arrays] for arrays in (A, B, C)]


CASES = {
    "add_scalar": lambda m, a, b, c: m._foreach_add(a, 1.5),
    "add_scalars": lambda m, a, b, c: m._foreach_add(a, [1.0, -2.0]),
    "add_list_alpha": lambda m, a, b, c: m._foreach_add(a, b, alpha=-0.5),
    "add_tensor": lambda m, a, b, c: m._foreach_add(a, m.tensor(2.0), alpha=3),
    "sub_list": lambda m, a, b, c: m._foreach_sub(a, b, alpha=2),
    "mul_scalar": lambda m, a, b, c: m._foreach_mul(a, 0.9),
    "mul_tensor": lambda m, a, b, c: m._foreach_mul(a, m.tensor(3.0)),
    "mul_list": lambda m, a, b, c: m._foreach_mul(a, b),
    "div_list": lambda m, a, b, c: m._foreach_div(a, b),
    "div_scalars": lambda m, a, b, c: m._foreach_div(a, [2.0, 4.0]),
    "pow_scalar": lambda m, a, b, c: m._foreach_pow(a, 2.0),
    "pow_list": lambda m, a, b, c: m._foreach_pow(a, b),
    "pow_base": lambda m, a, b, c: m._foreach_pow(2.0, a),
    "maximum": lambda m, a, b, c: m._foreach_maximum(a, b),
    "maximum_scalar": lambda m, a, b, c: m._foreach_maximum(a, 0.9),
    "minimum": lambda m, a, b, c: m._foreach_minimum(a, b),
    "clamp_min": lambda m, a, b, c: m._foreach_clamp_min(a, 0.8),
    "clamp_max": lambda m, a, b, c: m._foreach_clamp_max(a, [0.7, 1.0]),
    "addcmul": lambda m, a, b, c: m._foreach_addcmul(a, b, c, value=0.1),
    "addcmul_scalars": lambda m, a, b, c: m._foreach_addcmul(a, b, c, [0.5, -1.0]),
    "addcdiv": lambda m, a, b, c: m._foreach_addcdiv(a, b, c, value=-0.3),
    "addcdiv_tensor": lambda m, a, b, c: m._foreach_addcdiv(a, b, c, m.tensor([0.5, 2.0])),
    "lerp": lambda m, a, b, c: m._foreach_lerp(a, b, 0.25),
    "lerp_list": lambda m, a, b, c: m._foreach_lerp(a, b, c),
    "sqrt": lambda m, a, b, c: m._foreach_sqrt(a),
    "exp": lambda m, a, b, c: m._foreach_exp(a),
    "neg": lambda m, a, b, c: m._foreach_neg(a),
    "sign": lambda m, a, b, c: m._foreach_sign(a),
    "reciprocal": lambda m, a, b, c: m._foreach_reciprocal(a),
    "norm": lambda m, a, b, c: m._foreach_norm(a),
    "norm_inf": lambda m, a, b, c: m._foreach_norm(a, float("inf")),
    "max": lambda m, a, b, c: m._foreach_max(a),
    "clone": lambda m, a, b, c: m._foreach_clone(a),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_foreach_out_of_place_and_gradients_match_torch(name):
    results = []
    for m in (torch, ember):
        # torch has no derivative for sign, max, or addcdiv with a tensor of values
        a, b, c = lists(m, requires_grad=name not in ("sign", "max", "addcdiv_tensor"))
        out = CASES[name](m, a, b, c)
        assert isinstance(out, tuple)
        values = [o.detach().numpy().copy() for o in out]
        grads = []
        if a[0].requires_grad:
            sum((o * (i + 1)).sum() for i, o in enumerate(out)).backward()
            grads = [t.grad.numpy() if t.grad is not None else None for t in a + b + c]
        results.append((values, grads))
    (tv, tg), (ev, eg) = results
    for t, e in zip(tv, ev, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)
    for t, e in zip(tg, eg, strict=True):
        assert (t is None) == (e is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", [n for n in sorted(CASES)
                                  if n not in ("norm", "norm_inf", "max", "clone", "pow_base")])
def test_foreach_in_place_matches_torch(name):
    results = []
    for m in (torch, ember):
        a, b, c = lists(m)
        op = name.split("_scalar")[0].split("_list")[0].split("_tensor")[0].split("_alpha")[0]
        call = CASES[name]
        in_place = getattr(m, f"_foreach_{op}_")

        class Proxy:  # routes m._foreach_<op> to the in-place variant
            def __getattr__(self, attr):
                return in_place if attr == f"_foreach_{op}" else getattr(m, attr)

        ret = call(Proxy(), a, b, c)
        assert ret is a
        results.append([t.numpy().copy() for t in a])
    for t, e in zip(*results, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_foreach_zero_copy_and_errors():
    for m in (torch, ember):
        a, b, _ = lists(m)
        assert m._foreach_copy_(a, b) is a
        np.testing.assert_array_equal(a[1].numpy(), B[1])
        assert m._foreach_zero_(a) is a and all(float(t.abs().sum()) == 0 for t in a)
        with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim"):
            m._foreach_mul(a, m.ones(2))


def test_ema_update_as_timm_writes_it():
    results = []
    for m in (torch, ember):
        ema, model = lists(m)[:2]
        for _ in range(3):
            m._foreach_lerp_(ema, model, 1 - 0.9)
            m._foreach_mul_(ema, 0.99)
            m._foreach_add_(ema, model, alpha=0.01)
        results.append([t.numpy() for t in ema])
    for t, e in zip(*results, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-6)
