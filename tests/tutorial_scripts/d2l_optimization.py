"""Dive into Deep Learning, chapter 12: optimizers written by hand on a small regression
(init_*_states returning zero tensors, updates under torch.no_grad() with p[:] -= ..., v[:] =
momentum * v + p.grad, s[:] += torch.square(p.grad), Adadelta's delta, Adam's bias correction
with hyperparams['t']) each compared with its torch.optim twin started from the same weights;
gd/sgd on a 2-D objective f(x1, x2) = 0.1 * x1 ** 2 + 2 * x2 ** 2; a custom SquareRootScheduler
and a d2l CosineScheduler with warmup assigning param_group['lr'], against lr_scheduler.
MultiStepLR, CosineAnnealingLR and LambdaLR."""

import math

import numpy as np
import torch
from torch import nn
from torch.optim import lr_scheduler


def init_momentum_states(feature_dim):
    v_w = torch.zeros((feature_dim, 1))
    v_b = torch.zeros(1)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        with torch.no_grad():
            v[:] = hyperparams["momentum"] * v + p.grad
            p[:] -= hyperparams["lr"] * v
        p.grad.data.zero_()


def init_adagrad_states(feature_dim):
    s_w = torch.zeros((feature_dim, 1))
    s_b = torch.zeros(1)
    return (s_w, s_b)


def adagrad(params, states, hyperparams):
    eps = 1e-10
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] += torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / (torch.sqrt(s) + eps)
        p.grad.data.zero_()


def init_rmsprop_states(feature_dim):
    s_w = torch.zeros((feature_dim, 1))
    s_b = torch.zeros(1)
    return (s_w, s_b)


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams["gamma"], 1e-8
    for p, s in zip(params, states):
        with torch.no_grad():
            s[:] = gamma * s + (1 - gamma) * torch.square(p.grad)
            p[:] -= hyperparams["lr"] * p.grad / torch.sqrt(s + eps)
        p.grad.data.zero_()


def init_adadelta_states(feature_dim):
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    delta_w, delta_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((s_w, delta_w), (s_b, delta_b))


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-6
    for p, (s, delta) in zip(params, states):
        with torch.no_grad():
            s[:] = rho * s + (1 - rho) * torch.square(p.grad)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * p.grad
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()


def init_adam_states(feature_dim):
    v_w, v_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    s_w, s_b = torch.zeros((feature_dim, 1)), torch.zeros(1)
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        with torch.no_grad():
            v[:] = beta1 * v + (1 - beta1) * p.grad
            s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
            v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
            s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
            p[:] -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams["t"] += 1


def make_data(rng, n=40, d=5):
    X = rng.randn(n, d).astype(np.float32)
    w = rng.randn(d, 1).astype(np.float32)
    y = X @ w + 0.1 * rng.randn(n, 1).astype(np.float32)
    return torch.tensor(X), torch.tensor(y)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def train_scratch(trainer_fn, states, hyperparams, X, y, w0, steps=8, batch_size=10):
    w = w0.clone().requires_grad_(True)
    b = torch.zeros((1), requires_grad=True)
    losses = []
    for step in range(steps):
        i = (step * batch_size) % len(X)
        l = squared_loss(linreg(X[i : i + batch_size], w, b), y[i : i + batch_size]).mean()
        l.backward()
        trainer_fn([w, b], states, hyperparams)
        losses.append(l.item())
    return losses, w.detach(), b.detach()


def train_concise(trainer_fn, hyperparams, X, y, w0, steps=8, batch_size=10):
    net = nn.Sequential(nn.Linear(X.shape[1], 1))
    with torch.no_grad():
        net[0].weight.copy_(w0.T)
        net[0].bias.zero_()
    optimizer = trainer_fn(net.parameters(), **hyperparams)
    loss = nn.MSELoss(reduction="none")
    losses = []
    for step in range(steps):
        i = (step * batch_size) % len(X)
        optimizer.zero_grad()
        out = net(X[i : i + batch_size])
        l = loss(out, y[i : i + batch_size]) / 2
        l.mean().backward()
        optimizer.step()
        losses.append(l.mean().item())
    return losses, net[0].weight.detach().T, net[0].bias.detach()


def f_2d(x1, x2):
    return 0.1 * x1 ** 2 + 2 * x2 ** 2


def train_2d(trainer, steps=10):
    x1, x2, s1, s2 = -5.0, -2.0, 0.0, 0.0
    results = [(x1, x2)]
    for i in range(steps):
        x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    return results


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(
            self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


def schedules(sync, X, y):
    out = {}
    net = sync(nn.Sequential(nn.Linear(X.shape[1], 4), nn.ReLU(), nn.Linear(4, 1)))
    trainer = torch.optim.SGD(net.parameters(), lr=0.3)
    scheduler = SquareRootScheduler(lr=0.1)
    lrs = []
    for epoch in range(5):
        trainer.zero_grad()
        nn.functional.mse_loss(net(X), y).backward()
        trainer.step()
        for param_group in trainer.param_groups:
            param_group["lr"] = scheduler(epoch)
        lrs.append(trainer.param_groups[0]["lr"])
    out["sqrt"] = lrs
    out["sqrt_weight"] = net[2].weight

    def lrs_of(make_scheduler, epochs=12):
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        sched = make_scheduler(opt)
        values = []
        for _ in range(epochs):
            opt.step()
            sched.step()
            values.append(sched.get_last_lr()[0])
        return values

    out["multistep"] = lrs_of(lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 8],
                                                                 gamma=0.5))
    out["cosine_annealing"] = lrs_of(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10,
                                                                              eta_min=0.01))
    cosine = CosineScheduler(max_update=10, base_lr=0.3, final_lr=0.01, warmup_steps=3)
    out["d2l_cosine"] = [cosine(t) for t in range(12)]
    out["lambda"] = lrs_of(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 0.9 ** e))
    return out


def main(sync, workdir):
    rng = np.random.RandomState(0)
    X, y = make_data(rng)
    w0 = torch.tensor(rng.normal(0, 0.01, (5, 1)).astype(np.float32))
    out = {}
    pairs = [
        ("momentum", sgd_momentum, init_momentum_states, {"lr": 0.05, "momentum": 0.9},
         torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
        ("adagrad", adagrad, init_adagrad_states, {"lr": 0.2},
         torch.optim.Adagrad, {"lr": 0.2, "eps": 1e-10}),
        ("rmsprop", rmsprop, init_rmsprop_states, {"lr": 0.01, "gamma": 0.9},
         torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
        ("adadelta", adadelta, init_adadelta_states, {"rho": 0.9},
         torch.optim.Adadelta, {"rho": 0.9, "lr": 1.0}),
        ("adam", adam, init_adam_states, {"lr": 0.01, "t": 1},
         torch.optim.Adam, {"lr": 0.01, "eps": 1e-6}),
    ]
    for name, fn, init_states, hyper, optim_cls, optim_hyper in pairs:
        scratch = train_scratch(fn, init_states(5), dict(hyper), X, y, w0)
        concise = train_concise(optim_cls, optim_hyper, X, y, w0)
        out[name] = {"scratch": scratch, "concise": concise}

    def gd_2d(x1, x2, s1, s2, eta=0.4):
        return (x1 - eta * 0.2 * x1, x2 - eta * 4 * x2, 0, 0)

    out["gd_2d"] = train_2d(gd_2d)
    x = torch.tensor([-5.0, -2.0], requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.4)
    path = []
    for _ in range(10):
        opt.zero_grad()
        f_2d(x[0], x[1]).backward()
        opt.step()
        path.append(x.detach().clone())
    out["gd_2d_torch"] = torch.stack(path)
    out["schedules"] = schedules(sync, X, y)
    return out
