"""Every optimizer on the same small regression, with the options people pass, and the
schedulers not used elsewhere; add_param_group, maximize, state_dict round trip."""

import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


def main(sync, workdir):
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.randn(16, 5).astype(np.float32))
    Y = torch.from_numpy(rng.randn(16, 2).astype(np.float32))
    configs = [
        ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=False, foreach=False)),
        ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=1e-2)),
        ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, foreach=True)),
        ("AdamW", dict(lr=0.01, weight_decay=0.1)),
        ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
        ("Adadelta", dict(lr=1.0, rho=0.8)),
        ("Adamax", dict(lr=0.02)),
        ("NAdam", dict(lr=0.01, momentum_decay=4e-3)),
        ("NAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
        ("RAdam", dict(lr=0.01)),
        ("RAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
        ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5)),
        ("Rprop", dict(lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-5, 1))),
        ("ASGD", dict(lr=0.01, t0=2)),
    ]
    out = {}
    for name, kwargs in configs:
        model = sync(nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)))
        opt = getattr(torch.optim, name)(model.parameters(), **kwargs)
        losses = []
        for _ in range(6):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X), Y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        key = f"{name}_{sorted(kwargs)}"
        out[key] = {"losses": losses, "weight": model[2].weight}
        state = opt.state_dict()
        out[key]["state_keys"] = sorted(state["state"][0].keys())
        fresh = getattr(torch.optim, name)(model.parameters(), **kwargs)
        fresh.load_state_dict(state)
        out[key]["defaults"] = {
            k: v for k, v in fresh.defaults.items() if isinstance(v, (int, float, bool, str))
        }

    model = sync(nn.Linear(5, 2))
    extra = nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, maximize=True)
    opt.add_param_group({"params": [extra], "lr": 0.5})
    (model(X).sum() + extra.sum()).backward()
    opt.step()
    out["maximize"] = [model.bias, extra, len(opt.param_groups)]

    def lrs_of(make, steps=8, metric=None):
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        sched = make(opt)
        lrs = []
        for i in range(steps):
            opt.step()
            if metric is None:
                sched.step()
            else:
                sched.step(metric[i])
            lrs.append([g["lr"] for g in opt.param_groups])
        return lrs

    out["schedulers"] = {
        "multistep": lrs_of(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.5)),
        "cosine": lrs_of(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01)),
        "cyclic": lrs_of(
            lambda o: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3)
        ),
        "cyclic_tri2": lrs_of(
            lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="triangular2")
        ),
        "poly": lrs_of(lambda o: lr_scheduler.PolynomialLR(o, total_iters=5, power=2.0)),
        "constant": lrs_of(lambda o: lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3)),
        "multiplicative": lrs_of(
            lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=lambda e: 0.9)
        ),
        "chained": lrs_of(
            lambda o: lr_scheduler.ChainedScheduler(
                [lr_scheduler.ConstantLR(o, 0.5, total_iters=2), lr_scheduler.ExponentialLR(o, 0.9)]
            )
        ),
        "onecycle_linear": lrs_of(
            lambda o: lr_scheduler.OneCycleLR(
                o, max_lr=0.5, total_steps=8, anneal_strategy="linear", three_phase=True
            )
        ),
        "plateau_max": lrs_of(
            lambda o: lr_scheduler.ReduceLROnPlateau(
                o, mode="max", factor=0.5, patience=1, threshold=0.01, cooldown=1, min_lr=0.02
            ),
            metric=[1, 2, 2, 2, 2, 2, 3, 3],
        ),
    }
    return out
