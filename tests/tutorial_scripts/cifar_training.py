"""A CIFAR-style training loop as copied from GitHub: hand-written augmentation (random crop via
F.pad + slicing, horizontal flip via torch.flip), mixup, label smoothing with soft targets,
warmup + cosine through LambdaLR/SequentialLR, CosineAnnealingWarmRestarts, ChainedScheduler,
gradient accumulation and clipping."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    SequentialLR,
)

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(3, 1, 1)


def random_crop(img, offsets, padding=2):
    # img: (C, H, W); offsets picked by the caller's generator
    _, h, w = img.shape
    padded = F.pad(img, (padding, padding, padding, padding), mode="constant", value=0.0)
    i, j = offsets
    return padded[:, i : i + h, j : j + w]


def augment(batch, rng):
    out = []
    for img in batch:
        img = random_crop(img, rng.randint(0, 5, size=2))
        if rng.rand() < 0.5:
            img = torch.flip(img, dims=[2])
        out.append(img)
    return (torch.stack(out) - MEAN) / STD


def mixup(x, y, lam, index, num_classes):
    mixed_x = lam * x + (1 - lam) * x[index, :]
    y_onehot = F.one_hot(y, num_classes).float()
    return mixed_x, lam * y_onehot + (1 - lam) * y_onehot[index]


class LabelSmoothingCrossEntropy(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, x, target):
        logprobs = F.log_softmax(x, dim=-1)
        nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1)).squeeze(1)
        smooth_loss = -logprobs.mean(dim=-1)
        return ((1.0 - self.smoothing) * nll_loss + self.smoothing * smooth_loss).mean()


class PreActBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if len(self.shortcut) > 0 else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, 1, 1, bias=False)
        self.layer1 = PreActBlock(6, 6)
        self.layer2 = PreActBlock(6, 8, stride=2)
        self.bn = nn.BatchNorm2d(8)
        self.linear = nn.Linear(8, num_classes)

    def forward(self, x):
        out = self.layer2(self.layer1(self.conv1(x)))
        out = F.relu(self.bn(out))
        out = F.avg_pool2d(out, out.size(3))
        return self.linear(out.view(out.size(0), -1))


def warmup_cosine(warmup, total):
    def fn(step):
        if step < warmup:
            return float(step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return fn


def scheduler_traces():
    traces = {}
    p = nn.Parameter(torch.zeros(1))

    def run(make, steps=9):
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = make(opt)
        lrs = []
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    traces["sequential"] = run(
        lambda o: SequentialLR(
            o,
            schedulers=[LinearLR(o, start_factor=0.1, total_iters=3), CosineAnnealingLR(o, 6)],
            milestones=[3],
        )
    )
    traces["warm_restarts"] = run(lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2))
    traces["chained"] = run(
        lambda o: ChainedScheduler([LinearLR(o, 0.5, total_iters=4), ExponentialLR(o, gamma=0.9)])
    )
    # fractional epochs, as in the docstring's "scheduler.step(epoch + i / iters)"
    opt = torch.optim.SGD([p], lr=0.1)
    sched = CosineAnnealingWarmRestarts(opt, T_0=2, eta_min=0.001)
    frac = []
    for epoch in range(2):
        for i in range(3):
            opt.step()
            sched.step(epoch + i / 3)
            frac.append(opt.param_groups[0]["lr"])
    traces["fractional"] = frac
    return traces


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(PreActResNet())
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim <= 1 else decay).append(param)
    optimizer = torch.optim.SGD(
        [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.1,
        momentum=0.9,
        nesterov=True,
    )
    total_steps, accum = 4, 2
    scheduler = LambdaLR(optimizer, lr_lambda=warmup_cosine(2, total_steps))
    smooth = LabelSmoothingCrossEntropy(0.1)
    builtin = nn.CrossEntropyLoss(label_smoothing=0.1)
    data = torch.from_numpy(rng.rand(16, 3, 8, 8).astype(np.float32))
    labels = torch.from_numpy(rng.randint(0, 5, size=16))
    out = {"losses": [], "lrs": [], "norms": [], "same_smoothing": []}
    model.train()
    for step in range(total_steps):
        optimizer.zero_grad(set_to_none=True)
        for micro in range(accum):
            idx = rng.choice(16, 4, replace=False)
            x = augment(data[torch.from_numpy(idx)], rng)
            y = labels[torch.from_numpy(idx)]
            if micro == 0:
                lam = float(rng.beta(1.0, 1.0))
                index = torch.from_numpy(rng.permutation(4))
                x, soft = mixup(x, y, lam, index, 5)
                loss = F.cross_entropy(model(x), soft) / accum
            else:
                logits = model(x)
                loss = smooth(logits, y) / accum
                out["same_smoothing"].append(builtin(logits, y) / accum - loss)
            loss.backward()
            out["losses"].append(loss.item())
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
        out["norms"].append(norm)
        optimizer.step()
        scheduler.step()
        out["lrs"].append([g["lr"] for g in optimizer.param_groups])
    out["state"] = model.state_dict()
    out["momentum"] = [optimizer.state[p]["momentum_buffer"] for p in no_decay]
    out["schedulers"] = scheduler_traces()
    out["crop"] = random_crop(torch.arange(16.0).view(1, 4, 4), (1, 3))
    out["reflect"] = F.pad(torch.arange(16.0).view(1, 1, 4, 4), (2, 2, 2, 2), mode="reflect")
    out["flip"] = torch.flip(torch.arange(8).view(2, 2, 2), dims=(0, 2))
    out["fliplr"] = [torch.fliplr(torch.arange(6).view(2, 3)), torch.flipud(torch.arange(4))]
    return out
