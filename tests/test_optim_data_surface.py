"""The less common corners of ember.optim and ember.utils.data against torch: every optimizer's
rarer options (trajectories and state_dict layout), Adafactor, schedulers writing a tensor lr
in place, and collate's extensible `collate_fn_map` with torch's import paths."""

from __future__ import annotations

import collections
import importlib

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
W0, B0 = RNG.standard_normal((3, 4)), RNG.standard_normal(3)
X, Y = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 3))


def _trajectory(lib, name: str, kwargs: dict, groups: bool, steps: int = 6):
    """`steps` optimizer steps on a least-squares problem; the weights after each step."""
    w = lib.tensor(W0.copy(), dtype=lib.float64, requires_grad=True)
    b = lib.tensor(B0.copy(), dtype=lib.float64, requires_grad=True)
    x, y = lib.tensor(X, dtype=lib.float64), lib.tensor(Y, dtype=lib.float64)
    params = [{"params": [w]}, {"params": [b], "lr": 0.05}] if groups else [w, b]
    opt = getattr(lib.optim, name)(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        if name == "LBFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
        out.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return out, opt


CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.5, "betas": (0.8, 0.9)}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1, "alpha": 0.9}),
    ("Adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("NAdam", {"momentum_decay": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1), "maximize": True}),
    ("ASGD", {"lr": 0.05, "lambd": 1e-3, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("Adamax", {"weight_decay": 0.1, "maximize": True}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adafactor", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adafactor", {"eps": (1e-5, 1e-2), "d": 2.0, "beta2_decay": -0.5, "maximize": True}),
    ("LBFGS", {"lr": 1, "line_search_fn": "strong_wolfe", "max_iter": 4}),
    ("LBFGS", {"lr": 0.5, "history_size": 3, "max_iter": 5}),
]


@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_rare_options_follow_torch(name, kwargs, groups):
    if name == "LBFGS" and groups:
        pytest.skip("LBFGS takes one parameter group")
    ours, opt = _trajectory(ember, name, kwargs, groups)
    theirs, topt = _trajectory(torch, name, kwargs, groups)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for got, want in zip(a, b, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, err_msg=f"step {step}")
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd) == list(tsd) == ["state", "param_groups"]
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["state"]) == list(tsd["state"])
    for index, tstate in tsd["state"].items():
        assert list(sd["state"][index]) == list(tstate)
        for key, value in tstate.items():
            if isinstance(value, torch.Tensor):
                assert tuple(sd["state"][index][key].shape) == tuple(value.shape), key


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adafactor_factored_state_and_shapes(dtype):
    """Matrices keep a row and a column variance, vectors and scalars a full one."""
    init = [RNG.standard_normal(s) for s in [(3, 4), (4,), (2, 3, 5), ()]]

    def run(lib):
        ps = [lib.nn.Parameter(lib.tensor(a, dtype=getattr(lib, dtype))) for a in init]
        opt = lib.optim.Adafactor(ps, lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            sum((p**3).sum() + 0.3 * (p * p).sum() for p in ps).backward()
            opt.step()
        return [p.detach().numpy().astype(np.float64) for p in ps], opt.state_dict()

    ours, sd = run(ember)
    theirs, tsd = run(torch)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert sd["param_groups"] == tsd["param_groups"]
    for i, tstate in tsd["state"].items():
        assert {k: tuple(v.shape) for k, v in sd["state"][i].items()} == {
            k: tuple(v.shape) for k, v in tstate.items()}


@pytest.mark.parametrize("kwargs", [
    {"lr": -1.0}, {"beta2_decay": 0.1}, {"eps": (-1.0, 1e-3)}, {"eps": (None, -1.0)},
    {"d": 0.5}, {"weight_decay": -1.0},
])
def test_adafactor_bad_hyperparameters(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adafactor([torch.nn.Parameter(torch.ones(2))], **kwargs)
    with pytest.raises(ValueError) as ours:
        ember.optim.Adafactor([ember.nn.Parameter(ember.ones(2))], **kwargs)
    assert str(ours.value) == str(theirs.value)


SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, 2, 0.5),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3),
    "LinearLR": lambda L, o: L.LinearLR(o),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, total_iters=2), L.ExponentialLR(o, 0.9)], [2]),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2, cycle_momentum=False),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=0),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_fills_a_tensor_lr_in_place(name):
    """A tensor in group['lr'] is updated in place (code holding it sees the schedule), and
    get_last_lr() gives copies, as torch does."""

    def run(lib):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
        held = lib.tensor(0.1)
        opt.param_groups[0]["lr"] = held
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        seen = []
        for _ in range(6):
            sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
            last = sched.get_last_lr()[0]
            seen.append((opt.param_groups[0]["lr"] is held, round(float(held), 7),
                         isinstance(last, lib.Tensor), last is not held, round(float(last), 7)))
        return seen

    assert run(ember) == run(torch)


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x


@pytest.mark.parametrize("lib", ["torch", "ember"])
def test_collate_fn_map_import_paths(lib):
    mod = importlib.import_module(f"{lib}.utils.data._utils.collate")
    assert mod.default_collate is importlib.import_module(f"{lib}.utils.data").default_collate


def test_collate_with_custom_collate_fn_map():
    def run(lib):
        mod = importlib.import_module(f"{lib.__name__}.utils.data._utils.collate")

        def points(batch, *, collate_fn_map=None):
            return sum(p.x for p in batch)

        fn_map = {**mod.default_collate_fn_map, _Point: points}
        batch = [{"p": _Point(1), "t": (lib.ones(2), "s")},
                 {"p": _Point(2), "t": (lib.zeros(2), "q")}]
        out = mod.collate(batch, collate_fn_map=fn_map)
        only_ints = mod.collate([1, 2], collate_fn_map={int: mod.collate_int_fn})
        with pytest.raises(TypeError) as err:
            mod.collate([_Point(1)])  # no map: nothing knows the type
        return (out["p"], out["t"][0].numpy().tolist(), out["t"][1], only_ints.tolist(),
                str(err.value).replace("torch", "lib").replace("ember", "lib"))

    assert run(ember) == run(torch)


def test_default_collate_keeps_tuple_fields_of_strings():
    nt = collections.namedtuple("NT", ["a", "b"])
    for batch in ([(1, "a"), (2, "b")], [nt(1, "x"), nt(2, "y")]):
        ours = ember.utils.data.default_collate(batch)
        theirs = torch.utils.data.default_collate(batch)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours[1] == theirs[1] and type(ours[1]) is type(theirs[1])
        assert ours[0].tolist() == theirs[0].tolist()


def test_data_module_paths():
    data = ember.utils.data
    assert data.distributed.DistributedSampler is data.DistributedSampler
    assert data.dataloader.get_worker_info is data.get_worker_info
    loader = data.DataLoader(data.TensorDataset(ember.arange(4)), batch_size=2)
    assert isinstance(iter(loader), data.dataloader._SingleProcessDataLoaderIter)
    assert isinstance(iter(loader), data.dataloader._BaseDataLoaderIter)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    {}, {"lr": 0.05, "nesterov": False, "weight_decay": 0.0},
    {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw"}, {"lr": 0.02, "ns_steps": 3, "momentum": 0.5},
])
def test_muon_follows_torch(kwargs, dtype):
    """Muon's Newton-Schulz runs in bfloat16 in torch; Ember rounds to bfloat16 the same way,
    so wide, tall and square weights end up where torch's do. (A 1-ulp difference upstream can
    flip one bfloat16 rounding, which moves a weight by up to ~1e-3 here: hence atol.)"""
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s) for s in [(3, 5), (6, 4), (4, 4)]]

    def run(lib):
        ps = [lib.nn.Parameter(lib.tensor(a, dtype=getattr(lib, dtype))) for a in init]
        opt = lib.optim.Muon(ps, **kwargs)
        for _ in range(5):
            opt.zero_grad()
            sum((p**3).sum() + 0.3 * (p * p).sum() for p in ps).backward()
            opt.step()
        return [p.detach().numpy().astype(np.float64) for p in ps], opt.state_dict()

    ours, sd = run(ember)
    theirs, tsd = run(torch)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-3)
    assert sd["param_groups"] == tsd["param_groups"]
    assert [list(s) for s in sd["state"].values()] == [list(s) for s in tsd["state"].values()]


@pytest.mark.parametrize(("kwargs", "shape"), [
    ({"lr": -1.0}, (2, 2)), ({"momentum": -1.0}, (2, 2)), ({"weight_decay": -1.0}, (2, 2)),
    ({"adjust_lr_fn": "foo"}, (2, 2)), ({}, (3,)),
])
def test_muon_errors(kwargs, shape):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Muon([torch.nn.Parameter(torch.ones(shape))], **kwargs)
    with pytest.raises(ValueError) as ours:
        ember.optim.Muon([ember.nn.Parameter(ember.ones(shape))], **kwargs)
    assert str(ours.value).replace("ember", "torch") == str(theirs.value)


def test_muon_bfloat16_rounding_matches_torch():
    """The Newton-Schulz iteration's bfloat16 emulation rounds as torch's bfloat16 does (to
    nearest, ties to even), including exact ties, huge values and infinities."""
    from ember.optim.muon import _round_bf16

    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.standard_normal(2000).astype(np.float32) * 10.0 ** rng.integers(-20, 20, 2000),
        np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 0.0, -0.0, 3.39e38, np.inf, -np.inf],
                 dtype=np.float32),
    ]).astype(np.float32)
    want = torch.from_numpy(values).bfloat16().float().numpy()
    np.testing.assert_array_equal(_round_bf16(values), want)
