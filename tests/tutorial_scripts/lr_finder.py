"""A learning-rate range test (the fastai/torch-lr-finder recipe) and the schedules built on
its result: the model and optimizer states saved with copy.deepcopy(state_dict()) and restored
after, an exponential LR schedule written as a _LRScheduler-style subclass of LRScheduler
(get_lr from last_epoch and base_lrs), a smoothed loss with bias correction, stopping when the
loss diverges, the steepest-gradient suggestion through numpy.gradient, then one-cycle
training with OneCycleLR (three_phase, cycle_momentum on Adam's betas), ChainedScheduler,
CyclicLR in triangular2 and exp_range modes, and get_last_lr/param_groups read each step."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
        self.end_lr = end_lr
        self.num_iter = num_iter
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        r = self.last_epoch / (self.num_iter - 1)
        return [base_lr * (self.end_lr / base_lr) ** r for base_lr in self.base_lrs]


class LRFinder:
    def __init__(self, model, optimizer, criterion):
        self.model, self.optimizer, self.criterion = model, optimizer, criterion
        self.history = {"lr": [], "loss": []}
        self.state_cacher = {
            "model": copy.deepcopy(model.state_dict()),
            "optimizer": copy.deepcopy(optimizer.state_dict()),
        }

    def range_test(self, data, targets, start_lr=1e-5, end_lr=10, num_iter=20,
                   smooth_f=0.05, diverge_th=5):  # fmt: skip
        for group in self.optimizer.param_groups:
            group["lr"] = start_lr
        lr_schedule = ExponentialLR(self.optimizer, end_lr, num_iter)
        best_loss, avg_loss = None, 0.0
        for iteration in range(num_iter):
            i = (iteration * 8) % len(data)
            self.model.train()
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(data[i : i + 8]), targets[i : i + 8])
            loss.backward()
            self.optimizer.step()
            self.history["lr"].append(lr_schedule.get_last_lr()[0])
            lr_schedule.step()
            avg_loss = smooth_f * loss.item() + (1 - smooth_f) * avg_loss
            smoothed = avg_loss / (1 - (1 - smooth_f) ** (iteration + 1))
            if best_loss is None or smoothed < best_loss:
                best_loss = smoothed
            self.history["loss"].append(smoothed)
            if smoothed > diverge_th * best_loss:
                break
        return self.history

    def reset(self):
        self.model.load_state_dict(self.state_cacher["model"])
        self.optimizer.load_state_dict(self.state_cacher["optimizer"])


def main(sync, workdir):
    rng = np.random.RandomState(0)
    data = torch.from_numpy(rng.randn(64, 6).astype(np.float32))
    targets = torch.from_numpy((rng.randn(64, 6) @ rng.randn(6) > 0).astype(np.int64))
    model = sync(nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2)))
    initial = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    finder = LRFinder(model, optimizer, nn.CrossEntropyLoss())
    history = finder.range_test(data, targets, num_iter=24)
    finder.reset()
    losses = np.array(history["loss"])
    min_grad_idx = int(np.gradient(losses).argmin())
    suggested = history["lr"][min_grad_idx]
    out = {
        "lrs": history["lr"],
        "losses": history["loss"],
        "suggested": suggested,
        "restored": all(torch.equal(v, initial[k]) for k, v in model.state_dict().items()),
        "optimizer_lr_restored": optimizer.param_groups[0]["lr"],
    }

    # one-cycle training at the suggested rate
    optimizer = torch.optim.Adam(model.parameters(), lr=suggested)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=suggested * 10, epochs=2, steps_per_epoch=8, three_phase=True,
        anneal_strategy="linear", div_factor=10, final_div_factor=100,
    )  # fmt: skip
    trace = []
    for epoch in range(2):
        for i in range(0, 64, 8):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(data[i : i + 8]), targets[i : i + 8])
            loss.backward()
            optimizer.step()
            scheduler.step()
            group = optimizer.param_groups[0]
            trace.append([loss.item(), scheduler.get_last_lr()[0], group["betas"][0]])
    out["one_cycle"] = trace

    # CyclicLR needs momentum: SGD; chained with an exponential decay
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    cyclic = torch.optim.lr_scheduler.CyclicLR(
        sgd, base_lr=0.001, max_lr=0.05, step_size_up=3, mode="triangular2"
    )
    decay = torch.optim.lr_scheduler.ExponentialLR(sgd, gamma=0.95)
    chained = torch.optim.lr_scheduler.ChainedScheduler([cyclic, decay])
    chained_trace = []
    for step in range(14):
        sgd.step()
        chained.step()
        chained_trace.append([sgd.param_groups[0]["lr"], sgd.param_groups[0]["momentum"]])
    out["chained"] = chained_trace
    sgd2 = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    exp_range = torch.optim.lr_scheduler.CyclicLR(
        sgd2, base_lr=0.001, max_lr=0.05, step_size_up=2, step_size_down=4, mode="exp_range",
        gamma=0.9, cycle_momentum=False,
    )  # fmt: skip
    exp_trace = []
    for step in range(10):
        sgd2.step()
        exp_range.step()
        exp_trace.append(exp_range.get_last_lr()[0])
    out["exp_range"] = exp_trace
    out["scheduler_state_keys"] = sorted(k for k in scheduler.state_dict() if not k.startswith("_"))
    return out
