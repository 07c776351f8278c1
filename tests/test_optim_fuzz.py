"""Optimizers, schedulers and gradient clipping against torch: randomized (seeded) differential
runs, plus the regressions that such runs found."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ember

# ---------------------------------------------------------------------- helpers


def _np(value):
    return value.detach().numpy() if isinstance(value, (torch.Tensor, ember.Tensor)) else value


def _to_numpy_tree(value):
    """A torch state dict with its tensors as numpy arrays (what Ember loads)."""
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, dict):
        return {k: _to_numpy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_numpy_tree(v) for v in value]
    return value


def _assert_same(a, b, tol, where):
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, tol, f"{where}[{i}]")
        return
    x, y = _np(a), _np(b)
    if isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray), where
        assert (x.dtype, x.shape) == (y.dtype, y.shape), where
        np.testing.assert_allclose(y, x, rtol=tol, atol=tol, err_msg=where)
    elif isinstance(x, float):
        assert math.isclose(x, y, rel_tol=tol, abs_tol=tol), where
    else:
        assert x == y, where


def _assert_same_state(torch_opt, ember_opt, tol, where=""):
    ts, es = torch_opt.state_dict(), ember_opt.state_dict()
    assert ts["state"].keys() == es["state"].keys(), where
    for key, state in ts["state"].items():
        assert state.keys() == es["state"][key].keys(), f"{where} state[{key}]"
        for name, value in state.items():
            _assert_same(value, es["state"][key][name], tol, f"{where} state[{key}][{name}]")
    for tg, eg in zip(ts["param_groups"], es["param_groups"], strict=True):
        assert tg.keys() == eg.keys(), where
        for name, value in tg.items():
            other = eg[name]
            if isinstance(value, tuple):
                value, other = list(value), list(other)
            assert value == other, f"{where} group[{name}]"


# ---------------------------------------------------------------------- optimizers, randomized
SPACES = {
    "SGD": dict(lr=[0.1, 0.01], momentum=[0, 0.9], dampening=[0, 0.3], weight_decay=[0, 0.1],
                maximize=[False, True]),
    "Adam": dict(lr=[0.1, 0.01], betas=[(0.9, 0.999), (0.5, 0.9)], eps=[1e-8, 1e-3],
                 weight_decay=[0, 0.1], amsgrad=[False, True], maximize=[False, True],
                 decoupled_weight_decay=[False, True]),
    "AdamW": dict(lr=[0.1, 0.01], weight_decay=[0, 0.1], amsgrad=[False, True]),
    "RMSprop": dict(lr=[0.1, 0.01], alpha=[0.99, 0.5], weight_decay=[0, 0.1],
                    momentum=[0, 0.9], centered=[False, True], maximize=[False, True]),
    "Adagrad": dict(lr=[0.1, 0.01], lr_decay=[0, 0.1], weight_decay=[0, 0.1],
                    initial_accumulator_value=[0, 0.5], maximize=[False, True]),
    "Adadelta": dict(lr=[1.0, 0.5], rho=[0.9, 0.5], eps=[1e-6, 1e-2], weight_decay=[0, 0.1]),
    "Adamax": dict(lr=[0.1, 0.01], betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0, 0.1]),
    "NAdam": dict(lr=[0.1, 0.01], weight_decay=[0, 0.1], momentum_decay=[4e-3, 0.1],
                  decoupled_weight_decay=[False, True], maximize=[False, True]),
    "RAdam": dict(lr=[0.1, 0.01], betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0, 0.1],
                  decoupled_weight_decay=[False, True]),
    "ASGD": dict(lr=[0.1, 0.01], lambd=[1e-4, 0.1], t0=[1e6, 2], weight_decay=[0, 0.1]),
    "Rprop": dict(lr=[0.1, 0.01], etas=[(0.5, 1.2), (0.3, 1.5)],
                  step_sizes=[(1e-6, 50), (0.01, 0.2)], maximize=[False, True]),
}


def _sample(space, rng):
    return {k: v[rng.integers(len(v))] for k, v in space.items() if rng.random() < 0.7}


def _run_optimizer(name, dtype, seed, steps=7):
    """Same random gradients into torch and Ember: three param groups with their own options,
    a parameter without a gradient in some steps, zero_grad both ways, a group added at step
    3, lrs changed through param_groups at step 4, and at step 5 both optimizers rebuilt from
    the torch state dict (numpy arrays for Ember)."""
    rng = np.random.default_rng(seed)
    space = SPACES[name]
    defaults = _sample(space, rng)
    options = [{}, _sample(space, rng)]
    tol = 1e-10 if dtype == "float64" else 2e-5
    init = [rng.standard_normal(s) for s in [(3,), (2, 3), (4,), (1,)]]
    tp = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in init]
    ep = [ember.tensor(a, dtype=getattr(ember, dtype), requires_grad=True) for a in init]

    def groups(params):
        return [dict(params=params[:2], **options[0]), dict(params=params[2:3], **options[1])]

    def build(module, params, source=None):
        opt = getattr(module.optim, name)(groups(params), **defaults)
        if source is not None:
            for group in source.param_groups[len(opt.param_groups):]:
                opt.add_param_group(dict(group))
        return opt

    topt, eopt = build(torch, tp), build(ember, ep)
    for step in range(steps):
        if step == 3:
            topt.add_param_group({"params": tp[3:], "lr": 0.05})
            eopt.add_param_group({"params": ep[3:], "lr": 0.05})
        if step == 4:
            for opt in (topt, eopt):
                for group in opt.param_groups:
                    group["lr"] *= 0.5
        set_to_none = bool(rng.integers(2))
        topt.zero_grad(set_to_none=set_to_none)
        eopt.zero_grad(set_to_none=set_to_none)
        skip = rng.integers(len(tp)) if step in (2, 5) else -1
        for i, (t, e) in enumerate(zip(tp, ep, strict=True)):
            grad = rng.standard_normal(t.shape)
            if i != skip and (i < 3 or step >= 3):
                t.grad = torch.tensor(grad, dtype=t.dtype)
                e.grad = ember.tensor(grad, dtype=e.dtype)
        topt.step()
        eopt.step()
        for i, (t, e) in enumerate(zip(tp, ep, strict=True)):
            _assert_same(t, e, tol, f"{name} {dtype} step {step} param {i}")
        _assert_same_state(topt, eopt, tol, f"{name} {dtype} step {step}")
        if step == 5:
            saved = topt.state_dict()
            topt, eopt = build(torch, tp, topt), build(ember, ep, eopt)
            eopt.load_state_dict(_to_numpy_tree(saved))
            topt.load_state_dict(saved)
            _assert_same_state(topt, eopt, tol, f"{name} {dtype} loaded")


@pytest.mark.parametrize("name", sorted(SPACES))
def test_optimizer_matches_torch_on_random_runs(name):
    for seed in range(4):
        for dtype in ("float64", "float32"):
            _run_optimizer(name, dtype, seed)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_matches_torch_with_a_closure(line_search_fn, history_size):
    init = np.random.default_rng(0).standard_normal((2, 3))
    tp = torch.tensor(init, requires_grad=True)
    ep = ember.tensor(init, requires_grad=True)
    kw = dict(lr=0.5, max_iter=5, history_size=history_size, line_search_fn=line_search_fn)
    topt, eopt = torch.optim.LBFGS([tp], **kw), ember.optim.LBFGS([ep], **kw)

    def closure(opt, p):
        def run():
            opt.zero_grad()
            loss = ((p - 0.3) ** 4).sum() + (p**2).sum()
            loss.backward()
            return loss
        return run

    for step in range(4):
        tl, el = topt.step(closure(topt, tp)), eopt.step(closure(eopt, ep))
        assert math.isclose(float(tl.detach()), float(el.detach()), rel_tol=1e-9), step
        np.testing.assert_allclose(_np(ep), _np(tp), rtol=1e-9, atol=1e-12)
        _assert_same_state(topt, eopt, 1e-8, f"step {step}")


# ---------------------------------------------------------------------- regressions
COMPLEX_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", {}),
    ("Adamax", {}),
    ("NAdam", {}),
    ("RAdam", {}),
    ("ASGD", dict(t0=2)),
    ("Rprop", dict(lr=0.3, step_sizes=(0.01, 1))),
]


@pytest.mark.parametrize(("name", "kw"), COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_parameters_update_their_real_and_imaginary_parts_like_torch(name, kw):
    """torch updates a complex parameter as view_as_real: |g|^2 per part, not g*g; Adagrad's
    and Rprop's initial values fill both parts (before: complex arithmetic, far off)."""
    rng = np.random.default_rng(1)
    init = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    tp, ep = torch.tensor(init, requires_grad=True), ember.tensor(init, requires_grad=True)
    topt, eopt = getattr(torch.optim, name)([tp], **kw), getattr(ember.optim, name)([ep], **kw)
    for step in range(5):
        grad = rng.standard_normal(4) + 1j * rng.standard_normal(4)
        tp.grad, ep.grad = torch.tensor(grad), ember.tensor(grad)
        topt.step()
        eopt.step()
        np.testing.assert_allclose(_np(ep), _np(tp), rtol=1e-10, atol=1e-12)
        _assert_same_state(topt, eopt, 1e-10, f"{name} step {step}")


def _order_warnings(module, optimizer_first):
    param = (torch if module is torch else ember).zeros(1, requires_grad=True)
    opt = module.optim.SGD([param], lr=0.1)
    sched = module.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            if optimizer_first:
                opt.step()
            sched.step()
    return [str(w.message) for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("optimizer_first", [False, True])
def test_scheduler_step_before_optimizer_step_warns_like_torch(optimizer_first):
    """With the doctor's own check of the order off, torch's warning (before: none)."""
    with ember.doctor.silence("scheduler_order"):
        got = _order_warnings(ember, optimizer_first)
    assert got == _order_warnings(torch, optimizer_first)


def test_resuming_a_scheduler_without_initial_lr_raises_torchs_error():
    tparam, eparam = torch.zeros(1, requires_grad=True), ember.zeros(1, requires_grad=True)
    with pytest.raises(KeyError) as expected:
        torch.optim.lr_scheduler.StepLR(torch.optim.SGD([tparam]), 2, last_epoch=3)
    with pytest.raises(KeyError) as got:
        ember.optim.lr_scheduler.StepLR(ember.optim.SGD([eparam]), 2, last_epoch=3)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dtypes", [("bfloat16", "float16"), ("float16", "float64")])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_of_mixed_dtypes_like_torch(dtypes, norm_type):
    """The per-tensor norms are stacked in their promoted dtype (before: numpy could not
    stack bfloat16 with float16)."""
    tp = [torch.zeros(2, dtype=getattr(torch, d), requires_grad=True) for d in dtypes]
    ep = [ember.zeros(2, dtype=getattr(ember, d), requires_grad=True) for d in dtypes]
    for i, (t, e) in enumerate(zip(tp, ep, strict=True)):
        t.grad = torch.tensor([3.0, -4.0 * (i + 1)], dtype=t.dtype)
        e.grad = ember.tensor([3.0, -4.0 * (i + 1)], dtype=e.dtype)
    expected = torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type)
    got = ember.nn.utils.clip_grad_norm_(ep, 1.0, norm_type)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert math.isclose(float(got), float(expected), rel_tol=1e-6)
    for t, e in zip(tp, ep, strict=True):
        np.testing.assert_allclose(e.grad.double().numpy(), t.grad.double().numpy(), rtol=1e-6)


def test_a_half_norm_past_its_range_is_inf_without_a_numpy_warning():
    grads = np.full(70000, 300.0)
    expected = torch.nn.utils.get_total_norm([torch.tensor(grads, dtype=torch.float16)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ember.nn.utils.get_total_norm([ember.tensor(grads, dtype=ember.float16)])
    assert float(got) == float(expected) == math.inf
