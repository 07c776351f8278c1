"""The training-loop tricks of the Kaggle and timm-style scripts: class weights from inverse
frequencies (bincount) combined with label_smoothing and ignore_index in CrossEntropyLoss,
gradient accumulation with the loss divided by the number of micro-batches and a step every
k batches, clip_grad_norm_ with error_if_nonfinite=True (the RuntimeError caught and the step
skipped on an inf batch), get_total_norm + clip_grads_with_norm_, an EMA of the weights and
BatchNorm buffers through AveragedModel(multi_avg_fn=get_ema_multi_avg_fn(0.9),
use_buffers=True), SWA with SWALR and update_bn over a DataLoader, ReduceLROnPlateau in 'max'
mode on a validation metric with threshold_mode='abs', cooldown and min_lr, and early stopping
on patience."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


def make_model():
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.randn(48, 6).astype(np.float32))
    y = torch.from_numpy(rng.choice(3, size=48, p=[0.6, 0.3, 0.1]))
    y[::11] = -100  # unlabelled rows
    Xv = torch.from_numpy(rng.randn(16, 6).astype(np.float32))
    yv = torch.from_numpy(rng.randint(0, 3, size=16))
    counts = torch.bincount(y[y >= 0], minlength=3).float()
    weights = counts.sum() / (len(counts) * counts)
    out = {"class_weights": weights}
    criterion = nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1, ignore_index=-100)

    model = sync(make_model())
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", factor=0.5, patience=0, threshold=0.01, threshold_mode="abs",
        cooldown=1, min_lr=0.02,
    )  # fmt: skip
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=False)
    accum, history, lrs, skipped, norms = 3, [], [], 0, []
    best, bad_epochs = -1.0, 0
    for epoch in range(5):
        model.train()
        opt.zero_grad()
        for i, (xb, yb) in enumerate(loader):
            loss = criterion(model(xb), yb) / accum
            loss.backward()
            if epoch == 1 and i == 2:
                model[0].weight.grad[0, 0] = float("inf")  # an overflowed gradient
            if (i + 1) % accum == 0:
                try:
                    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0,
                                                    error_if_nonfinite=True)  # fmt: skip
                    norms.append(norm)
                    opt.step()
                    ema.update_parameters(model)
                except RuntimeError:
                    skipped += 1
                opt.zero_grad()
        model.eval()
        ema.eval()
        with torch.no_grad():
            acc = (model(Xv).argmax(1) == yv).float().mean().item()
            val_loss = F.cross_entropy(ema(Xv), yv).item()
        plateau.step(acc)
        history.append([acc, val_loss])
        lrs.append(plateau.get_last_lr()[0])
        if acc > best + 1e-4:
            best, bad_epochs = acc, 0
        else:
            bad_epochs += 1
            if bad_epochs >= 3:
                break
    out.update(history=history, lrs=lrs, skipped=skipped, norms=norms, epochs=epoch + 1)
    kept = ("best", "num_bad_epochs", "cooldown_counter", "_last_lr")
    out["plateau_state"] = {k: v for k, v in plateau.state_dict().items() if k in kept}
    out["ema_n"] = ema.n_averaged
    out["ema_state"] = ema.module.state_dict()
    out["ema_keys"] = list(ema.state_dict().keys())

    for p in model.parameters():
        p.grad = torch.ones_like(p)
    total = nn.utils.get_total_norm([p.grad for p in model.parameters()], norm_type=2.0)
    nn.utils.clip_grads_with_norm_(model.parameters(), 2.0, total)
    out["manual_clip"] = [total, model[0].weight.grad[0]]

    swa_model = AveragedModel(model)
    swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=2, anneal_strategy="cos")
    swa_lrs = []
    for _ in range(3):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            criterion(model(xb), yb).backward()
            opt.step()
        swa_model.update_parameters(model)
        swa_sched.step()
        swa_lrs.append(opt.param_groups[0]["lr"])
    update_bn(loader, swa_model)
    bn = swa_model.module[1]
    out["swa"] = [swa_lrs, swa_model.n_averaged, bn.running_mean, bn.running_var,
                  bn.num_batches_tracked]  # fmt: skip
    swa_model.eval()
    with torch.no_grad():
        out["swa_pred"] = swa_model(Xv)
    return out
