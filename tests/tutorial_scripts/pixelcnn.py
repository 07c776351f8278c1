"""PixelCNN from the autoregressive-models tutorials: a MaskedConv2d subclass holding its 'A'/'B'
mask as a registered buffer (mask[:, :, h // 2, w // 2 + (type == 'B'):] = 0) and applying it by
self.weight.data *= self.mask before F.conv2d, a gated PixelCNN layer with vertical and
horizontal stacks (a down-shift by F.pad and slicing, tanh * sigmoid gates via chunk), 256-way
pixel logits over (N, 256, C, H, W) reshaped for cross_entropy, the bits-per-dim metric
(nats / (log 2 * dims)), the receptive field checked through input gradients, and sampling
pixel by pixel in raster order with argmax under torch.no_grad()."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}
LEVELS = 8


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert mask_type in {"A", "B"}
        self.register_buffer("mask", self.weight.data.clone())
        _, _, h, w = self.weight.size()
        self.mask.fill_(1)
        self.mask[:, :, h // 2, w // 2 + (mask_type == "B") :] = 0
        self.mask[:, :, h // 2 + 1 :] = 0

    def forward(self, x):
        self.weight.data *= self.mask
        return super().forward(x)


class GatedLayer(nn.Module):
    def __init__(self, channels, k=3):
        super().__init__()
        self.k = k
        self.v_conv = nn.Conv2d(channels, 2 * channels, (k // 2 + 1, k))
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = nn.Conv2d(channels, 2 * channels, (1, k // 2 + 1))
        self.h_out = nn.Conv2d(channels, channels, 1)

    def forward(self, v, h):
        height, width = v.shape[-2:]
        # vertical stack sees the rows above: pad on top, then shift down by one row
        v_feat = self.v_conv(F.pad(v, (self.k // 2, self.k // 2, self.k // 2, 0)))
        v_shift = F.pad(v_feat, (0, 0, 1, 0))[:, :, :height, :]
        vf, vg = v_feat.chunk(2, dim=1)
        v_out = torch.tanh(vf) * torch.sigmoid(vg)
        h_feat = self.h_conv(F.pad(h, (self.k // 2, 0, 0, 0)))[:, :, :, :width]
        hf, hg = (h_feat + self.v_to_h(v_shift)).chunk(2, dim=1)
        h_out = self.h_out(torch.tanh(hf) * torch.sigmoid(hg))
        return v_out, h + h_out


class PixelCNN(nn.Module):
    def __init__(self, channels=8, n_layers=3):
        super().__init__()
        layers = [MaskedConv2d("A", 1, channels, 5, padding=2, bias=False),
                  nn.BatchNorm2d(channels), nn.ReLU(True)]  # fmt: skip
        for _ in range(n_layers - 1):
            layers += [MaskedConv2d("B", channels, channels, 3, padding=1, bias=False),
                       nn.BatchNorm2d(channels), nn.ReLU(True)]  # fmt: skip
        layers.append(nn.Conv2d(channels, LEVELS, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class GatedPixelCNN(nn.Module):
    def __init__(self, channels=6):
        super().__init__()
        self.embed = MaskedConv2d("A", 1, channels, 3, padding=1)
        self.layers = nn.ModuleList(GatedLayer(channels) for _ in range(2))
        self.out = nn.Conv2d(channels, LEVELS, 1)

    def forward(self, x):
        v = h = self.embed(x)
        for layer in self.layers:
            v, h = layer(v, h)
        logits = self.out(F.relu(h))  # (N, LEVELS, H, W)
        return logits.view(x.size(0), LEVELS, 1, *x.shape[-2:])  # (N, LEVELS, C, H, W)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    data = rng.randint(0, LEVELS, size=(6, 1, 7, 7))
    target = torch.from_numpy(data)
    x = target.float() / (LEVELS - 1)
    out = {}
    model = sync(PixelCNN())
    out["mask_A"] = model.net[0].mask[0, 0]
    out["mask_B"] = model.net[3].mask[0, 0]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        logits = model(x)
        loss = F.cross_entropy(logits, target[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["bits_per_dim"] = losses[-1] / math.log(2)
    out["masked_weight"] = model.net[0].weight.grad

    model.eval()
    probe = x[:1].clone().requires_grad_()
    model(probe)[0, :, 3, 3].sum().backward()
    out["receptive_field"] = probe.grad[0, 0] != 0

    with torch.no_grad():
        sample = torch.zeros(1, 1, 4, 4)
        for i in range(4):
            for j in range(4):
                logits = model(sample)[:, :, i, j]
                sample[:, :, i, j] = logits.argmax(1).float() / (LEVELS - 1)
    out["sample"] = sample

    gated = sync(GatedPixelCNN())
    opt = torch.optim.Adam(gated.parameters(), lr=1e-2)
    for _ in range(2):
        logits = gated(x)
        nll = F.cross_entropy(logits, target, reduction="none")  # (N, C, H, W)
        loss = nll.sum(dim=(1, 2, 3)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["gated"] = [loss, nll.shape[1:] == target.shape[1:], gated.layers[1].v_to_h.weight.grad]
    bpd = loss / (math.log(2) * x[0].numel())
    out["gated_bpd"] = bpd
    gated.eval()
    probe = x[:1].clone().requires_grad_()
    gated(probe)[0, :, 0, 3, 3].sum().backward()
    out["gated_receptive_field"] = probe.grad[0, 0] != 0
    return out
