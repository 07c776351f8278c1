"""Optimizers and schedulers copied from GitHub as subclasses: SAM wrapping a base optimizer
(two steps per batch, state kept per parameter), Lookahead, a hand-written AdamW and LAMB
with state initialised lazily (zeros_like(memory_format=preserve_format), addcdiv_,
addcmul_, torch._foreach_*), GradualWarmupScheduler subclassing _LRScheduler with an
after_scheduler, a get_lr()-only LRScheduler subclass, state_dict round trips."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau, StepLR, _LRScheduler
from torch.optim.optimizer import Optimizer

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
        defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
        super(SAM, self).__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)  # climb to the local maximum "w + e(w)"
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]  # get back to "w" from "w + e(w)"
        self.base_optimizer.step()  # do the actual "sharpness-aware" update
        if zero_grad:
            self.zero_grad()

    def _grad_norm(self):
        shared_device = self.param_groups[0]["params"][0].device
        norm = torch.norm(
            torch.stack(
                [
                    ((torch.abs(p) if group["adaptive"] else 1.0) * p.grad)
                    .norm(p=2)
                    .to(shared_device)
                    for group in self.param_groups
                    for p in group["params"]
                    if p.grad is not None
                ]
            ),
            p=2,
        )
        return norm

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups


class Lookahead:
    """A wrapper, not an Optimizer subclass: torch 2's Optimizer needs its own __init__."""

    def __init__(self, base_optimizer, alpha=0.5, k=2):
        defaults = dict(lookahead_alpha=alpha, lookahead_k=k, lookahead_step=0)
        self._base_optimizer = base_optimizer
        self.param_groups = base_optimizer.param_groups
        self.defaults = base_optimizer.defaults
        self.defaults.update(defaults)
        self.state = self._base_optimizer.state
        for group in self.param_groups:
            for name, default in defaults.items():
                group.setdefault(name, default)

    @torch.no_grad()
    def update_slow(self, group):
        for fast_p in group["params"]:
            if fast_p.grad is None:
                continue
            param_state = self._base_optimizer.state[fast_p]
            if "lookahead_slow_buff" not in param_state:
                param_state["lookahead_slow_buff"] = torch.empty_like(fast_p)
                param_state["lookahead_slow_buff"].copy_(fast_p)
            slow = param_state["lookahead_slow_buff"]
            slow.add_(fast_p - slow, alpha=group["lookahead_alpha"])
            fast_p.copy_(slow)

    def step(self, closure=None):
        loss = self._base_optimizer.step(closure)
        for group in self.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self.update_slow(group)
        return loss

    def zero_grad(self, set_to_none=True):
        self._base_optimizer.zero_grad(set_to_none)

    def state_dict(self):
        return self._base_optimizer.state_dict()


class MyAdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        if not 0.0 <= lr:
            raise ValueError("Invalid learning rate: {}".format(lr))
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.mul_(1 - group["lr"] * group["weight_decay"])
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                state["step"] += 1
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                step_size = group["lr"] / bias_correction1
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class Lamb(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            for p in params:
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
            exp_avgs = [self.state[p]["exp_avg"] for p in params]
            exp_avg_sqs = [self.state[p]["exp_avg_sq"] for p in params]
            beta1, beta2 = group["betas"]
            torch._foreach_mul_(exp_avgs, beta1)
            torch._foreach_add_(exp_avgs, grads, alpha=1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
            for p, m, v in zip(params, exp_avgs, exp_avg_sqs):
                state = self.state[p]
                state["step"] += 1
                step = state["step"].item()
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                update = m_hat / (v_hat.sqrt() + group["eps"]) + group["weight_decay"] * p
                w_norm, u_norm = p.norm(2.0), update.norm(2.0)
                trust = torch.where(
                    (w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm)
                )
                p.add_(update * trust, alpha=-group["lr"])
        return None


class GradualWarmupScheduler(_LRScheduler):
    def __init__(self, optimizer, multiplier, total_epoch, after_scheduler=None):
        self.multiplier = multiplier
        self.total_epoch = total_epoch
        self.after_scheduler = after_scheduler
        self.finished = False
        super(GradualWarmupScheduler, self).__init__(optimizer)

    def get_lr(self):
        if self.last_epoch > self.total_epoch:
            if self.after_scheduler:
                if not self.finished:
                    self.after_scheduler.base_lrs = [lr * self.multiplier for lr in self.base_lrs]
                    self.finished = True
                return self.after_scheduler.get_last_lr()
            return [base_lr * self.multiplier for base_lr in self.base_lrs]
        return [
            base_lr * ((self.multiplier - 1.0) * self.last_epoch / self.total_epoch + 1.0)
            for base_lr in self.base_lrs
        ]

    def step(self, epoch=None, metrics=None):
        if self.finished and self.after_scheduler:
            if epoch is None:
                self.after_scheduler.step(None)
            else:
                self.after_scheduler.step(epoch - self.total_epoch)
            self._last_lr = self.after_scheduler.get_last_lr()
        else:
            return super(GradualWarmupScheduler, self).step(epoch)


class InverseSqrt(LRScheduler):
    def __init__(self, optimizer, warmup=2, last_epoch=-1):
        self.warmup = warmup
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step = max(1, self.last_epoch + 1)
        scale = min(step**-0.5, step * self.warmup**-1.5)
        return [base_lr * scale for base_lr in self.base_lrs]


def make_model(sync):
    return sync(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.randn(16, 4).astype(np.float32))
    y = torch.from_numpy(rng.randint(0, 3, size=16))
    out = {}

    model = make_model(sync)
    optimizer = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9)
    losses = []
    for i in range(3):
        batch = slice(4 * i, 4 * i + 8)
        loss = F.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        optimizer.first_step(zero_grad=True)
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.second_step(zero_grad=True)
        losses.append(loss.item())
    out["sam"] = [losses, model.state_dict(), sorted(optimizer.defaults)]
    sd = optimizer.state_dict()
    out["sam_state_keys"] = sorted(sd["state"][0].keys())
    optimizer.load_state_dict(sd)
    out["sam_groups_shared"] = optimizer.base_optimizer.param_groups is optimizer.param_groups

    model = make_model(sync)
    optimizer = Lookahead(torch.optim.Adam(model.parameters(), lr=0.01), alpha=0.5, k=2)
    for i in range(4):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    out["lookahead"] = model.state_dict()
    out["lookahead_groups"] = [g["lookahead_step"] for g in optimizer.param_groups]

    for name, make in [("myadamw", MyAdamW), ("lamb", Lamb)]:
        model = make_model(sync)
        optimizer = make(model.parameters(), lr=0.01, weight_decay=0.1)
        reference = None
        if name == "myadamw":  # the hand-written AdamW follows torch's
            ref_model = make_model(sync)
            reference = torch.optim.AdamW(ref_model.parameters(), lr=0.01, weight_decay=0.1)
        for i in range(3):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            if reference is not None:
                reference.zero_grad()
                F.cross_entropy(ref_model(x), y).backward()
                reference.step()
        out[name] = model.state_dict()
        if reference is not None:
            out["myadamw_matches"] = all(
                torch.allclose(a, b, atol=1e-6)
                for a, b in zip(model.parameters(), ref_model.parameters())
            )
        out[name + "_state"] = optimizer.state_dict()["state"][1]

    # schedulers subclassing _LRScheduler / LRScheduler
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.01)
    after = StepLR(opt, step_size=2, gamma=0.5)
    warm = GradualWarmupScheduler(opt, multiplier=4, total_epoch=3, after_scheduler=after)
    lrs = []
    for epoch in range(1, 9):
        opt.step()
        warm.step()
        lrs.append(opt.param_groups[0]["lr"])
    out["gradual_warmup"] = lrs
    opt = torch.optim.Adam([p], lr=0.1)
    sched = InverseSqrt(opt, warmup=3)
    inv = []
    for _ in range(6):
        opt.step()
        sched.step()
        inv.append(sched.get_last_lr()[0])
    out["inverse_sqrt"] = inv
    sd = sched.state_dict()
    out["sched_keys"] = sorted(k for k in sd if not k.startswith("_"))
    fresh = InverseSqrt(torch.optim.Adam([p], lr=0.1), warmup=3)
    fresh.load_state_dict(sd)
    out["loaded"] = [fresh.last_epoch, fresh.get_last_lr()]
    plateau = ReduceLROnPlateau(torch.optim.SGD([p], lr=0.1), "max", factor=0.5, patience=0)
    for metric in (0.5, 0.6, 0.6, 0.55, 0.7):
        plateau.step(metric)
    out["plateau"] = [plateau.get_last_lr(), plateau.num_bad_epochs, plateau.best]
    return out
