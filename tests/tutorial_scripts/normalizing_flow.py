"""Normalizing flows on 2-D toy data: RealNVP affine coupling layers with alternating masks
registered as buffers, tanh-scaled log-scales, log-determinants summed over layers, a standard
Normal base (Independent and MultivariateNormal log_prob), the exact inverse, an ActNorm layer
with data-dependent initialisation, and a planar flow; trained by maximum likelihood with Adam."""

import math

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Independent, MultivariateNormal, Normal


class CouplingLayer(nn.Module):
    def __init__(self, mask, hidden=16):
        super().__init__()
        self.register_buffer("mask", mask)
        dim = mask.numel()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * dim),
        )  # fmt: skip
        self.scale = nn.Parameter(torch.ones(dim))

    def _s_t(self, x_masked):
        s, t = self.net(x_masked).chunk(2, dim=-1)
        s = self.scale * torch.tanh(s)
        return s * (1 - self.mask), t * (1 - self.mask)

    def forward(self, x):  # data -> latent
        s, t = self._s_t(x * self.mask)
        z = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
        return z, s.sum(dim=-1)

    def inverse(self, z):
        s, t = self._s_t(z * self.mask)
        x = z * self.mask + (1 - self.mask) * ((z - t) * torch.exp(-s))
        return x, -s.sum(dim=-1)


class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, dim))
        self.log_scale = nn.Parameter(torch.zeros(1, dim))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    def forward(self, x):
        if self.initialized.item() == 0:
            with torch.no_grad():
                self.loc.data.copy_(-x.mean(0, keepdim=True))
                self.log_scale.data.copy_(-torch.log(x.std(0, keepdim=True) + 1e-6))
                self.initialized.fill_(1)
        z = (x + self.loc) * torch.exp(self.log_scale)
        return z, self.log_scale.sum().expand(x.size(0))

    def inverse(self, z):
        return z * torch.exp(-self.log_scale) - self.loc, -self.log_scale.sum().expand(z.size(0))


class RealNVP(nn.Module):
    def __init__(self, dim=2, n_layers=4):
        super().__init__()
        layers = [ActNorm(dim)]
        for i in range(n_layers):
            mask = torch.tensor([float((j + i) % 2) for j in range(dim)])
            layers.append(CouplingLayer(mask))
        self.layers = nn.ModuleList(layers)
        self.base = Independent(Normal(torch.zeros(dim), torch.ones(dim)), 1)

    def forward(self, x):
        log_det = torch.zeros(x.size(0))
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z, _ = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return self.base.log_prob(z) + log_det


class PlanarFlow(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.u = nn.Parameter(torch.full((dim,), 0.1))
        self.w = nn.Parameter(torch.linspace(-0.5, 0.5, dim))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, z):
        # u_hat keeps the flow invertible: w.u_hat >= -1
        wu = self.w @ self.u
        m = -1 + nn.functional.softplus(wu)
        u_hat = self.u + (m - wu) * self.w / (self.w.norm() ** 2)
        lin = z @ self.w + self.b
        f = z + u_hat * torch.tanh(lin).unsqueeze(-1)
        psi = (1 - torch.tanh(lin) ** 2).unsqueeze(-1) * self.w
        log_det = torch.log(torch.abs(1 + psi @ u_hat) + 1e-8)
        return f, log_det


def two_moons(rng, n):
    t = rng.rand(n) * math.pi
    upper = rng.rand(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    data = np.stack([x, y], 1) + 0.05 * rng.randn(n, 2)
    return torch.tensor(data, dtype=torch.float32)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    flow = sync(RealNVP())
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    losses = []
    for step in range(6):
        x = two_moons(rng, 32)
        loss = -flow.log_prob(x).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(flow.parameters(), max_norm=5.0)
        optimizer.step()
        losses.append(loss.item())
    out = {"losses": losses, "actnorm": flow.layers[0].state_dict()}
    x = two_moons(rng, 8)
    with torch.no_grad():
        z, log_det = flow(x)
        out["z"], out["log_det"] = z, log_det
        out["reconstruction_error"] = (flow.inverse(z) - x).abs().max()
        z0 = torch.from_numpy(rng.randn(5, 2).astype(np.float32))
        out["samples"] = flow.inverse(z0)
    mvn = MultivariateNormal(torch.zeros(2), covariance_matrix=torch.eye(2))
    out["mvn_vs_independent"] = mvn.log_prob(z) - flow.base.log_prob(z)
    out["bits_per_dim"] = (-flow.log_prob(x).mean() / (2 * math.log(2))).item()

    planar = sync(nn.ModuleList([PlanarFlow(2) for _ in range(3)]))
    opt = torch.optim.SGD(planar.parameters(), lr=0.05, momentum=0.9)
    base = Normal(torch.zeros(2), torch.ones(2))
    planar_losses = []
    for step in range(4):
        z = torch.from_numpy(rng.randn(16, 2).astype(np.float32))
        log_q = base.log_prob(z).sum(-1)
        for f in planar:
            z, ld = f(z)
            log_q = log_q - ld
        # fit a target density: a Gaussian centred at (1, -1)
        log_p = Normal(torch.tensor([1.0, -1.0]), 0.5).log_prob(z).sum(-1)
        kl = (log_q - log_p).mean()
        opt.zero_grad()
        kl.backward()
        opt.step()
        planar_losses.append(kl.item())
    out["planar"] = [planar_losses, planar.state_dict()]
    return out
