"""GAN training loops beyond DCGAN: WGAN-GP's gradient penalty through torch.autograd.grad
(create_graph, grad_outputs=torch.ones_like), a spectral-norm hinge-loss discriminator, a
generator upsampling with PixelShuffle and ConvTranspose2d, requires_grad toggling between the
two updates, n_critic steps, R1 regularisation, and an EMA generator."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

TOLERANCE = {"rtol": 5e-4, "atol": 5e-5}

Z = 6


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(Z, 8 * 2 * 2)
        self.up1 = nn.Sequential(
            nn.Conv2d(8, 8 * 4, 3, padding=1), nn.PixelShuffle(2), nn.BatchNorm2d(8),
            nn.LeakyReLU(0.2),
        )
        self.up2 = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        self.to_rgb = nn.Conv2d(4, 3, 1)

    def forward(self, z):
        x = self.fc(z).view(-1, 8, 2, 2)
        x = F.leaky_relu(self.up2(self.up1(x)), 0.2)
        return torch.tanh(self.to_rgb(x))  # (B, 3, 8, 8)


class Critic(nn.Module):
    def __init__(self, sn=False):
        super().__init__()
        wrap = spectral_norm if sn else (lambda m: m)
        self.net = nn.Sequential(
            wrap(nn.Conv2d(3, 8, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            wrap(nn.Conv2d(8, 8, 4, 2, 1, bias=False)), nn.InstanceNorm2d(8, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )  # fmt: skip
        self.out = wrap(nn.Linear(8 * 2 * 2, 1))

    def forward(self, x):
        return self.out(self.net(x).flatten(1))


def compute_gradient_penalty(D, real_samples, fake_samples, alpha):
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = torch.ones(real_samples.shape[0], 1, requires_grad=False)
    gradients = torch.autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(D, real):
    real = real.detach().requires_grad_(True)
    out = D(real)
    (grad,) = torch.autograd.grad(out.sum(), real, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def set_requires_grad(nets, requires_grad=False):
    for net in nets if isinstance(nets, list) else [nets]:
        for param in net.parameters():
            param.requires_grad = requires_grad


def main(sync, workdir):
    rng = np.random.RandomState(0)
    G, D = sync(Generator()), sync(Critic())
    g_ema = copy.deepcopy(G).eval()
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.0, 0.9))
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.0, 0.9))
    lambda_gp, n_critic = 10.0, 2
    real = torch.from_numpy(rng.rand(12, 3, 8, 8).astype(np.float32) * 2 - 1)
    out = {"d": [], "g": [], "gp": []}
    for i in range(4):
        batch = real[(i % 3) * 4 : (i % 3) * 4 + 4]
        z = torch.from_numpy(rng.randn(4, Z).astype(np.float32))
        alpha = torch.from_numpy(rng.rand(4, 1, 1, 1).astype(np.float32))
        set_requires_grad(D, True)
        opt_D.zero_grad()
        fake = G(z)
        gp = compute_gradient_penalty(D, batch, fake.detach(), alpha)
        d_loss = -torch.mean(D(batch)) + torch.mean(D(fake.detach())) + lambda_gp * gp
        d_loss.backward()
        opt_D.step()
        out["d"].append(d_loss.item())
        out["gp"].append(gp.item())
        if i % n_critic == 0:
            set_requires_grad(D, False)
            opt_G.zero_grad()
            g_loss = -torch.mean(D(G(z)))
            g_loss.backward()
            opt_G.step()
            out["g"].append(g_loss.item())
            out["d_grad_none"] = all(p.grad is None or p.requires_grad is False
                                     for p in D.parameters())  # fmt: skip
            with torch.no_grad():
                for p_ema, p in zip(g_ema.parameters(), G.parameters()):
                    p_ema.copy_(p.lerp(p_ema, 0.9))
                for b_ema, b in zip(g_ema.buffers(), G.buffers()):
                    b_ema.copy_(b)
    out["G"] = G.state_dict()
    out["D"] = D.state_dict()
    out["ema"] = g_ema.state_dict()
    with torch.no_grad():
        out["samples"] = g_ema(torch.from_numpy(rng.randn(2, Z).astype(np.float32)))

    # SNGAN: spectral-norm critic with the hinge loss and R1 on reals
    Dsn = Critic(sn=True)
    out["sn_keys"] = sorted(Dsn.state_dict().keys())
    sync(Dsn)  # weight_orig, and the power iteration's weight_u / weight_v buffers
    opt = torch.optim.Adam(Dsn.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for i in range(2):
        batch = real[i * 4 : i * 4 + 4]
        fake = G(torch.from_numpy(rng.randn(4, Z).astype(np.float32))).detach()
        loss = F.relu(1.0 - Dsn(batch)).mean() + F.relu(1.0 + Dsn(fake)).mean()
        loss = loss + 0.1 * r1_penalty(Dsn, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["sn_loss"] = loss
    out["sn_state"] = Dsn.state_dict()
    Dsn.eval()
    with torch.no_grad():
        out["sn_eval"] = Dsn(real[:2])
        out["sn_weight"] = Dsn.net[0].weight
    out["pixel_shuffle"] = [
        F.pixel_shuffle(torch.arange(16.0).view(1, 4, 2, 2), 2),
        F.pixel_unshuffle(torch.arange(16.0).view(1, 1, 4, 4), 2),
    ]
    return out
