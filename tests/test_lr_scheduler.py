"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: the same schedule, step by step."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

import ember


def _optimizer(lib, kind="SGD"):
    """Two param groups with different lrs (and momentum, for the momentum-cycling schedules)."""
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99))


def _record(opt, scheduler):
    keys = ("lr", "momentum", "betas")
    return (list(scheduler.get_last_lr()),
            [{k: g[k] for k in keys if k in g} for g in opt.param_groups])


def _history(lib, make, steps, kind="SGD", metrics=None):
    lr_scheduler = lib.optim.lr_scheduler
    opt = _optimizer(lib, kind)
    scheduler = make(lr_scheduler, opt)
    history = [_record(opt, scheduler)]
    for i in range(steps):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        history.append(_record(opt, scheduler))
    return history


def _assert_same_history(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a[0] == pytest.approx(b[0], rel=1e-12, abs=1e-15), f"lrs at step {step}"
        for ga, gb in zip(a[1], b[1], strict=True):
            assert ga.keys() == gb.keys()
            for key in ga:
                assert ga[key] == pytest.approx(gb[key], rel=1e-12, abs=1e-15), (step, key)


SCHEDULES = {
    "StepLR": (lambda m, o: m.StepLR(o, step_size=3, gamma=0.5), 20, "SGD"),
    "StepLR-every-epoch": (lambda m, o: m.StepLR(o, step_size=1), 8, "SGD"),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 15, "SGD"),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.9), 20, "SGD"),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=1e-3), 40, "SGD"),
    "CosineAnnealingLR-default": (lambda m, o: m.CosineAnnealingLR(o, T_max=10), 25, "SGD"),
    "WarmRestarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5), 23, "SGD"),
    "WarmRestarts-Tmult": (
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), 40, "SGD"),
    "LinearLR": (lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=6), 12, "SGD"),
    "LinearLR-decay": (
        lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=4), 8, "SGD"),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 0.95**e), 12, "SGD"),
    "LambdaLR-per-group": (
        lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: e % 3 + 1]), 12, "SGD"),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9), 12, "SGD"),
    "ConstantLR": (lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4), 10, "SGD"),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, total_iters=8, power=2.0), 12, "SGD"),
    "PolynomialLR-default": (lambda m, o: m.PolynomialLR(o), 8, "SGD"),
    "OneCycleLR": (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=30), 30, "SGD"),
    "OneCycleLR-three-phase-linear-adam": (
        lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], epochs=3, steps_per_epoch=10,
                                  anneal_strategy="linear", three_phase=True, pct_start=0.25),
        30, "Adam"),
    "OneCycleLR-factors-no-momentum": (
        lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=20, cycle_momentum=False,
                                  div_factor=10.0, final_div_factor=100.0), 20, "SGD"),
    "OneCycleLR-momentum-range": (
        lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=16, base_momentum=[0.7, 0.8],
                                  max_momentum=0.99), 16, "SGD"),
    "CyclicLR": (lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), 25, "SGD"),
    "CyclicLR-triangular2-adam": (
        lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                step_size_down=5, mode="triangular2"), 30, "Adam"),
    "CyclicLR-exp-range": (
        lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range",
                                gamma=0.9, cycle_momentum=False), 20, "SGD"),
    "SequentialLR": (
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                        m.CosineAnnealingLR(o, T_max=10)], milestones=[5]),
        20, "SGD"),
    "SequentialLR-three": (
        lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=2),
                                        m.ExponentialLR(o, gamma=0.8),
                                        m.StepLR(o, step_size=2, gamma=0.5)],
                                    milestones=[3, 8]),
        15, "SGD"),
    "ChainedScheduler": (
        lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=2),
                                         m.ExponentialLR(o, gamma=0.9)]), 10, "SGD"),
    "ChainedScheduler-cosine-multistep": (
        lambda m, o: m.ChainedScheduler([m.CosineAnnealingLR(o, T_max=6),
                                         m.MultiStepLR(o, milestones=[3, 7], gamma=0.5)],
                                        optimizer=o), 14, "SGD"),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    make, steps, kind = SCHEDULES[name]
    _assert_same_history(_history(ember, make, steps, kind), _history(torch, make, steps, kind))


PLATEAU = {
    "min-rel": dict(mode="min", factor=0.5, patience=2),
    "min-abs-cooldown": dict(mode="min", factor=0.5, patience=1, threshold=0.05,
                             threshold_mode="abs", cooldown=2),
    "max-rel-minlr": dict(mode="max", factor=0.1, patience=0, min_lr=[0.002, 0.0]),
    "max-abs-eps": dict(mode="max", factor=0.9, patience=1, threshold=0.01, threshold_mode="abs",
                        eps=0.008, min_lr=0.01),
}
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9, 0.49, 0.491, 0.4905,
           0.49, 0.49, 1.2, 1.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(name):
    def make(m, o):
        return m.ReduceLROnPlateau(o, **PLATEAU[name])

    ours = _history(ember, make, len(METRICS), metrics=METRICS)
    theirs = _history(torch, make, len(METRICS), metrics=METRICS)
    _assert_same_history(ours, theirs)


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = _optimizer(ember)
    scheduler = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(ember.tensor(1.0))
    scheduler.step(ember.tensor(2.0))
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.005])


def test_two_schedulers_on_one_optimizer_compose_like_torch():
    def run(lib):
        m = lib.optim.lr_scheduler
        opt = _optimizer(lib)
        first = m.StepLR(opt, step_size=3, gamma=0.5)
        second = m.LinearLR(opt, start_factor=0.2, total_iters=4)
        lrs = []
        for _ in range(12):
            opt.step()
            first.step()
            second.step()
            lrs.append((first.get_last_lr(), second.get_last_lr()))
        return lrs

    for (a1, a2), (b1, b2) in zip(run(ember), run(torch), strict=True):
        assert a1 == pytest.approx(b1, rel=1e-12)
        assert a2 == pytest.approx(b2, rel=1e-12)


def test_warm_restarts_with_fractional_epochs():
    epochs = [0.5, 1.25, 3.7, 7, 12.3, 2.2, 20.0, 31.5, 0.0, 45.75]
    for kwargs in (dict(T_0=5), dict(T_0=3, T_mult=2, eta_min=0.01)):
        seen = []
        for lib in (ember, torch):
            opt = _optimizer(lib)
            scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, **kwargs)
            lrs = []
            for epoch in epochs:
                opt.step()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    scheduler.step(epoch)
                lrs.append((scheduler.get_last_lr(), scheduler.T_cur, scheduler.T_i,
                            scheduler.last_epoch))
            seen.append(lrs)
        for a, b in zip(*seen, strict=True):
            assert a[0] == pytest.approx(b[0], rel=1e-12)
            assert a[1:] == pytest.approx(b[1:], rel=1e-12)


CLOSED_FORM = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=6),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=8, power=2.0),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.5 ** (e // 2)),
}


@pytest.mark.parametrize("name", list(CLOSED_FORM))
def test_step_with_an_epoch_uses_the_closed_form_and_warns(name):
    def run(lib):
        opt = _optimizer(lib)
        scheduler = CLOSED_FORM[name](lib.optim.lr_scheduler, opt)
        lrs = []
        for epoch in (3, 7, 2, 10, 4):
            opt.step()
            with pytest.warns(UserWarning, match="The epoch parameter"):
                scheduler.step(epoch)
            lrs.append(scheduler.get_last_lr())
        return lrs

    for a, b in zip(run(ember), run(torch), strict=True):
        assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "ExponentialLR", "LinearLR"])
def test_resume_with_last_epoch_matches_torch(name):
    def run(lib):
        m = lib.optim.lr_scheduler
        opt = _optimizer(lib)
        CLOSED_FORM[name](m, opt)  # sets initial_lr in the param groups
        scheduler = {
            "StepLR": lambda: m.StepLR(opt, step_size=3, gamma=0.5, last_epoch=4),
            "CosineAnnealingLR": lambda: m.CosineAnnealingLR(opt, T_max=7, last_epoch=4),
            "ExponentialLR": lambda: m.ExponentialLR(opt, gamma=0.9, last_epoch=4),
            "LinearLR": lambda: m.LinearLR(opt, start_factor=0.25, last_epoch=4),
        }[name]()
        lrs = [scheduler.get_last_lr()]
        for _ in range(6):
            opt.step()
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
        return lrs

    for a, b in zip(run(ember), run(torch), strict=True):
        assert a == pytest.approx(b, rel=1e-12)


def test_resume_without_initial_lr_raises_like_torch():
    for lib in (ember, torch):
        with pytest.raises(KeyError, match="initial_lr"):
            lib.optim.lr_scheduler.StepLR(_optimizer(lib), step_size=2, last_epoch=3)


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = _optimizer(ember)
    scheduler = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert scheduler.base_lrs == [0.1, 0.05]
    assert scheduler.last_epoch == 0
    assert ember.optim.lr_scheduler._LRScheduler is not ember.optim.lr_scheduler.LRScheduler
    assert issubclass(ember.optim.lr_scheduler._LRScheduler, ember.optim.lr_scheduler.LRScheduler)


# ---------------------------------------------------------------------- state_dict
ROUND_TRIP = ["StepLR", "MultiStepLR", "CosineAnnealingLR", "WarmRestarts-Tmult", "LinearLR",
              "LambdaLR", "MultiplicativeLR", "ConstantLR", "PolynomialLR", "OneCycleLR",
              "OneCycleLR-three-phase-linear-adam", "CyclicLR-triangular2-adam", "SequentialLR",
              "SequentialLR-three", "ChainedScheduler"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip_continues_like_torch(name):
    make, steps, kind = SCHEDULES[name]
    half = steps // 2
    m = ember.optim.lr_scheduler
    opt = _optimizer(ember, kind)
    scheduler = make(m, opt)
    for _ in range(half):
        opt.step()
        scheduler.step()
    saved_opt = copy.deepcopy(opt.state_dict())
    saved = copy.deepcopy(scheduler.state_dict())
    assert "optimizer" not in saved

    resumed_opt = _optimizer(ember, kind)
    resumed = make(m, resumed_opt)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved)
    history = [_record(resumed_opt, resumed)]
    for _ in range(steps - half):
        resumed_opt.step()
        resumed.step()
        history.append(_record(resumed_opt, resumed))
    theirs = _history(torch, make, steps, kind)[half:]
    _assert_same_history(history, theirs)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_has_torchs_keys(name):
    make, _, kind = SCHEDULES[name]
    ours = make(ember.optim.lr_scheduler, _optimizer(ember, kind)).state_dict()
    theirs = make(torch.optim.lr_scheduler, _optimizer(torch, kind)).state_dict()
    assert set(ours) == set(theirs)
    assert ours.get("last_epoch") == theirs.get("last_epoch")  # ChainedScheduler has none
    assert ours["_last_lr"] == pytest.approx(theirs["_last_lr"], rel=1e-12)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    m = ember.optim.lr_scheduler
    opt = _optimizer(ember)
    scheduler = m.ReduceLROnPlateau(opt, **PLATEAU["min-abs-cooldown"])
    for metric in METRICS[:8]:
        scheduler.step(metric)
    saved, saved_opt = copy.deepcopy(scheduler.state_dict()), copy.deepcopy(opt.state_dict())
    resumed_opt = _optimizer(ember)
    resumed = m.ReduceLROnPlateau(resumed_opt)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved)
    for metric in METRICS[8:]:
        scheduler.step(metric)
        resumed.step(metric)
        assert resumed.get_last_lr() == scheduler.get_last_lr()
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(torch)).state_dict()
    assert set(saved) == set(theirs)


def test_lambda_state_dict_keeps_callable_objects_only():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate**epoch

    for lib in (ember, torch):
        opt = _optimizer(lib)
        decay = Decay()
        scheduler = lib.optim.lr_scheduler.LambdaLR(opt, [decay, lambda e: 1.0])
        state = scheduler.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.5}, None]
        state["lr_lambdas"][0]["rate"] = 0.25
        scheduler.load_state_dict(state)
        assert decay.rate == 0.25


# ---------------------------------------------------------------------- errors and warnings
def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 (we compare the exception itself)
        return type(exc), str(exc)
    return None


BAD_SCHEDULERS = {
    "ConstantLR-factor": lambda m, o: m.ConstantLR(o, factor=1.5),
    "LinearLR-start": lambda m, o: m.LinearLR(o, start_factor=0.0),
    "LinearLR-end": lambda m, o: m.LinearLR(o, end_factor=1.5),
    "WarmRestarts-T0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "WarmRestarts-Tmult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    "OneCycleLR-no-steps": lambda m, o: m.OneCycleLR(o, max_lr=0.1),
    "OneCycleLR-total": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=-2),
    "OneCycleLR-pct": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    "OneCycleLR-anneal": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10,
                                                   anneal_strategy="exp"),
    "OneCycleLR-max-lr-list": lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=10),
    "Plateau-factor": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "Plateau-mode": lambda m, o: m.ReduceLROnPlateau(o, mode="middle"),
    "Plateau-threshold-mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct"),
    "Plateau-min-lrs": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "LambdaLR-count": lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),
    "MultiplicativeLR-type": lambda m, o: m.MultiplicativeLR(o, 0.9),
    "Sequential-milestones": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]),
    "Sequential-plateau": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2),
                                                          m.ReduceLROnPlateau(o)], [3]),
    "Sequential-empty": lambda m, o: m.SequentialLR(o, [], milestones=[]),
    "Chained-empty": lambda m, o: m.ChainedScheduler([]),
    "not-an-optimizer": lambda m, o: m.StepLR(object(), 2),
    "CyclicLR-mode": lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
}


@pytest.mark.parametrize("name", list(BAD_SCHEDULERS))
def test_invalid_arguments_raise_like_torch(name):
    ours = _error(lambda: BAD_SCHEDULERS[name](ember.optim.lr_scheduler, _optimizer(ember)))
    theirs = _error(lambda: BAD_SCHEDULERS[name](torch.optim.lr_scheduler, _optimizer(torch)))
    assert theirs is not None
    assert ours == theirs


def test_one_cycle_raises_past_total_steps_like_torch():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            scheduler.step()


def test_cycle_momentum_needs_momentum_or_betas():
    for lib in (ember, torch):
        opt = lib.optim.Adagrad([lib.zeros(2, requires_grad=True)])
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5)


def test_get_lr_outside_step_warns_like_torch():
    for lib in (ember, torch):
        scheduler = lib.optim.lr_scheduler.StepLR(_optimizer(lib), step_size=2)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            scheduler.get_lr()


def test_stepping_does_not_warn_in_the_right_order():
    opt = _optimizer(ember)
    scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            opt.step()
            scheduler.step()
