"""Probabilistic and multi-label heads: a mixture density network (pi/mu/sigma heads,
logsumexp of component log-likelihoods, MixtureSameFamily), heteroscedastic regression with
nn.GaussianNLLLoss (full and per-feature variance), count regression with nn.PoissonNLLLoss
(log_input both ways, full=True), quantile (pinball) loss, and a multi-label classifier with
BCEWithLogitsLoss(pos_weight=...), MultiLabelSoftMarginLoss(weight=...), MultiLabelMarginLoss,
MultiMarginLoss, plus sigmoid thresholding into per-label F1."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, MixtureSameFamily, Normal


class MDN(nn.Module):
    def __init__(self, in_features, hidden, n_components):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(in_features, hidden), nn.Tanh())
        self.pi = nn.Linear(hidden, n_components)
        self.mu = nn.Linear(hidden, n_components)
        self.sigma = nn.Linear(hidden, n_components)

    def forward(self, x):
        h = self.hidden(x)
        return F.log_softmax(self.pi(h), dim=-1), self.mu(h), F.elu(self.sigma(h)) + 1 + 1e-6


def mdn_loss(log_pi, mu, sigma, y):
    # -log sum_k pi_k N(y | mu_k, sigma_k), computed stably in log space
    log_normal = -0.5 * ((y - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_pi + log_normal, dim=-1).mean()


class HeteroscedasticNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 16), nn.SiLU())
        self.mean = nn.Linear(16, 2)
        self.log_var = nn.Linear(16, 2)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h).exp()


def quantile_loss(pred, target, quantiles):
    errors = target.unsqueeze(-1) - pred
    return torch.max((quantiles - 1) * errors, quantiles * errors).mean()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}

    # -- mixture density network on an inverted sine (one x, several y) --
    mdn = sync(MDN(1, 16, 3))
    optimizer = torch.optim.Adam(mdn.parameters(), lr=5e-3)
    mdn_losses = []
    for step in range(5):
        y = rng.uniform(-1, 1, size=(32, 1)).astype(np.float32)
        x = y + 0.3 * np.sin(2 * np.pi * y) + 0.05 * rng.randn(32, 1).astype(np.float32)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        log_pi, mu, sigma = mdn(x)
        loss = mdn_loss(log_pi, mu, sigma, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        mdn_losses.append(loss.item())
    with torch.no_grad():
        log_pi, mu, sigma = mdn(x)
        mixture = MixtureSameFamily(Categorical(logits=log_pi), Normal(mu, sigma))
        out["mdn"] = {
            "losses": mdn_losses,
            "mixture_nll": -mixture.log_prob(y.squeeze(-1)).mean(),
            "mean": mixture.mean,
            "variance": mixture.variance,
            "most_likely_component": log_pi.argmax(-1),
        }

    # -- Gaussian NLL: the network predicts a mean and a variance --
    net = sync(HeteroscedasticNet())
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2)
    gauss = nn.GaussianNLLLoss()
    gauss_full = nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")
    gnll = []
    for step in range(4):
        x = torch.from_numpy(rng.randn(16, 3).astype(np.float32))
        target = torch.stack([x[:, 0] * 2, x[:, 1] - x[:, 2]], dim=1) + 0.1 * x.flip(1)[:, :2]
        mean, var = net(x)
        loss = gauss(mean, target, var)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        gnll.append(
            [
                loss.item(),
                gauss_full(mean, target, var).item(),
                F.gaussian_nll_loss(mean, target, var[:, :1]).item(),  # one variance per row
                F.gaussian_nll_loss(mean, target, var.mean(1), reduction="none").sum().item(),
            ]
        )
    out["gaussian_nll"] = gnll

    # -- Poisson regression of counts --
    rate_net = sync(nn.Linear(4, 1))
    optimizer = torch.optim.SGD(rate_net.parameters(), lr=0.05)
    poisson = nn.PoissonNLLLoss()
    poisson_full = nn.PoissonNLLLoss(log_input=True, full=True, reduction="none")
    poisson_rate = nn.PoissonNLLLoss(log_input=False, eps=1e-6)
    pois = []
    for step in range(4):
        x = torch.from_numpy(rng.randn(20, 4).astype(np.float32))
        counts = torch.from_numpy(rng.poisson(3.0, size=(20, 1)).astype(np.float32))
        log_rate = rate_net(x)
        loss = poisson(log_rate, counts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        pois.append(loss.item())
    out["poisson"] = [
        pois,
        poisson_full(log_rate.detach(), counts).squeeze(1),
        poisson_rate(log_rate.detach().exp(), counts),
        F.poisson_nll_loss(log_rate.detach(), counts, full=True, reduction="sum"),
    ]

    # -- quantile regression --
    qnet = sync(nn.Linear(2, 3))
    quantiles = torch.tensor([0.1, 0.5, 0.9])
    x = torch.from_numpy(rng.randn(24, 2).astype(np.float32))
    target = x.sum(1) + torch.from_numpy(rng.randn(24).astype(np.float32))
    loss = quantile_loss(qnet(x), target, quantiles)
    loss.backward()
    out["quantile"] = [loss, qnet.weight.grad]

    # -- multi-label classification --
    n_labels = 5
    clf = sync(nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, n_labels)))
    targets = torch.from_numpy(
        (rng.rand(40, n_labels) < [0.5, 0.2, 0.1, 0.4, 0.05]).astype(np.float32)
    )
    features = torch.from_numpy(rng.randn(40, 6).astype(np.float32)) + targets.sum(1, True) * 0.3
    pos = targets.sum(0)
    pos_weight = (targets.size(0) - pos) / pos.clamp(min=1)
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    soft_margin = nn.MultiLabelSoftMarginLoss(weight=torch.linspace(0.5, 1.5, n_labels))
    optimizer = torch.optim.Adam(clf.parameters(), lr=1e-2)
    ml_losses = []
    for epoch in range(4):
        for i in range(0, 40, 10):
            logits = clf(features[i : i + 10])
            loss = bce(logits, targets[i : i + 10]) + soft_margin(logits, targets[i : i + 10])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ml_losses.append(loss.item())
    with torch.no_grad():
        logits = clf(features)
        preds = (torch.sigmoid(logits) > 0.5).float()
        tp = (preds * targets).sum(0)
        precision = tp / preds.sum(0).clamp(min=1)
        recall = tp / targets.sum(0).clamp(min=1)
        f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-8)
    # MultiLabelMarginLoss wants the label indices first, padded with -1
    label_idx = torch.full((40, n_labels), -1, dtype=torch.long)
    for row in range(40):
        idx = targets[row].nonzero().flatten()
        label_idx[row, : idx.numel()] = idx
    logits = clf(features).detach().requires_grad_()
    margin = nn.MultiLabelMarginLoss()(logits, label_idx)
    multi_margin = nn.MultiMarginLoss(p=2, margin=0.5)(logits, targets.argmax(1))
    weighted_mm = F.multi_margin_loss(
        logits, targets.argmax(1), weight=torch.arange(1.0, 6.0), reduction="sum"
    )
    (margin + multi_margin + weighted_mm).backward()
    out["multilabel"] = {
        "losses": ml_losses,
        "pos_weight": pos_weight,
        "f1": f1,
        "margin": [margin, multi_margin, weighted_mm, logits.grad],
        "hamming": (preds != targets).float().mean().item(),
    }
    return out
