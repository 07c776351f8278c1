"""WaveNet and TCN on toy audio: mu-law companding (torch.sign, log1p, expm1) into 16
classes, one-hot inputs via scatter_, dilated causal Conv1d stacks (left padding by F.pad and
by padding=(k-1)*d with the tail sliced off), gated tanh * sigmoid units with residual and skip
1x1 convs, cross_entropy over (N, C, T), a TCN block with weight_norm from
nn.utils.parametrizations and Conv1d(padding='same', dilation=2), the receptive field, and
sample-by-sample generation with a rolling input buffer under torch.no_grad()."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}
Q = 16


def mu_law_encode(x, mu=Q - 1):
    y = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / np.log1p(mu)
    return ((y + 1) / 2 * mu + 0.5).long()


def mu_law_decode(q, mu=Q - 1):
    y = 2 * q.float() / mu - 1
    return torch.sign(y) * torch.expm1(torch.abs(y) * np.log1p(mu)) / mu


class CausalConv1d(nn.Conv1d):
    def __init__(self, cin, cout, kernel_size, dilation=1):
        self.left = (kernel_size - 1) * dilation
        super().__init__(cin, cout, kernel_size, dilation=dilation, padding=self.left)

    def forward(self, x):
        out = super().forward(x)
        return out[:, :, : -self.left] if self.left else out


class ResidualLayer(nn.Module):
    def __init__(self, channels, skip, dilation):
        super().__init__()
        self.dilation = dilation
        self.filter_gate = nn.Conv1d(channels, 2 * channels, 2, dilation=dilation)
        self.res = nn.Conv1d(channels, channels, 1)
        self.skip = nn.Conv1d(channels, skip, 1)

    def forward(self, x):
        h = self.filter_gate(F.pad(x, (self.dilation, 0)))  # causal: pad on the left only
        f, g = h.chunk(2, dim=1)
        z = torch.tanh(f) * torch.sigmoid(g)
        return x + self.res(z), self.skip(z)


class WaveNet(nn.Module):
    def __init__(self, channels=8, skip=12, dilations=(1, 2, 4, 8)):
        super().__init__()
        self.causal = CausalConv1d(Q, channels, 2)
        self.layers = nn.ModuleList(ResidualLayer(channels, skip, d) for d in dilations)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(skip, skip, 1), nn.ReLU(),
                                  nn.Conv1d(skip, Q, 1))  # fmt: skip
        self.receptive_field = 2 + sum(dilations)

    def forward(self, x):  # x: (N, Q, T) one-hot
        x = self.causal(x)
        skips = 0
        for layer in self.layers:
            x, s = layer(x)
            skips = skips + s
        return self.head(skips)  # (N, Q, T) logits


class TemporalBlock(nn.Module):
    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.conv1 = weight_norm(nn.Conv1d(cin, cout, 3, padding="same", dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(cout, cout, 3, padding=2 * dilation, dilation=dilation))
        self.chomp = 2 * dilation
        self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        out = F.relu(self.conv1(x))
        out = F.relu(self.conv2(out)[:, :, : -self.chomp].contiguous())
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


def one_hot(q):
    x = torch.zeros(q.size(0), Q, q.size(1))
    return x.scatter_(1, q.unsqueeze(1), 1.0)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    t = np.arange(64, dtype=np.float32)
    audio = np.stack([np.sin(t / p) * 0.8 + 0.05 * rng.randn(64) for p in (2.0, 3.0, 5.0)])
    audio = torch.from_numpy(audio.astype(np.float32))
    q = mu_law_encode(audio)
    out = {"mu_law": q[0, :12], "decoded": mu_law_decode(q)[:, :8],
           "mu_law_dtype": str(q.dtype)}  # fmt: skip
    model = sync(WaveNet())
    out["receptive_field"] = model.receptive_field
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(4):
        logits = model(one_hot(q[:, :-1]))
        loss = F.cross_entropy(logits, q[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["skip_grad"] = model.layers[2].skip.weight.grad
    # causality: changing the future does not change past outputs
    x = one_hot(q[:1])
    with torch.no_grad():
        y1 = model(x)
        x2 = x.clone()
        x2[:, :, 40:] = 0
        y2 = model(x2)
    out["causal_max_diff"] = (y1[:, :, :40] - y2[:, :, :40]).abs().max()

    model.eval()
    buf = q[0, : model.receptive_field].clone()
    generated = []
    with torch.no_grad():
        for _ in range(6):
            logits = model(one_hot(buf.unsqueeze(0)))[:, :, -1]
            nxt = logits.argmax(dim=1)
            generated.append(nxt.item())
            buf = torch.cat([buf[1:], nxt])
    out["generated"] = generated

    tcn = sync(nn.Sequential(TemporalBlock(3, 6, 1), TemporalBlock(6, 6, 2)))
    head = sync(nn.Linear(6, 1))
    opt = torch.optim.SGD(list(tcn.parameters()) + list(head.parameters()), lr=0.05, momentum=0.9)
    x = audio.unsqueeze(0)[:, :, :-1]
    target = audio[0, 1:].view(1, -1, 1)
    for _ in range(3):
        feats = tcn(x).transpose(1, 2)  # (N, T, C)
        loss = F.mse_loss(head(feats), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["tcn_loss"] = loss
    p = tcn[0].conv1.parametrizations.weight
    out["tcn_weight_norm"] = [p.original0.grad, p.original1.grad, tcn[0].conv1.weight]
    out["tcn_keys"] = sorted(tcn.state_dict().keys())
    return out
