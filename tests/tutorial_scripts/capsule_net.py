"""Capsule networks (Sabour et al., as in the popular PyTorch reimplementations): primary capsules
from a Conv2d reshaped into 8-D vectors, the squash non-linearity, routing-by-agreement with
routing logits updated in a loop (softmax over output capsules, detached predictions in the
early iterations), the margin loss on capsule lengths, and a reconstruction decoder fed the
target capsule masked with a one-hot from torch.eye indexing or from the longest capsule."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def squash(s, dim=-1, eps=1e-8):
    squared_norm = (s**2).sum(dim=dim, keepdim=True)
    scale = squared_norm / (1 + squared_norm)
    return scale * s / torch.sqrt(squared_norm + eps)


class PrimaryCaps(nn.Module):
    def __init__(self, in_channels=8, num_capsules=4, capsule_dim=8, kernel_size=3, stride=2):
        super().__init__()
        self.capsule_dim = capsule_dim
        self.conv = nn.Conv2d(in_channels, num_capsules * capsule_dim, kernel_size, stride)

    def forward(self, x):
        u = self.conv(x)  # (B, caps * dim, H, W)
        B = u.size(0)
        u = u.view(B, -1, self.capsule_dim, u.size(-2), u.size(-1))
        u = u.permute(0, 1, 3, 4, 2).contiguous().view(B, -1, self.capsule_dim)
        return squash(u)


class DigitCaps(nn.Module):
    def __init__(self, num_routes, in_dim=8, num_classes=3, out_dim=6, routing_iters=3):
        super().__init__()
        self.routing_iters = routing_iters
        self.W = nn.Parameter(0.01 * torch.randn(1, num_routes, num_classes, out_dim, in_dim))

    def forward(self, u):
        B, num_routes = u.size(0), u.size(1)
        u = u[:, :, None, :, None]  # (B, R, 1, in_dim, 1)
        u_hat = torch.matmul(self.W, u).squeeze(-1)  # (B, R, C, out_dim)
        b = torch.zeros(B, num_routes, self.W.size(2), 1)
        u_hat_detached = u_hat.detach()
        for i in range(self.routing_iters):
            c = F.softmax(b, dim=2)
            if i == self.routing_iters - 1:
                s = (c * u_hat).sum(dim=1, keepdim=True)
                v = squash(s)
            else:
                s = (c * u_hat_detached).sum(dim=1, keepdim=True)
                v = squash(s)
                b = b + (u_hat_detached * v).sum(dim=-1, keepdim=True)
        return v.squeeze(1), c.squeeze(-1)


class CapsNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3)
        self.primary = PrimaryCaps()
        self.digits = DigitCaps(num_routes=4 * 3 * 3, num_classes=num_classes)
        self.decoder = nn.Sequential(
            nn.Linear(6 * num_classes, 32), nn.ReLU(inplace=True), nn.Linear(32, 81), nn.Sigmoid()
        )

    def forward(self, x, y=None):
        v, c = self.digits(self.primary(F.relu(self.conv1(x))))
        lengths = v.norm(dim=-1)
        if y is None:
            y = torch.eye(v.size(1)).index_select(dim=0, index=lengths.argmax(dim=1))
        reconstruction = self.decoder((v * y[:, :, None]).flatten(start_dim=1))
        return lengths, reconstruction.view(-1, 1, 9, 9), c


def margin_loss(lengths, targets, m_plus=0.9, m_minus=0.1, lam=0.5):
    left = F.relu(m_plus - lengths) ** 2
    right = F.relu(lengths - m_minus) ** 2
    return (targets * left + lam * (1.0 - targets) * right).sum(dim=1).mean()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(CapsNet())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.from_numpy(rng.rand(12, 1, 9, 9).astype(np.float32))
    labels = torch.from_numpy(rng.randint(0, 3, size=12))
    history = []
    for epoch in range(3):
        for i in range(0, 12, 6):
            x, y = images[i : i + 6], labels[i : i + 6]
            y_onehot = torch.eye(3)[y]
            lengths, recon, _ = model(x, y_onehot)
            loss = margin_loss(lengths, y_onehot) + 0.0005 * F.mse_loss(recon, x, reduction="sum")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    model.eval()
    with torch.no_grad():
        lengths, recon, coupling = model(images)
    s = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1e-3, 0.0]])
    return {
        "history": history,
        "lengths": lengths,
        "pred": lengths.argmax(1),
        "recon": recon[:2],
        "coupling_sums": coupling.sum(dim=2),
        "squash": squash(s),
        "squash_norms": squash(s).norm(dim=-1),
        "W_grad_norm": model.digits.W.grad.norm(),
    }
