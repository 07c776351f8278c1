"""Resumable training as in the big training scripts: a checkpoint with model, optimizer,
a SequentialLR scheduler, GradScaler, epoch, best metric and
RNG states; save_checkpoint/is_best copying, "module." prefixes from DataParallel stripped,
map_location forms, resuming gives the uninterrupted run's numbers; an EMA copy's state; a
torch.compile'd model's '_orig_mod.' checkpoint keys stripped as nanoGPT does."""

import copy
import shutil
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LinearLR, SequentialLR, StepLR

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Linear(16, 3)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def save_checkpoint(state, is_best, filename):
    torch.save(state, filename)
    if is_best:
        shutil.copyfile(filename, filename.parent / "model_best.pth.tar")


def make_run(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    warmup = LinearLR(optimizer, start_factor=0.25, total_iters=2)
    main_sched = StepLR(optimizer, step_size=2, gamma=0.5)
    scheduler = SequentialLR(optimizer, [warmup, main_sched], milestones=[2])
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=2)
    return optimizer, scheduler, scaler


class ModelEma:
    def __init__(self, model, decay=0.9):
        self.ema = copy.deepcopy(model)
        self.ema.eval()
        self.decay = decay
        for p in self.ema.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        msd = model.state_dict()
        for k, ema_v in self.ema.state_dict().items():
            model_v = msd[k].detach()
            if ema_v.dtype.is_floating_point:
                ema_v.mul_(self.decay).add_(model_v, alpha=1.0 - self.decay)
            else:
                ema_v.copy_(model_v)


def train_epoch(model, optimizer, scaler, batches, ema):
    model.train()
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        scaler.step(optimizer)
        scaler.update()
        ema.update(model)
        losses.append(loss.item())
    return losses


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    epochs = [
        [(torch.from_numpy(rng.randn(4, 2, 4, 4).astype(np.float32)),
          torch.from_numpy(rng.randint(0, 3, 4))) for _ in range(2)]
        for _ in range(4)
    ]  # fmt: skip
    val_x = torch.from_numpy(rng.randn(6, 2, 4, 4).astype(np.float32))
    val_y = torch.from_numpy(rng.randint(0, 3, 6))
    model = sync(Net())
    init_state = copy.deepcopy(model.state_dict())
    optimizer, scheduler, scaler = make_run(model)
    ema = ModelEma(model)
    best_acc, history, lrs = 0.0, [], []
    for epoch in range(4):
        history += train_epoch(model, optimizer, scaler, epochs[epoch], ema)
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        acc = evaluate(model, val_x, val_y)
        is_best = acc > best_acc
        best_acc = max(acc, best_acc)
        if epoch == 1:
            save_checkpoint(
                {
                    "epoch": epoch + 1,
                    "state_dict": model.state_dict(),
                    "best_acc1": best_acc,
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict(),
                    "ema": ema.ema.state_dict(),
                    "rng": torch.get_rng_state(),
                },
                is_best,
                workdir / "checkpoint.pth.tar",
            )
    out = {"history": history, "lrs": lrs, "best": best_acc, "scale": scaler.get_scale()}
    out["final"] = model.state_dict()
    out["ema"] = ema.ema.state_dict()

    # resume in a fresh process-like setting
    model2 = Net()
    model2.load_state_dict(init_state)
    optimizer2, scheduler2, scaler2 = make_run(model2)
    ema2 = ModelEma(model2)
    checkpoint = torch.load(workdir / "checkpoint.pth.tar", map_location="cpu", weights_only=False)
    start_epoch = checkpoint["epoch"]
    model2.load_state_dict(checkpoint["state_dict"])
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    scaler2.load_state_dict(checkpoint["scaler"])
    ema2.ema.load_state_dict(checkpoint["ema"])
    torch.set_rng_state(checkpoint["rng"])
    resumed, lrs2 = [], []
    for epoch in range(start_epoch, 4):
        resumed += train_epoch(model2, optimizer2, scaler2, epochs[epoch], ema2)
        scheduler2.step()
        lrs2.append(scheduler2.get_last_lr()[0])
    out["resumed"] = resumed
    out["resumed_matches"] = np.allclose(resumed, history[2 * start_epoch :], rtol=1e-5)
    out["lrs2"] = lrs2
    out["resumed_state"] = model2.state_dict()
    out["best_file"] = (workdir / "model_best.pth.tar").exists()
    out["scaler_state"] = {k: v for k, v in scaler2.state_dict().items()}
    out["sched_state_keys"] = sorted(checkpoint["scheduler"].keys())

    # a checkpoint written from nn.DataParallel: strip the "module." prefix
    wrapped = OrderedDict(("module." + k, v) for k, v in model.state_dict().items())
    torch.save({"state_dict": wrapped}, workdir / "dp.pth")
    ckpt = torch.load(workdir / "dp.pth", map_location=lambda storage, loc: storage)
    state = OrderedDict((k[7:] if k.startswith("module.") else k, v)
                        for k, v in ckpt["state_dict"].items())  # fmt: skip
    fresh = Net()
    result = fresh.load_state_dict(state)
    out["dp"] = [str(result), evaluate(fresh, val_x, val_y)]
    ckpt = torch.load(workdir / "dp.pth", map_location=torch.device("cpu"), weights_only=True)
    state = {k.replace("module.", "", 1): v for k, v in ckpt["state_dict"].items()}
    out["dp_keys"] = list(state)[:3]
    # consume_prefix_in_state_dict_if_present does the same in place
    wrapped = OrderedDict(("module." + k, v) for k, v in model.state_dict().items())
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(wrapped, "module.")
    out["consumed"] = list(wrapped)[:3]
    # nanoGPT: a checkpoint of a torch.compile'd model, '_orig_mod.' stripped when loading
    compiled = torch.compile(model)
    out["compiled_keys"] = list(compiled.state_dict())[:2]
    raw_model = getattr(compiled, "_orig_mod", compiled)
    out["raw_is_model"] = raw_model is model
    torch.save({"model": compiled.state_dict(), "iter_num": 4}, workdir / "ckpt.pt")
    state_dict = torch.load(workdir / "ckpt.pt", map_location="cpu")["model"]
    unwanted_prefix = "_orig_mod."
    for k, v in list(state_dict.items()):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix) :]] = state_dict.pop(k)
    fresh = Net()
    fresh.load_state_dict(state_dict)
    compiled.eval()
    out["compiled_eval"] = [model.training, compiled(val_x), fresh.eval()(val_x)]
    # the RNG state round trip replays the same draws
    state = torch.get_rng_state()
    a = torch.rand(3)
    torch.set_rng_state(state)
    out["rng_replay"] = torch.equal(a, torch.rand(3))
    return out
