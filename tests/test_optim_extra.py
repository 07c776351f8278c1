"""LBFGS, Rprop, ASGD, optimizer hooks and swa_utils against torch: the same problems must give
the same trajectories, states, state_dicts, hook calls, averaged weights, schedules and errors."""

from __future__ import annotations

import copy
import importlib
import pickle

import numpy as np
import pytest
import torch
from doctor_cases import doctor

import ember


def _np(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 (we compare the exception itself)
        return type(exc).__name__, str(exc)
    return None


def _assert_close_steps(ours, theirs, rtol, atol) -> None:
    assert len(ours) == len(theirs)
    for step, (a_step, b_step) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(a_step, b_step, strict=True)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"step {step}, parameter {i}")


def _describe(value):
    """A value's structure: tensors by dtype and shape, lists item by item, other types."""
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_describe(v) for v in value]]
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape))
    return type(value).__name__


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return [_np(value)]
    return [value]


def _assert_same_state_dict(ours: dict, theirs: dict, rtol=1e-9, atol=1e-12) -> None:
    """Same param_groups, same state keys in the same order, same structure and values."""
    assert ours["param_groups"] == theirs["param_groups"]
    assert list(ours["state"]) == list(theirs["state"])
    for index, entry in theirs["state"].items():
        mine = ours["state"][index]
        assert list(mine) == list(entry), index
        for key, value in entry.items():
            assert _describe(mine[key]) == _describe(value), (index, key)
            for a, b in zip(_flatten(mine[key]), _flatten(value), strict=True):
                if isinstance(b, np.ndarray):
                    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{key}")
                elif isinstance(b, float):
                    assert a == pytest.approx(b, rel=rtol, abs=atol), (index, key)
                else:
                    assert a == b, (index, key)


def _torch_state_to_numpy(state_dict: dict) -> dict:
    def convert(value):
        if isinstance(value, torch.Tensor):
            return value.detach().numpy().copy()
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {"state": {k: {key: convert(v) for key, v in entry.items()}
                      for k, entry in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


# ====================================================================== LBFGS
def _rosenbrock(lib, x):
    """The n-dimensional Rosenbrock function: a curved valley, hard for first-order methods."""
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _regression_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 5))
    w_true = rng.normal(size=(5, 2))
    y = x @ w_true + 0.1 * rng.normal(size=(40, 2))
    labels = (x @ rng.normal(size=5) + 0.3 * rng.normal(size=40) > 0).astype(np.float64)
    return x, y, labels


def _problem(lib, name: str, dtype: str = "float64"):
    """(parameters, loss function of no arguments) for one test problem."""
    x, y, labels = _regression_data()
    rng = np.random.default_rng(1)
    if name == "rosenbrock":
        params = [lib.tensor(np.array([-1.2, 1.0, -0.5, 0.8]).astype(dtype), requires_grad=True)]
        return params, lambda: _rosenbrock(lib, params[0])
    if name == "least_squares":  # a weight matrix and a bias, mean squared error
        w = lib.tensor(rng.normal(size=(5, 2)).astype(dtype), requires_grad=True)
        b = lib.tensor(np.zeros(2, dtype=dtype), requires_grad=True)
        xt, yt = lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype))
        return [w, b], lambda: ((xt @ w + b - yt) ** 2).mean()
    if name == "logistic":  # logistic regression with an L2 penalty, three parameters
        w1 = lib.tensor(rng.normal(scale=0.1, size=3).astype(dtype), requires_grad=True)
        w2 = lib.tensor(rng.normal(scale=0.1, size=2).astype(dtype), requires_grad=True)
        b = lib.tensor(np.array(0.0, dtype=dtype), requires_grad=True)
        xt, yt = lib.tensor(x.astype(dtype)), lib.tensor(labels.astype(dtype))

        def loss():
            logits = xt[:, :3] @ w1 + xt[:, 3:] @ w2 + b
            bce = lib.nn.functional.binary_cross_entropy_with_logits(logits, yt)
            return bce + 1e-2 * ((w1**2).sum() + (w2**2).sum())

        return [w1, w2, b], loss
    raise ValueError(name)


def _run_lbfgs(lib, problem: str, options: dict, steps: int, dtype: str = "float64",
               opt_params=None):
    params, loss_fn = _problem(lib, problem, dtype)
    opt = lib.optim.LBFGS(opt_params(params) if opt_params else params, **options)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    losses, trajectory = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        trajectory.append([_np(p) for p in params])
    return opt, params, losses, trajectory, closure


LBFGS_CASES = [
    ("rosenbrock", {"lr": 0.1}),
    ("rosenbrock", {"lr": 0.5, "max_iter": 7, "history_size": 3}),
    ("rosenbrock", {"line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "max_iter": 6, "history_size": 4}),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "lr": 0.3, "max_eval": 9}),
    ("least_squares", {}),
    ("least_squares", {"max_iter": 5, "history_size": 2}),
    ("least_squares", {"line_search_fn": "strong_wolfe", "max_iter": 4}),
    ("logistic", {"lr": 0.5, "max_iter": 6}),
    ("logistic", {"line_search_fn": "strong_wolfe", "max_iter": 5, "history_size": 3}),
    ("logistic", {"line_search_fn": "strong_wolfe", "tolerance_grad": 1e-3}),
]
LBFGS_IDS = [f"{p}-{o}" for p, o in LBFGS_CASES]


@pytest.mark.parametrize("problem,options", LBFGS_CASES, ids=LBFGS_IDS)
def test_lbfgs_trajectory_matches_torch(problem, options):
    e_opt, _, e_losses, ours, _ = _run_lbfgs(ember, problem, options, steps=4)
    t_opt, _, t_losses, theirs, _ = _run_lbfgs(torch, problem, options, steps=4)
    _assert_close_steps(ours, theirs, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-7, atol=1e-12)
    e_state, t_state = e_opt.state_dict()["state"][0], t_opt.state_dict()["state"][0]
    assert (e_state["func_evals"], e_state["n_iter"]) == (t_state["func_evals"],
                                                          t_state["n_iter"])


@pytest.mark.parametrize("problem", ["rosenbrock", "logistic"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32_matches_torch(problem, line_search_fn):
    options = {"line_search_fn": line_search_fn, "max_iter": 5, "lr": 0.5}
    _, e_params, _, ours, _ = _run_lbfgs(ember, problem, options, steps=2, dtype="float32")
    _, _, _, theirs, _ = _run_lbfgs(torch, problem, options, steps=2, dtype="float32")
    _assert_close_steps(ours, theirs, rtol=1e-3, atol=1e-4)
    assert all(p.dtype == ember.float32 for p in e_params)


@pytest.mark.parametrize("problem,options", LBFGS_CASES[::2], ids=LBFGS_IDS[::2])
def test_lbfgs_state_dict_matches_torch(problem, options):
    e_opt, *_ = _run_lbfgs(ember, problem, options, steps=2)
    t_opt, *_ = _run_lbfgs(torch, problem, options, steps=2)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("source", ["ember", "torch"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_resumes_from_a_state_dict(source, line_search_fn):
    """Stop after 2 steps, load the state into a fresh optimizer, go on: torch's path."""
    options = {"line_search_fn": line_search_fn, "max_iter": 4, "history_size": 5, "lr": 0.5}
    t_opt, t_params, _, theirs, t_closure = _run_lbfgs(torch, "logistic", options, steps=2)
    e_opt, e_params, _, _, _ = _run_lbfgs(ember, "logistic", options, steps=2)
    saved = (copy.deepcopy(e_opt.state_dict()) if source == "ember"
             else _torch_state_to_numpy(t_opt.state_dict()))

    params, loss_fn = _problem(ember, "logistic")
    for p, q in zip(params, t_params, strict=True):
        p.data = ember.tensor(_np(q))
    resumed = ember.optim.LBFGS(params, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.5

    def closure():
        resumed.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(3):
        resumed.step(closure)
        t_opt.step(t_closure)
        _assert_close_steps([[_np(p) for p in params]], [[_np(p) for p in t_params]],
                            rtol=1e-6, atol=1e-9)
    _assert_same_state_dict(resumed.state_dict(), t_opt.state_dict(), rtol=1e-5, atol=1e-8)


def test_lbfgs_stops_at_once_at_a_stationary_point():
    results = {}
    for lib in (ember, torch):
        w = lib.tensor([1.0, 1.0, 1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([w])

        def closure(lib=lib, w=w, opt=opt):
            opt.zero_grad()
            loss = _rosenbrock(lib, w)
            loss.backward()
            return loss

        loss = opt.step(closure)
        results[lib.__name__] = (float(loss.detach()), _np(w).tolist(),
                                 dict(opt.state_dict()["state"]))
    assert results["ember"] == results["torch"]
    assert results["torch"][2] == {0: {"func_evals": 1, "n_iter": 0}}


def test_lbfgs_treats_a_parameter_without_gradient_as_zero_gradient():
    results = {}
    for lib in (ember, torch):
        params, loss_fn = _problem(lib, "least_squares")
        unused = lib.tensor(np.arange(3.0), requires_grad=True)
        opt = lib.optim.LBFGS([*params, unused], max_iter=5, line_search_fn="strong_wolfe")

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        opt.step(closure)
        results[lib.__name__] = [_np(p) for p in [*params, unused]]
    _assert_close_steps([results["ember"]], [results["torch"]], rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(results["ember"][-1], np.arange(3.0))


def test_lbfgs_step_returns_the_first_loss_and_runs_the_closure_with_grad():
    for lib in (ember, torch):
        params, loss_fn = _problem(lib, "least_squares")
        opt = lib.optim.LBFGS(params, max_iter=3)
        first = float(loss_fn().detach())

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        with lib.no_grad():
            assert float(opt.step(closure).detach()) == pytest.approx(first, rel=1e-12)
        assert float(loss_fn().detach()) < first


def _lbfgs_errors(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    cases = {
        "negative lr": lambda: lib.optim.LBFGS([a], lr=-0.1),
        "two groups": lambda: lib.optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}]),
        "tensor lr": lambda: lib.optim.LBFGS([a], lr=lib.ones(2)),
    }

    def unknown_line_search():
        opt = lib.optim.LBFGS([a], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = ((a - 1) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)

    cases["unknown line search"] = unknown_line_search
    return {key: _error(fn) for key, fn in cases.items()}


def test_lbfgs_errors_match_torch():
    ours, theirs = _lbfgs_errors(ember), _lbfgs_errors(torch)
    assert all(v is not None for v in theirs.values())
    assert ours == theirs


def test_lbfgs_defaults_and_repr_match_torch():
    e_opt = ember.optim.LBFGS([ember.zeros(2, requires_grad=True)], max_iter=8)
    t_opt = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)], max_iter=8)
    assert e_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    assert repr(e_opt) == repr(t_opt)


def test_strong_wolfe_line_search_matches_torch_on_bumpy_lines():
    """The line search alone, on 1-d functions with a bump, wiggles and (for odd seeds) a
    slope that disagrees with the function: these reach every branch (extrapolation, zoom,
    the safeguards near the bracket's ends, no cubic minimizer, running out of evaluations)."""
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    from ember.optim.lbfgs import _strong_wolfe, _Trial

    d = np.array([1.0])
    for seed in range(200):
        rng = np.random.default_rng(seed)
        a, b, c = rng.uniform(1, 40), rng.uniform(0.05, 2), rng.uniform(0.5, 3)
        middle, height, width = rng.uniform(0.1, 3), rng.uniform(0.5, 5), rng.uniform(0.02, 0.5)
        noise = rng.uniform(0, 6) * (seed % 2)
        t0, max_ls = rng.uniform(0.05, 5), int(rng.integers(1, 12))
        if seed >= 120:  # short first steps and few evaluations: the search runs out
            t0, max_ls = rng.uniform(0.01, 0.3), int(rng.integers(1, 4))

        def phi(t, a=a, b=b, c=c, m=middle, h=height, w=width):
            return float(-c * t + b * t * t + h * np.exp(-(((t - m) / w) ** 2))
                         + 0.1 * np.sin(a * t))

        def slope(t, a=a, b=b, c=c, m=middle, h=height, w=width, noise=noise):
            bump = -2 * h * (t - m) / w**2 * np.exp(-(((t - m) / w) ** 2))
            return np.array([-c + 2 * b * t + bump + 0.1 * a * np.cos(a * t)
                             + noise * np.sin(7.3 * t)])

        g0 = slope(0.0)
        if g0 @ d >= 0:
            continue

        def evaluate(t, phi=phi, slope=slope):
            g = slope(float(t))
            return _Trial(t, phi(float(t)), g, g @ d)

        best, evals = _strong_wolfe(evaluate, d, _Trial(0, phi(0.0), g0, g0 @ d), t0,
                                    max_ls=max_ls)
        f, _, t, t_evals = torch_strong_wolfe(
            lambda x, t, _d, phi=phi, slope=slope: (phi(float(t)), torch.tensor(slope(float(t)))),
            None, t0, torch.tensor(d), phi(0.0), torch.tensor(g0), torch.tensor(g0 @ d),
            max_ls=max_ls)
        assert evals == t_evals, seed
        assert float(best.t) == pytest.approx(float(t), rel=1e-12, abs=1e-14), seed
        assert best.f == pytest.approx(f, rel=1e-12, abs=1e-14), seed


# ---------------------------------------------------------------------- LBFGS and the doctor
def _lbfgs_loop(zero_grad: bool = True, scheduler_first: bool = False) -> None:
    w = ember.tensor(np.array([-1.2, 1.0, 0.4]), requires_grad=True)
    opt = ember.optim.LBFGS([w], max_iter=4, line_search_fn="strong_wolfe")
    scheduler = ember.optim.lr_scheduler.StepLR(opt, 2)

    def closure():
        if zero_grad:
            opt.zero_grad()
        loss = _rosenbrock(ember, w)
        loss.backward()
        return loss

    if scheduler_first:
        scheduler.step()
    for _ in range(3):
        opt.step(closure)
        scheduler.step()


@pytest.mark.parametrize("bug,check", [(None, None), ("zero_grad", "missing_zero_grad"),
                                       ("scheduler_first", "scheduler_order")])
def test_the_doctor_watches_lbfgs_steps(bug, check):
    """LBFGS has its own step(): the doctor's step-time checks must still run around it."""
    with doctor("missing_zero_grad", "cut_graph", "scheduler_order"):
        _lbfgs_loop(zero_grad=bug != "zero_grad", scheduler_first=bug == "scheduler_first")
        found = [f.check for f in ember.doctor.findings()]
    assert found == ([] if check is None else [check])


# ====================================================================== Rprop and ASGD
SHAPES = [(3, 4), (5,), (2, 3, 2), ()]

CONFIGS = [
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("Rprop", {"lr": 0.2, "etas": (0.7, 1.1), "step_sizes": (0.01, 1.0), "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "t0": 3}),
    ("ASGD", {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 0, "maximize": True}),
    ("ASGD", {"lr": 0.02, "lambd": 0.1, "weight_decay": 0.05, "t0": 5}),
]
CONFIG_IDS = [f"{n}-{o}" for n, o in CONFIGS]
GROUP_OPTIONS = {
    "Rprop": ({"lr": 0.1}, {"lr": 0.02, "etas": (0.4, 1.3), "step_sizes": (1e-4, 0.5)}),
    "ASGD": ({"lr": 0.1, "t0": 2}, {"lr": 0.02, "lambd": 0.05, "alpha": 0.6, "t0": 4}),
}


def _initial_arrays(dtype: str, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.normal(size=shape)).astype(dtype) for shape in SHAPES]


def _gradient(value: np.ndarray, step: int, index: int) -> np.ndarray:
    """d/dp of sum(c * p^2 + sin(3p)) plus noise: depends on the trajectory, flips signs."""
    rng = np.random.default_rng(1000 * step + index)
    noise = rng.normal(scale=0.3, size=value.shape)
    return (2 * (0.5 + index) * value + 3 * np.cos(3 * value) + noise).astype(value.dtype)


def _build(lib, name, params, options, grouped=False):
    cls = getattr(lib.optim, name)
    if not grouped:
        return cls(params, **options)
    first, second = GROUP_OPTIONS[name]
    return cls([{"params": params[:2], **first}, {"params": params[2:], **second}], **options)


def _run(lib, name, options, arrays, steps, grouped=False, skip=None, start=0, params=None,
         opt=None):
    params = params or [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = opt or _build(lib, name, params, options, grouped)
    trajectory = []
    for step in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = None if i == skip else lib.tensor(_gradient(_np(p), step, i))
        opt.step()
        trajectory.append([_np(p) for p in params])
    return opt, params, trajectory


@pytest.mark.parametrize("name,options", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch_float64(name, options):
    arrays = _initial_arrays("float64")
    e_opt, _, ours = _run(ember, name, options, arrays, steps=12)
    t_opt, _, theirs = _run(torch, name, options, arrays, steps=12)
    _assert_close_steps(ours, theirs, rtol=1e-10, atol=1e-12)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name,options", CONFIGS[1::2], ids=CONFIG_IDS[1::2])
def test_trajectory_matches_torch_float32(name, options):
    arrays = _initial_arrays("float32", seed=1)
    e_opt, e_params, ours = _run(ember, name, options, arrays, steps=10)
    t_opt, _, theirs = _run(torch, name, options, arrays, steps=10)
    _assert_close_steps(ours, theirs, rtol=2e-5, atol=2e-6)
    assert all(p.dtype == ember.float32 for p in e_params)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict(), rtol=2e-5, atol=2e-6)


def test_asgd_averages_like_torch_once_t0_is_passed():
    """The averaged iterate `ax` equals the parameter until step t0, then lags behind it."""
    arrays = _initial_arrays("float64", seed=8)
    e_opt, e_params, _ = _run(ember, "ASGD", {"lr": 0.05, "t0": 4}, arrays, steps=9)
    t_opt, t_params, _ = _run(torch, "ASGD", {"lr": 0.05, "t0": 4}, arrays, steps=9)
    for e, t in zip(e_params, t_params, strict=True):
        e_state, t_state = e_opt.state[e], t_opt.state[t]
        np.testing.assert_allclose(_np(e_state["ax"]), _np(t_state["ax"]), rtol=1e-10,
                                   atol=1e-12)
        for key in ("eta", "mu", "step"):
            assert e_state[key].item() == t_state[key].item(), key
        assert not np.allclose(_np(t_state["ax"]), _np(t)) or t.numel() == 0


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_param_groups_and_missing_gradients_match_torch(name):
    arrays = _initial_arrays("float64", seed=2)
    e_opt, _, ours = _run(ember, name, {"lr": 0.05}, arrays, steps=8, grouped=True, skip=1)
    t_opt, _, theirs = _run(torch, name, {"lr": 0.05}, arrays, steps=8, grouped=True, skip=1)
    _assert_close_steps(ours, theirs, rtol=1e-10, atol=1e-12)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("source", ["ember", "torch"])
@pytest.mark.parametrize("name,options", CONFIGS[1::2], ids=CONFIG_IDS[1::2])
def test_state_dict_round_trip_continues_like_torch(name, options, source):
    """5 steps, save, load into a fresh optimizer (our state, or torch's), 5 more steps: the
    same as torch doing the same with its own state_dict (loading casts ASGD's float32 eta and
    mu to the parameter's dtype, so that is not quite an uninterrupted run)."""
    arrays = _initial_arrays("float64", seed=6)
    t_opt, t_params, _ = _run(torch, name, options, arrays, steps=5, grouped=True)
    e_opt, e_params, _ = _run(ember, name, options, arrays, steps=5, grouped=True)
    saved = (copy.deepcopy(e_opt.state_dict()) if source == "ember"
             else _torch_state_to_numpy(t_opt.state_dict()))
    resumed_params = [ember.tensor(_np(p), requires_grad=True) for p in e_params]
    resumed = _build(ember, name, resumed_params, {"lr": 123.0}, grouped=True)
    resumed.load_state_dict(saved)
    t_resumed_params = [torch.tensor(_np(p), requires_grad=True) for p in t_params]
    t_resumed = _build(torch, name, t_resumed_params, {"lr": 123.0}, grouped=True)
    t_resumed.load_state_dict(t_opt.state_dict())
    _assert_same_state_dict(resumed.state_dict(), t_resumed.state_dict())
    _, _, ours = _run(ember, name, options, arrays, steps=5, start=5, params=resumed_params,
                      opt=resumed)
    _, _, theirs = _run(torch, name, options, arrays, steps=5, start=5,
                        params=t_resumed_params, opt=t_resumed)
    _assert_close_steps(ours, theirs, rtol=1e-10, atol=1e-12)
    _assert_same_state_dict(resumed.state_dict(), t_resumed.state_dict())


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_repr_matches_torch(name):
    arrays = _initial_arrays("float64")
    e_opt = _build(ember, name, [ember.tensor(a) for a in arrays], {}, grouped=True)
    t_opt = _build(torch, name, [torch.tensor(a) for a in arrays], {}, grouped=True)
    assert repr(e_opt) == repr(t_opt)


BAD_ARGUMENTS = [
    ("Rprop", {"lr": -1.0}),
    ("Rprop", {"etas": (1.5, 1.2)}),
    ("Rprop", {"etas": (0.0, 1.2)}),
    ("Rprop", {"etas": (0.5, 0.9)}),
    ("ASGD", {"lr": -0.01}),
    ("ASGD", {"weight_decay": -0.1}),
]


@pytest.mark.parametrize("name,options", BAD_ARGUMENTS, ids=[f"{n}-{o}" for n, o in BAD_ARGUMENTS])
def test_invalid_arguments_raise_like_torch(name, options):
    ours = _error(lambda: getattr(ember.optim, name)([ember.zeros(2, requires_grad=True)],
                                                     **options))
    theirs = _error(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)],
                                                       **options))
    assert theirs is not None
    assert ours == theirs


# ====================================================================== hooks
def _hook_events(lib, name: str = "SGD") -> list:
    """The order in which step and state_dict hooks of every kind fire, and after removal."""
    events = []
    p = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = (lib.optim.LBFGS([p], max_iter=2) if name == "LBFGS"
           else getattr(lib.optim, name)([p], lr=0.1))

    def closure():
        events.append("closure")
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    def recorder(label):
        def hook(optimizer, *rest):
            assert optimizer is opt
            events.append(label)
        return hook

    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")  # the global hooks
    handles = [
        module.register_optimizer_step_pre_hook(recorder("global pre")),
        module.register_optimizer_step_post_hook(recorder("global post")),
        opt.register_step_pre_hook(recorder("pre 1")),
        opt.register_step_pre_hook(recorder("pre 2")),
        opt.register_step_post_hook(recorder("post 1")),
        opt.register_step_post_hook(recorder("post 2")),
    ]
    try:
        opt.step(closure)
        events.append("--")
        handles[2].remove()
        handles[5].remove()
        handles[0].remove()
        opt.step(closure)
    finally:
        for handle in handles:
            handle.remove()
    events.append("--")
    opt.step(closure)
    return events


@pytest.mark.parametrize("name", ["SGD", "Rprop", "ASGD", "LBFGS"])
def test_step_hooks_fire_in_torchs_order_and_can_be_removed(name):
    ours, theirs = _hook_events(ember, name), _hook_events(torch, name)
    assert ours == theirs
    assert theirs[:3] == ["global pre", "pre 1", "pre 2"]
    assert theirs[-1] == "closure"  # nothing fires once every handle is removed


def test_a_step_pre_hook_can_replace_the_arguments():
    results = {}
    for lib in (ember, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        seen = []

        def closure(p=p, opt=opt):
            opt.zero_grad()
            loss = (p**3).sum()
            loss.backward()
            return loss

        def pre(optimizer, args, kwargs, closure=closure, seen=seen):
            seen.append((len(args), dict(kwargs)))
            return (args[0],), {"closure": closure}  # args[0] is the optimizer itself

        def post(optimizer, args, kwargs, seen=seen):
            seen.append(sorted(kwargs))

        opt.register_step_pre_hook(pre)
        opt.register_step_post_hook(post)
        loss = opt.step()
        results[lib.__name__] = (float(loss.detach()), _np(p).tolist(), seen)
    assert results["ember"] == results["torch"]

    p = ember.ones(1, requires_grad=True)
    opt = ember.optim.SGD([p])
    opt.register_step_pre_hook(lambda *a: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_hooks_also_wrap_the_step_of_a_custom_subclass():
    events = []

    class SignSGD(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            events.append("step")
            for group in self.param_groups:
                for p in group["params"]:
                    p.data -= group["lr"] * p.grad.sign()

    class SignSGDWithSuper(SignSGD):
        def step(self, closure=None):
            events.append("outer")
            return super().step(closure)

    for cls in (SignSGD, SignSGDWithSuper):
        p = ember.tensor([1.0, -2.0], requires_grad=True)
        p.grad = ember.tensor([0.5, -3.0])
        opt = cls([p])
        opt.register_step_pre_hook(lambda *a: events.append("pre"))
        opt.register_step_post_hook(lambda *a: events.append("post"))
        opt.step()
    # the hooks run once per step() even when a subclass's step calls super().step()
    assert events == ["pre", "step", "post", "pre", "outer", "step", "post"]


def test_copies_of_an_optimizer_leave_its_hooks_behind_like_torch():
    for lib in (ember, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1)
        opt.register_step_pre_hook(lambda *a: None)  # a lambda: would not pickle
        opt.register_state_dict_post_hook(lambda *a: None)
        for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
            assert not clone._optimizer_step_pre_hooks
            assert not clone._optimizer_state_dict_post_hooks
            assert clone.defaults["lr"] == 0.1


def _state_dict_hook_events(lib) -> tuple:
    events = []
    p = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = lib.optim.Adam([p], lr=0.1)
    p.grad = lib.tensor([0.5, 0.5])
    opt.step()

    def label(name, returns=None):
        def hook(*args):
            events.append((name, len(args)))
            return returns(*args) if returns else None
        return hook

    def add_key(optimizer, state_dict):
        state_dict = dict(state_dict)
        state_dict["extra"] = 1
        return state_dict

    def change_lr(optimizer, state_dict):
        state_dict["param_groups"][0]["lr"] = 0.5  # (a copy of the groups is loaded)

    opt.register_state_dict_pre_hook(label("sd pre"))
    opt.register_state_dict_pre_hook(label("sd pre first"), prepend=True)
    handle = opt.register_state_dict_post_hook(label("sd post", add_key))
    opt.register_state_dict_post_hook(label("sd post first"), prepend=True)
    saved = opt.state_dict()
    handle.remove()
    plain = opt.state_dict()

    opt.register_load_state_dict_pre_hook(label("load pre", change_lr))
    opt.register_load_state_dict_pre_hook(label("load pre first"), prepend=True)
    opt.register_load_state_dict_post_hook(label("load post"))
    opt.register_load_state_dict_post_hook(label("load post first"), prepend=True)
    opt.load_state_dict(copy.deepcopy(plain))
    return events, sorted(saved), sorted(plain), opt.param_groups[0]["lr"]


def test_state_dict_hooks_match_torch():
    ours, theirs = _state_dict_hook_events(ember), _state_dict_hook_events(torch)
    assert ours == theirs
    assert theirs[1] == ["extra", "param_groups", "state"] and theirs[3] == 0.5


# ====================================================================== swa_utils
def _net(lib, dtype=None):
    """Linear -> BatchNorm1d -> ReLU -> Linear, with torch's initial weights."""
    lib.manual_seed(0) if lib is torch else None
    nn = lib.nn
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    if lib is ember:
        reference = _net(torch)
        model.load_state_dict({k: v.numpy().copy() for k, v in reference.state_dict().items()})
    if dtype == "float64":
        model.double()
    return model


def _perturb_and_run(lib, model, step: int, dtype: str = "float32") -> None:
    """A deterministic 'training step': shift every weight, and run one batch in train mode
    (which moves the BatchNorm statistics and its integer counter)."""
    rng = np.random.default_rng(step)
    with lib.no_grad():
        for p in model.parameters():
            p.add_(lib.tensor(rng.normal(scale=0.1, size=tuple(p.shape)).astype(dtype)))
    model.train()
    model(lib.tensor(rng.normal(size=(8, 4)).astype(dtype)))


SWA_CASES = {
    "swa": lambda lib: {},
    "swa buffers": lambda lib: {"use_buffers": True},
    "ema multi": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
    "ema multi buffers": lambda lib: {
        "multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.7), "use_buffers": True},
    "ema avg_fn": lambda lib: {"avg_fn": lib.optim.swa_utils.get_ema_avg_fn(0.8)},
    "swa avg_fn buffers": lambda lib: {"avg_fn": lib.optim.swa_utils.get_swa_avg_fn(),
                                       "use_buffers": True},
    "swa multi": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_swa_multi_avg_fn()},
    "custom avg_fn": lambda lib: {"avg_fn": lambda avg, new, n: avg * 0.5 + new * 0.5 + n},
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(SWA_CASES))
def test_averaged_model_matches_torch(case, dtype):
    states = {}
    for lib in (ember, torch):
        model = _net(lib, dtype)
        averaged = lib.optim.swa_utils.AveragedModel(model, **SWA_CASES[case](lib))
        for step in range(5):
            _perturb_and_run(lib, model, step, dtype)
            averaged.update_parameters(model)
        states[lib.__name__] = {k: _np(v) for k, v in averaged.state_dict().items()}
    ours, theirs = states["ember"], states["torch"]
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key].dtype == theirs[key].dtype, key
        tol = 1e-6 if dtype == "float32" else 1e-13
        np.testing.assert_allclose(ours[key], theirs[key], rtol=tol, atol=tol, err_msg=key)
    assert theirs["n_averaged"] == 5


def test_averaged_model_forward_and_int_buffers_in_swa_multi_like_torch():
    outputs = {}
    for lib in (ember, torch):
        model = _net(lib)
        averaged = lib.optim.swa_utils.AveragedModel(model)
        _perturb_and_run(lib, model, 0)
        averaged.update_parameters(model)
        averaged.eval()
        x = lib.tensor(np.random.default_rng(5).normal(size=(3, 4)).astype("float32"))
        outputs[lib.__name__] = _np(averaged(x))
    np.testing.assert_allclose(outputs["ember"], outputs["torch"], rtol=1e-5, atol=1e-6)

    def integer_swa(lib):
        model = _net(lib)
        multi = lib.optim.swa_utils.get_swa_multi_avg_fn()
        averaged = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=multi, use_buffers=True)
        for step in range(2):
            _perturb_and_run(lib, model, step)
            averaged.update_parameters(model)

    ours, theirs = _error(lambda: integer_swa(ember)), _error(lambda: integer_swa(torch))
    assert theirs is not None and ours == theirs


def test_averaging_function_errors_match_torch():
    for make in (lambda lib: lib.optim.swa_utils.get_ema_avg_fn(1.5),
                 lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(-0.1),
                 lambda lib: lib.optim.swa_utils.AveragedModel(
                     lib.nn.Linear(2, 2), avg_fn=lib.optim.swa_utils.get_swa_avg_fn(),
                     multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn())):
        ours, theirs = _error(lambda f=make: f(ember)), _error(lambda f=make: f(torch))
        assert theirs is not None and ours == theirs


def _bn_model(lib):
    nn = lib.nn
    if lib is torch:
        torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, momentum=0.3), nn.ReLU(),
                          nn.Linear(5, 2), nn.BatchNorm1d(2))
    if lib is ember:
        reference = _bn_model(torch)
        model.load_state_dict({k: v.numpy().copy() for k, v in reference.state_dict().items()})
    else:
        for module in model.modules():  # statistics far from what the data gives
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.fill_(5.0)
                module.running_var.fill_(9.0)
    return model


@pytest.mark.parametrize("as_tuples", [False, True])
def test_update_bn_matches_torch(as_tuples):
    rng = np.random.default_rng(4)
    batches = [rng.normal(loc=1.0, size=(n, 4)).astype("float32") for n in (8, 5, 11)]
    results = {}
    for lib in (ember, torch):
        model = _bn_model(lib)
        model.eval()
        data = [lib.tensor(b) for b in batches]
        loader = [(x, lib.zeros(len(x))) for x in data] if as_tuples else data
        lib.optim.swa_utils.update_bn(loader, model)
        results[lib.__name__] = (
            {k: _np(v) for k, v in model.state_dict().items()},
            model.training, model[1].momentum, model[4].momentum,
        )
    ours, theirs = results["ember"], results["torch"]
    assert ours[1:] == theirs[1:] == (False, 0.3, 0.1)
    for key, value in theirs[0].items():
        np.testing.assert_allclose(ours[0][key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    assert theirs[0]["1.num_batches_tracked"] == 3


def test_update_bn_on_an_averaged_model_and_without_batchnorm():
    rng = np.random.default_rng(9)
    batches = [rng.normal(size=(6, 4)).astype("float32") for _ in range(2)]
    results = {}
    for lib in (ember, torch):
        model = _bn_model(lib)
        averaged = lib.optim.swa_utils.AveragedModel(model)
        averaged.update_parameters(model)
        lib.optim.swa_utils.update_bn([lib.tensor(b) for b in batches], averaged)
        plain = lib.nn.Linear(4, 2)
        lib.optim.swa_utils.update_bn([lib.tensor(b) for b in batches], plain)  # no-op
        results[lib.__name__] = {k: _np(v) for k, v in averaged.state_dict().items()
                                 if "running" in k}
    for key, value in results["torch"].items():
        np.testing.assert_allclose(results["ember"][key], value, rtol=1e-5, atol=1e-6)


def _swalr_lrs(lib, swa_lr, anneal_epochs, anneal_strategy, steps=14, first=None):
    p, q = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=1.0)
    lrs = []
    if first is not None:  # another schedule ran before the SWA phase
        before = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=first)
        for _ in range(3):
            opt.step()
            before.step()
    scheduler = lib.optim.swa_utils.SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                                          anneal_strategy=anneal_strategy)
    lrs.append(scheduler.get_last_lr())
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    return lrs, opt.state_dict()["param_groups"], scheduler


SWALR_CASES = [
    (0.05, 10, "cos", None),
    (0.05, 5, "linear", None),
    ([0.01, 0.2], 3, "cos", None),
    ([0.5, 0.02], 4, "linear", 0.7),
    (0.1, 0, "cos", None),
    (0.1, 1, "linear", 0.5),
    (0.05, 20, "cos", 0.9),
]


@pytest.mark.parametrize("swa_lr,anneal_epochs,strategy,first", SWALR_CASES)
def test_swalr_learning_rates_match_torch(swa_lr, anneal_epochs, strategy, first):
    ours, e_groups, e_sched = _swalr_lrs(ember, swa_lr, anneal_epochs, strategy, first=first)
    theirs, t_groups, t_sched = _swalr_lrs(torch, swa_lr, anneal_epochs, strategy, first=first)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)
    assert [sorted(g) for g in e_groups] == [sorted(g) for g in t_groups]
    assert [g["swa_lr"] for g in e_groups] == [g["swa_lr"] for g in t_groups]
    swa_keys = {"anneal_epochs", "_anneal_strategy"}
    assert swa_keys <= set(e_sched.state_dict()) and swa_keys <= set(t_sched.state_dict())
    assert "anneal_func" not in e_sched.state_dict()


def test_swalr_state_dict_round_trip_continues_like_torch():
    sequences = {}
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=1.0)
        scheduler = lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=6,
                                              anneal_strategy="linear")
        for _ in range(3):
            opt.step()
            scheduler.step()
        saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(scheduler.state_dict())
        q = lib.zeros(2, requires_grad=True)
        resumed_opt = lib.optim.SGD([q], lr=1.0)
        resumed = lib.optim.swa_utils.SWALR(resumed_opt, swa_lr=0.7, anneal_strategy="cos")
        resumed_opt.load_state_dict(saved_opt)
        resumed.load_state_dict(saved)
        lrs = []
        for _ in range(5):
            resumed_opt.step()
            resumed.step()
            lrs.append(resumed.get_last_lr()[0])
        sequences[lib.__name__] = lrs
    np.testing.assert_allclose(sequences["ember"], sequences["torch"], rtol=1e-12)


def test_swalr_errors_match_torch():
    for options in ({"anneal_strategy": "exp"}, {"anneal_epochs": -1},
                    {"anneal_epochs": 2.5}, {"swa_lr": [0.1, 0.2]}):
        def make(lib, options=options):
            opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
            return lib.optim.swa_utils.SWALR(opt, **{"swa_lr": 0.05, **options})

        ours, theirs = _error(lambda: make(ember)), _error(lambda: make(torch))
        assert theirs is not None and ours == theirs, options
