"""ember.optim against torch.optim: the same parameters and gradients must give the same
trajectories, states, state_dicts, reprs and errors."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]

# (optimizer name, options) covering every switch of every optimizer
CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.2}),
    ("Adam", {}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "amsgrad": True,
              "weight_decay": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.1, "amsgrad": True, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.01, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "eps": 1e-4, "maximize": True}),
]
NAMES = sorted({name for name, _ in CONFIGS})

# a second option set per optimizer, for param groups with different options
GROUP_OPTIONS = {
    "SGD": ({"momentum": 0.9}, {"lr": 0.01, "momentum": 0.5, "nesterov": True}),
    "Adam": ({"lr": 0.1}, {"lr": 0.02, "amsgrad": True, "betas": (0.5, 0.9)}),
    "AdamW": ({"lr": 0.1}, {"lr": 0.02, "weight_decay": 0.3}),
    "RMSprop": ({"momentum": 0.9}, {"centered": True, "alpha": 0.8}),
    "Adagrad": ({"lr": 0.1}, {"lr": 0.3, "lr_decay": 0.5}),
    "Adamax": ({"lr": 0.1}, {"lr": 0.01, "weight_decay": 0.2}),
    "NAdam": ({"lr": 0.1}, {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.2}),
    "RAdam": ({"lr": 0.1}, {"lr": 0.01, "weight_decay": 0.2}),
    "Adadelta": ({"lr": 1.0}, {"lr": 0.3, "rho": 0.6}),
}


# ---------------------------------------------------------------------- the shared harness
def _initial_arrays(dtype: str, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.normal(size=shape)).astype(dtype) for shape in SHAPES]


def _make_params(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _gradient(value: np.ndarray, step: int, index: int) -> np.ndarray:
    """d/dp of sum(c * p^2 + sin(3p)) plus a fixed per-step term: depends on the trajectory."""
    rng = np.random.default_rng(1000 * step + index)
    c = 0.5 + index
    noise = rng.normal(scale=0.3, size=value.shape)
    return (2 * c * value + 3 * np.cos(3 * value) + noise).astype(value.dtype)


def _to_numpy(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _set_grads(lib, params, step: int, skip: int | None = None) -> None:
    for i, p in enumerate(params):
        if i == skip:
            p.grad = None  # this parameter has no gradient: the optimizer must skip it
            continue
        p.grad = lib.tensor(_gradient(_to_numpy(p), step, i))


def _build(lib, name, params, options, grouped=False):
    cls = getattr(lib.optim, name)
    if not grouped:
        return cls(params, **options)
    first, second = GROUP_OPTIONS[name]
    return cls([{"params": params[:2], **first}, {"params": params[2:], **second}], **options)


def _run(lib, name, options, arrays, steps, grouped=False, skip=None):
    params = _make_params(lib, arrays)
    opt = _build(lib, name, params, options, grouped)
    trajectory = []
    for step in range(steps):
        _set_grads(lib, params, step, skip)
        opt.step()
        trajectory.append([_to_numpy(p) for p in params])
    return opt, params, trajectory


def _assert_trajectories(ours, theirs, rtol, atol) -> None:
    for step, (a_step, b_step) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(a_step, b_step, strict=True)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"step {step}, parameter {i}")


def _state_to_numpy(state: dict) -> dict:
    out = {}
    for index, entry in state.items():
        out[index] = {k: (_to_numpy(v) if hasattr(v, "detach") else v) for k, v in entry.items()}
    return out


def _assert_same_state_dict(ours: dict, theirs: dict, rtol=1e-9, atol=1e-12) -> None:
    assert ours["param_groups"] == theirs["param_groups"]
    a, b = _state_to_numpy(ours["state"]), _state_to_numpy(theirs["state"])
    assert a.keys() == b.keys()
    for index in a:
        assert a[index].keys() == b[index].keys(), index
        for key in a[index]:
            x, y = a[index][key], b[index][key]
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype, (index, key)
                np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{index} {key}")
            else:
                assert x == y, (index, key)


# ---------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("name,options", CONFIGS, ids=[f"{n}-{o}" for n, o in CONFIGS])
def test_trajectory_matches_torch_float64(name, options):
    arrays = _initial_arrays("float64")
    _, _, ours = _run(ember, name, options, arrays, steps=12)
    _, _, theirs = _run(torch, name, options, arrays, steps=12)
    _assert_trajectories(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_trajectory_matches_torch_float32(name):
    options = dict(CONFIGS[[n for n, _ in CONFIGS].index(name) + 1][1])
    arrays = _initial_arrays("float32", seed=1)
    _, e_params, ours = _run(ember, name, options, arrays, steps=10)
    _, _, theirs = _run(torch, name, options, arrays, steps=10)
    _assert_trajectories(ours, theirs, rtol=2e-5, atol=2e-6)
    assert all(p.dtype == ember.float32 for p in e_params)


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options(name):
    arrays = _initial_arrays("float64", seed=2)
    e_opt, _, ours = _run(ember, name, {"lr": 0.05}, arrays, steps=10, grouped=True)
    t_opt, _, theirs = _run(torch, name, {"lr": 0.05}, arrays, steps=10, grouped=True)
    _assert_trajectories(ours, theirs, rtol=1e-10, atol=1e-12)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_grad_are_skipped(name):
    arrays = _initial_arrays("float64", seed=3)
    e_opt, e_params, ours = _run(ember, name, {}, arrays, steps=4, skip=1)
    t_opt, _, theirs = _run(torch, name, {}, arrays, steps=4, skip=1)
    _assert_trajectories(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_to_numpy(e_params[1]), arrays[1])
    assert set(e_opt.state_dict()["state"]) == set(t_opt.state_dict()["state"])


@pytest.mark.parametrize("name,options", CONFIGS, ids=[f"{n}-{o}" for n, o in CONFIGS])
def test_state_dict_matches_torch(name, options):
    arrays = _initial_arrays("float64", seed=4)
    e_opt, _, _ = _run(ember, name, options, arrays, steps=3)
    t_opt, _, _ = _run(torch, name, options, arrays, steps=3)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


def test_state_dict_step_is_a_float32_scalar_like_torch():
    arrays = _initial_arrays("float64")
    e_opt, _, _ = _run(ember, "Adam", {}, arrays, steps=3)
    t_opt, _, _ = _run(torch, "Adam", {}, arrays, steps=3)
    e_step, t_step = e_opt.state_dict()["state"][0]["step"], t_opt.state_dict()["state"][0]["step"]
    assert isinstance(e_step, ember.Tensor)
    assert e_step.shape == tuple(t_step.shape) == ()
    assert str(e_step.dtype).split(".")[-1] == str(t_step.dtype).split(".")[-1] == "float32"
    assert e_step.item() == t_step.item() == 3.0


@pytest.mark.parametrize("name", NAMES)
def test_repr_matches_torch(name):
    options = dict(CONFIGS[[n for n, _ in CONFIGS].index(name) + 1][1])
    arrays = _initial_arrays("float64")
    e_opt = _build(ember, name, _make_params(ember, arrays), options, grouped=True)
    t_opt = _build(torch, name, _make_params(torch, arrays), options, grouped=True)
    assert repr(e_opt) == repr(t_opt)


# ---------------------------------------------------------------------- closure
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_closure_recomputes_the_loss_with_grad_enabled(name):
    arrays = _initial_arrays("float64", seed=5)
    results = {}
    for lib in (ember, torch):
        params = _make_params(lib, arrays)
        opt = getattr(lib.optim, name)(params, lr=0.05)

        def closure(lib=lib, params=params, opt=opt):
            opt.zero_grad()
            loss = sum(((i + 0.5) * p**2 + lib.sin(3 * p)).sum() for i, p in enumerate(params))
            loss.backward()
            return loss

        losses = []
        for _ in range(8):
            with lib.no_grad():  # step must switch grad mode back on for the closure
                losses.append(float(opt.step(closure)))
        results[lib.__name__] = (losses, [_to_numpy(p) for p in params])
    np.testing.assert_allclose(results["ember"][0], results["torch"][0], rtol=1e-10)
    _assert_trajectories([results["ember"][1]], [results["torch"][1]], rtol=1e-10, atol=1e-12)


def test_step_without_closure_returns_none():
    p = ember.zeros(2, requires_grad=True)
    p.grad = ember.ones(2)
    assert ember.optim.SGD([p], lr=0.1).step() is None


# ---------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("name,options", CONFIGS[::2], ids=[f"{n}-{o}" for n, o in CONFIGS[::2]])
def test_state_dict_round_trip_continues_identically(name, options):
    arrays = _initial_arrays("float64", seed=6)
    params = _make_params(ember, arrays)
    opt = _build(ember, name, params, options, grouped=True)
    for step in range(5):
        _set_grads(ember, params, step)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())

    resumed_params = _make_params(ember, [_to_numpy(p) for p in params])
    resumed = _build(ember, name, resumed_params, {"lr": 123.0}, grouped=True)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for step in range(5, 10):
        for ps, o in ((params, opt), (resumed_params, resumed)):
            _set_grads(ember, ps, step)
            o.step()
        for a, b in zip(params, resumed_params, strict=True):
            # not bit-equal for NAdam: loading casts its float32 mu_product to the parameter
            # dtype, as torch does
            np.testing.assert_allclose(_to_numpy(a), _to_numpy(b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("convert", ["numpy", "ember"])
@pytest.mark.parametrize("name,options", CONFIGS[1::2], ids=[f"{n}-{o}" for n, o in CONFIGS[1::2]])
def test_load_a_torch_state_dict(name, options, convert):
    """Train 5 steps in torch, move its state_dict over, and finish the run in Ember."""
    arrays = _initial_arrays("float64", seed=7)
    t_params = _make_params(torch, arrays)
    t_opt = _build(torch, name, t_params, options, grouped=True)
    for step in range(5):
        _set_grads(torch, t_params, step)
        t_opt.step()

    def to_ours(value):
        if isinstance(value, torch.Tensor):
            array = value.detach().numpy().copy()
            return array if convert == "numpy" else ember.tensor(array)
        return value

    t_state = t_opt.state_dict()
    saved = {
        "state": {index: {key: to_ours(value) for key, value in entry.items()}
                  for index, entry in t_state["state"].items()},
        "param_groups": copy.deepcopy(t_state["param_groups"]),
    }
    e_params = _make_params(ember, [_to_numpy(p) for p in t_params])
    e_opt = _build(ember, name, e_params, {}, grouped=True)
    e_opt.load_state_dict(saved)
    # the reference: torch loading its own checkpoint (which also casts state to param dtype)
    t_params = _make_params(torch, [_to_numpy(p) for p in t_params])
    t_opt = _build(torch, name, t_params, {}, grouped=True)
    t_opt.load_state_dict(t_state)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())
    for value in e_opt.state.values():
        assert all(isinstance(v, ember.Tensor) for v in value.values())

    for step in range(5, 10):
        _set_grads(torch, t_params, step)
        t_opt.step()
        _set_grads(ember, e_params, step)
        e_opt.step()
    _assert_trajectories([[_to_numpy(p) for p in e_params]], [[_to_numpy(p) for p in t_params]],
                         rtol=1e-10, atol=1e-12)


def test_loaded_state_does_not_alias_the_checkpoint():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    saved = opt.state_dict()
    other = ember.optim.Adam([ember.ones(3, requires_grad=True)], lr=0.1)
    other.load_state_dict(saved)
    before = _to_numpy(saved["state"][0]["exp_avg"])
    other.param_groups[0]["params"][0].grad = ember.ones(3)
    other.step()
    np.testing.assert_array_equal(_to_numpy(saved["state"][0]["exp_avg"]), before)


def test_load_state_dict_casts_to_the_parameter_dtype():
    p = ember.ones(3, dtype=ember.float32, requires_grad=True)
    opt = ember.optim.Adam([p])
    saved = {"state": {0: {"step": np.array(2.0, dtype=np.float32),
                           "exp_avg": np.ones(3), "exp_avg_sq": np.ones(3)}},
             "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(saved)
    assert opt.state[p]["exp_avg"].dtype == ember.float32
    assert opt.state[p]["step"].dtype == ember.float32


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_load_state_dict_errors(lib):
    a, b = (lib.zeros(2, requires_grad=True) for _ in range(2))
    opt = lib.optim.SGD([a, b], lr=0.1)
    one_group = lib.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(one_group)
    small = lib.optim.SGD([a], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(small)


# ---------------------------------------------------------------------- zero_grad, versions
def test_zero_grad_matches_torch():
    for set_to_none in (True, False):
        seen = {}
        for lib in (ember, torch):
            p, q = lib.ones(3, requires_grad=True), lib.ones(2, requires_grad=True)
            p.grad = lib.full((3,), 2.0)
            grad_object = p.grad
            opt = lib.optim.SGD([p, q], lr=0.1)
            opt.zero_grad(set_to_none=set_to_none)
            seen[lib.__name__] = (
                None if p.grad is None else p.grad.tolist(),
                q.grad is None,
                p.grad is grad_object,
            )
        assert seen["ember"] == seen["torch"]
    p = ember.ones(3, requires_grad=True)
    p.grad = ember.ones(3)
    ember.optim.SGD([p]).zero_grad()  # the default is set_to_none=True
    assert p.grad is None


def test_step_bumps_the_parameter_version():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    before = p._version
    p.grad = ember.ones(3)
    opt.step()
    assert p._version > before


def test_step_is_not_recorded_by_autograd():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ember.ones(3)
    opt.step()
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


# ---------------------------------------------------------------------- argument errors
def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 (we compare the exception itself)
        return type(exc), str(exc)
    return None


BAD_ARGUMENTS = [
    ("SGD", {"lr": -1.0}),
    ("SGD", {"momentum": -0.5}),
    ("SGD", {"weight_decay": -1e-3}),
    ("SGD", {"nesterov": True}),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("SGD", {"fused": True, "foreach": True}),
    ("Adam", {"lr": -1e-3}),
    ("Adam", {"eps": -1.0}),
    ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}),
    ("Adam", {"weight_decay": -1.0}),
    ("AdamW", {"lr": -0.5}),
    ("AdamW", {"betas": (0.9, 1.5)}),
    ("RMSprop", {"lr": -0.1}),
    ("RMSprop", {"alpha": -0.1}),
    ("RMSprop", {"eps": -0.1}),
    ("RMSprop", {"momentum": -0.1}),
    ("RMSprop", {"weight_decay": -0.1}),
    ("Adagrad", {"lr": -0.1}),
    ("Adagrad", {"lr_decay": -0.1}),
    ("Adagrad", {"initial_accumulator_value": -0.1}),
    ("Adagrad", {"weight_decay": -0.1}),
    ("Adagrad", {"eps": -0.1}),
    ("Adamax", {"betas": (-0.1, 0.9)}),
    ("NAdam", {"momentum_decay": -0.1}),
    ("RAdam", {"eps": -1.0}),
    ("Adadelta", {"rho": 1.5}),
    ("Adadelta", {"lr": -1.0}),
]


@pytest.mark.parametrize("name,options", BAD_ARGUMENTS,
                         ids=[f"{n}-{o}" for n, o in BAD_ARGUMENTS])
def test_invalid_arguments_raise_like_torch(name, options):
    ours = _error(lambda: getattr(ember.optim, name)([ember.zeros(2, requires_grad=True)],
                                                     **options))
    theirs = _error(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)],
                                                       **options))
    assert theirs is not None
    assert ours == theirs


def test_invalid_learning_rate_message():
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -1.0$"):
        ember.optim.Adam([ember.zeros(1, requires_grad=True)], lr=-1.0)


def _param_errors(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    non_leaf = a * 2
    cases = {
        "empty": lambda: lib.optim.SGD([], lr=0.1),
        "tensor": lambda: lib.optim.SGD(a, lr=0.1),
        "set": lambda: lib.optim.SGD([{"params": {a, b}}], lr=0.1),
        "non-leaf": lambda: lib.optim.SGD([non_leaf], lr=0.1),
        "two groups": lambda: lib.optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1),
        "not a tensor": lambda: lib.optim.SGD([a, 3.0], lr=0.1),
        "not a dict": lambda: lib.optim.SGD([a], lr=0.1).add_param_group([b]),
        "added twice": lambda: lib.optim.SGD([a], lr=0.1).add_param_group({"params": a}),
        "names mixed": lambda: lib.optim.SGD([("a", a), b], lr=0.1),
    }
    return {key: _error(fn) for key, fn in cases.items()}


def test_parameter_list_errors_match_torch():
    ours, theirs = _param_errors(ember), _param_errors(torch)
    for key in ours:
        assert theirs[key] is not None, key
        assert ours[key][0] is theirs[key][0], key
        if key not in ("tensor", "not a tensor"):  # these name the type (torch.FloatTensor)
            assert ours[key][1] == theirs[key][1], key


def test_duplicate_parameters_warn_like_torch():
    for lib in (ember, torch):
        a = lib.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([a, a], lr=0.1)


# ---------------------------------------------------------------------- param group bookkeeping
def test_add_param_group_fills_defaults_like_torch():
    groups = {}
    for lib in (ember, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.Adam([a], lr=0.01, weight_decay=0.1)
        opt.add_param_group({"params": b, "lr": 0.5})
        groups[lib.__name__] = opt.state_dict()["param_groups"]
    assert groups["ember"] == groups["torch"]


def test_named_parameters_are_kept_like_torch():
    groups = {}
    for lib in (ember, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = lib.optim.SGD([("w", a), ("b", b)], lr=0.1)
        groups[lib.__name__] = opt.state_dict()["param_groups"]
    assert groups["ember"] == groups["torch"]
    assert groups["ember"][0]["param_names"] == ["w", "b"]


def test_state_is_keyed_by_parameter_and_defaults_to_empty():
    p = ember.ones(2, requires_grad=True)
    opt = ember.optim.Adam([p])
    assert opt.state[p] == {}
    p.grad = ember.ones(2)
    opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}


def test_adagrad_fills_its_state_in_the_constructor_like_torch():
    arrays = _initial_arrays("float64")
    e_opt = ember.optim.Adagrad(_make_params(ember, arrays), initial_accumulator_value=0.3)
    t_opt = torch.optim.Adagrad(_make_params(torch, arrays), initial_accumulator_value=0.3)
    _assert_same_state_dict(e_opt.state_dict(), t_opt.state_dict())


def test_custom_optimizer_subclass_with_its_own_step():
    class SignSGD(ember.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(group["lr"] * p.grad.sign())

    p = ember.tensor([1.0, -2.0], requires_grad=True)
    p.grad = ember.tensor([0.5, -3.0])
    SignSGD([p]).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -1.9])


def test_base_optimizer_step_is_abstract():
    p = ember.ones(1, requires_grad=True)
    p.grad = ember.ones(1)
    with pytest.raises(NotImplementedError):
        ember.optim.Optimizer([p], {"lr": 0.1}).step()


def test_momentum_buffers_are_independent_of_the_gradient():
    p = ember.zeros(2, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ember.ones(2)
    opt.step()
    p.grad._data[...] = 100.0  # the buffer must have copied the first gradient
    assert opt.state[p]["momentum_buffer"].tolist() == [1.0, 1.0]


def test_optimizer_trains_a_small_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.3
    w = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    b = ember.zeros((), dtype=ember.float64, requires_grad=True)
    opt = ember.optim.AdamW([w, b], lr=0.1, weight_decay=0.0)
    xt, yt = ember.tensor(x), ember.tensor(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(300):
            opt.zero_grad()
            loss = ((xt @ w + b - yt) ** 2).mean()
            loss.backward()
            opt.step()
    assert float(loss) < 1e-4
    assert math.isclose(float(b), 0.3, abs_tol=1e-2)
