"""Transfer learning: freeze a backbone, replace the head, param groups, lr schedulers."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def run_epochs(model, criterion, optimizer, scheduler, batches, num_epochs, plateau=False):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc, history = 0.0, []
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss, running_corrects, seen = 0.0, 0, 0
            for inputs, labels in batches[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
                seen += inputs.size(0)
            if phase == "train" and not plateau:
                scheduler.step()
            epoch_loss = running_loss / seen
            epoch_acc = running_corrects.double() / seen
            if phase == "val" and plateau:
                scheduler.step(epoch_loss)
            history.append([phase, epoch_loss, epoch_acc.item(), str(epoch_acc.dtype)])
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return history, [g["lr"] for g in optimizer.param_groups]


def main(sync, workdir):
    rng = np.random.RandomState(0)

    def batch(n):
        x = torch.from_numpy(rng.rand(n, 3, 8, 8).astype(np.float32))
        y = torch.from_numpy((rng.rand(n) > 0.5).astype(np.int64))
        return x, y

    batches = {"train": [batch(6), batch(6)], "val": [batch(5)]}
    out = {}
    # fine-tune everything, new head, StepLR
    model_ft = Backbone()
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 2)
    model_ft = sync(model_ft)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.01, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=2, gamma=0.1)
    out["finetune"] = run_epochs(model_ft, criterion, optimizer_ft, exp_lr_scheduler, batches, 4)
    out["ft_weight"] = model_ft.fc.weight

    # fixed feature extractor: requires_grad = False everywhere but the head
    model_conv = Backbone()
    for param in model_conv.parameters():
        param.requires_grad = False
    model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
    model_conv = sync(model_conv)
    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
    plateau = lr_scheduler.ReduceLROnPlateau(optimizer_conv, mode="min", factor=0.5, patience=0)
    out["frozen"] = run_epochs(model_conv, criterion, optimizer_conv, plateau, batches, 4, True)
    out["frozen_grads"] = [p.grad is None for p in model_conv.features.parameters()]
    out["trainable"] = sum(p.numel() for p in model_conv.parameters() if p.requires_grad)
    out["frozen_bn_stats"] = model_conv.features[1].running_mean

    # discriminative learning rates through param groups, OneCycleLR per batch
    model = sync(Backbone())
    optimizer = optim.AdamW(
        [
            {"params": model.features.parameters(), "lr": 1e-4},
            {"params": model.fc.parameters(), "weight_decay": 0.0},
        ],
        lr=1e-3,
        weight_decay=0.05,
    )
    sched = lr_scheduler.OneCycleLR(optimizer, max_lr=[1e-3, 1e-2], total_steps=6)
    lrs = []
    for step in range(6):
        x, y = batches["train"][step % 2]
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    out["onecycle_lrs"] = lrs
    out["onecycle_momentum"] = [g["betas"][0] for g in optimizer.param_groups]
    out["onecycle_weight"] = model.fc.weight
    out["optimizer_groups"] = [
        {k: v for k, v in g.items() if k != "params"}
        for g in optimizer.state_dict()["param_groups"]
    ]

    # cosine warm restarts and a chained schedule
    opt2 = optim.SGD([nn.Parameter(torch.zeros(2))], lr=0.1)
    warm = lr_scheduler.LinearLR(opt2, start_factor=0.1, total_iters=3)
    cosine = lr_scheduler.CosineAnnealingWarmRestarts(opt2, T_0=3, T_mult=2, eta_min=0.001)
    seq = lr_scheduler.SequentialLR(opt2, schedulers=[warm, cosine], milestones=[3])
    seq_lrs = []
    for _ in range(10):
        opt2.step()
        seq.step()
        seq_lrs.append(opt2.param_groups[0]["lr"])
    out["sequential_lrs"] = seq_lrs
    lam = lr_scheduler.LambdaLR(opt2, lr_lambda=lambda epoch: 0.95**epoch)
    for _ in range(3):
        opt2.step()
        lam.step()
    out["lambda_lr"] = lam.get_last_lr()
    out["lambda_state_keys"] = sorted(lam.state_dict().keys())
    return out
