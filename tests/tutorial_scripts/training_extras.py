"""Extras around training: CPU autocast with bfloat16, activation checkpointing, stochastic
weight averaging and EMA (swa_utils), SummaryWriter logging, and layers seen in model zoos."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(6, 12), nn.GELU(), nn.Linear(12, 6))
        self.norm = nn.LayerNorm(6)

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Net(nn.Module):
    def __init__(self, use_checkpoint):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(2)])
        self.bn = nn.BatchNorm1d(6)
        self.head = nn.Linear(6, 3)
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.use_checkpoint else block(x)
        return self.head(self.bn(x))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    X = torch.from_numpy(rng.randn(8, 6).astype(np.float32))
    Y = torch.from_numpy(rng.randint(0, 3, size=8))
    out = {}
    for use_checkpoint in (False, True):
        model = sync(Net(use_checkpoint))
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        out[f"checkpoint_{use_checkpoint}"] = [loss, model.blocks[0].ff[0].weight.grad]
    seq = sync(nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6), nn.Tanh()))
    x = X.clone().requires_grad_()
    checkpoint_sequential(seq, 2, x, use_reentrant=False).sum().backward()
    out["checkpoint_sequential"] = x.grad

    model = sync(Net(False))
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = model(X)
        loss = F.cross_entropy(logits, Y)
    out["autocast_dtypes"] = [str(logits.dtype), str(loss.dtype)]
    out["autocast_loss"] = loss.float().item()
    loss.backward()
    out["autocast_grad_dtype"] = str(model.head.weight.grad.dtype)

    model = sync(Net(False))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    swa_model = AveragedModel(model)
    ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=2, anneal_strategy="cos")
    lrs = []
    loader = [(X[:4], Y[:4]), (X[4:], Y[4:])]
    for epoch in range(4):
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
            ema_model.update_parameters(model)
        if epoch >= 1:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    update_bn([xb for xb, _ in loader], swa_model)
    out["swa"] = [
        lrs,
        swa_model.n_averaged,
        swa_model.module.head.weight,
        swa_model.module.bn.running_mean,
    ]
    out["ema"] = [ema_model.module.head.weight, ema_model.n_averaged]
    out["swa_keys"] = list(swa_model.state_dict().keys())[:3]
    swa_model.eval()
    with torch.no_grad():
        out["swa_eval"] = swa_model(X)

    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(workdir / "runs"))
    for step in range(3):
        writer.add_scalar("loss/train", 1.0 / (step + 1), step)
    writer.add_scalars("loss", {"a": 1.0, "b": 2.0}, 0)
    writer.add_histogram("weights", model.head.weight, 0)
    writer.close()
    out["tb_files"] = len(list((workdir / "runs").iterdir())) > 0

    layers = [
        sync(nn.Bilinear(3, 4, 2)),
        nn.Unflatten(1, (2, 3)),
        nn.Identity(54, unused="x"),
        nn.ZeroPad2d((1, 0, 2, 1)),
        nn.ReflectionPad1d(2),
        nn.ReplicationPad2d(1),
        nn.ConstantPad1d(1, 3.5),
        nn.Softmax2d(),
        nn.CosineSimilarity(dim=0),
        nn.PairwiseDistance(p=1),
        nn.Hardtanh(-2, 2),
        sync(nn.PReLU(3)),
        nn.Threshold(0.1, -1.0),
        nn.Upsample(size=5),
        nn.UpsamplingNearest2d(scale_factor=2),
        nn.UpsamplingBilinear2d(scale_factor=2),
        nn.Flatten(0, 1),
        nn.Tanhshrink(),
        sync(nn.LocalResponseNorm(2)),
        sync(nn.GroupNorm(1, 3)),
        sync(nn.InstanceNorm1d(3, affine=True, track_running_stats=True)),
        nn.LazyLinear(4),
    ]
    t = torch.from_numpy(rng.randn(2, 3, 4).astype(np.float32))
    img = torch.from_numpy(rng.randn(1, 3, 4, 4).astype(np.float32))
    lazy = layers[-1]
    res = [
        layers[0](t[:, :, 0], t[:, 0, :]),
        layers[1](torch.ones(2, 6)).shape,
        layers[2](t),
        layers[3](img),
        layers[4](t),
        layers[5](img),
        layers[6](t),
        layers[7](img),
        layers[8](t, t.flip(0)),
        layers[9](t[0], t[1]),
        layers[10](t * 3),
        layers[11](t),
        layers[12](t),
        layers[13](t),
        layers[14](img),
        layers[15](img),
        layers[16](t),
        layers[17](t),
        layers[18](img),
        layers[19](img),
        layers[20](t),
    ]
    lazy_out = lazy(t)
    res.append([lazy_out.shape, type(lazy).__name__, lazy.in_features])
    out["layers"] = [list(r) if isinstance(r, torch.Size) else r for r in res]
    out["instance_running"] = layers[20].running_mean
    return out
