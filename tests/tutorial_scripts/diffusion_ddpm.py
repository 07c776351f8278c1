"""A minimal DDPM (denoising diffusion) as in the popular annotated implementations: linear and
cosine beta schedules, alphas_cumprod with cumprod and F.pad, an extract() helper gathering
schedule values per timestep and reshaping for broadcasting, sinusoidal timestep embeddings,
a small conv denoiser with GroupNorm, SiLU and a time-MLP added per channel, q_sample with the
noise given (numpy), the simple MSE objective, an EMA copy of the weights, and reverse-process
sampling steps under torch.no_grad with the posterior variance."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def linear_beta_schedule(timesteps):
    return torch.linspace(1e-4, 0.02, timesteps)


def cosine_beta_schedule(timesteps, s=0.008):
    steps = timesteps + 1
    x = torch.linspace(0, timesteps, steps, dtype=torch.float64)
    alphas_cumprod = torch.cos(((x / timesteps) + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0.0001, 0.9999)


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, dim, dim_out, time_dim, groups=4):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out * 2))

    def forward(self, x, t_emb):
        scale, shift = self.mlp(t_emb)[:, :, None, None].chunk(2, dim=1)
        x = self.norm(self.proj(x))
        return F.silu(x * (scale + 1) + shift)


class Denoiser(nn.Module):
    def __init__(self, channels=1, dim=8, time_dim=16):
        super().__init__()
        self.time_mlp = nn.Sequential(
            SinusoidalPositionEmbeddings(dim), nn.Linear(dim, time_dim), nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )  # fmt: skip
        self.init_conv = nn.Conv2d(channels, dim, 1)
        self.down = Block(dim, dim * 2, time_dim)
        self.pool = nn.Conv2d(dim * 2, dim * 2, 4, 2, 1)
        self.mid = Block(dim * 2, dim * 2, time_dim)
        self.up = nn.ConvTranspose2d(dim * 2, dim * 2, 4, 2, 1)
        self.out_block = Block(dim * 4, dim, time_dim)
        self.final = nn.Conv2d(dim, channels, 1)

    def forward(self, x, time):
        t = self.time_mlp(time)
        x = self.init_conv(x)
        h = self.down(x, t)
        m = self.up(self.mid(self.pool(h), t))
        return self.final(self.out_block(torch.cat((h, m), dim=1), t))


class Diffusion:
    def __init__(self, timesteps):
        self.timesteps = timesteps
        self.betas = linear_beta_schedule(timesteps)
        alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(alphas, axis=0)
        alphas_cumprod_prev = F.pad(self.alphas_cumprod[:-1], (1, 0), value=1.0)
        self.sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
        self.sqrt_alphas_cumprod = torch.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - self.alphas_cumprod)
        self.posterior_variance = (
            self.betas * (1.0 - alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )

    def q_sample(self, x_start, t, noise):
        return (
            extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
            + extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise
        )

    def p_losses(self, model, x_start, t, noise, loss_type="l2"):
        predicted_noise = model(self.q_sample(x_start, t, noise), t)
        if loss_type == "l1":
            return F.l1_loss(noise, predicted_noise)
        if loss_type == "huber":
            return F.smooth_l1_loss(noise, predicted_noise)
        return F.mse_loss(noise, predicted_noise)

    @torch.no_grad()
    def p_sample(self, model, x, t, t_index, noise):
        betas_t = extract(self.betas, t, x.shape)
        sqrt_one_minus = extract(self.sqrt_one_minus_alphas_cumprod, t, x.shape)
        model_mean = extract(self.sqrt_recip_alphas, t, x.shape) * (
            x - betas_t * model(x, t) / sqrt_one_minus
        )
        if t_index == 0:
            return model_mean
        return model_mean + torch.sqrt(extract(self.posterior_variance, t, x.shape)) * noise


def main(sync, workdir):
    rng = np.random.RandomState(0)
    diffusion = Diffusion(timesteps=50)
    model = sync(Denoiser())
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.from_numpy(rng.rand(16, 1, 8, 8).astype(np.float32)) * 2 - 1
    losses = []
    for step, loss_type in enumerate(["l2", "l1", "huber", "l2"]):
        batch = data[(step % 2) * 8 : (step % 2) * 8 + 8]
        t = torch.from_numpy(rng.randint(0, diffusion.timesteps, size=8)).long()
        noise = torch.from_numpy(rng.randn(*batch.shape).astype(np.float32))
        loss = diffusion.p_losses(model, batch, t, noise, loss_type)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), model.parameters()):
                p_ema.mul_(0.9).add_(p, alpha=0.1)
        losses.append(loss.item())
    img = torch.from_numpy(rng.randn(2, 1, 8, 8).astype(np.float32))
    trajectory = []
    for i in reversed(range(45, diffusion.timesteps)):
        noise = torch.from_numpy(rng.randn(2, 1, 8, 8).astype(np.float32))
        img = diffusion.p_sample(ema, img, torch.full((2,), i, dtype=torch.long), i, noise)
        trajectory.append(img.std().item())
    cosine = cosine_beta_schedule(20)
    return {
        "losses": losses,
        "schedule": [diffusion.alphas_cumprod[::10], diffusion.posterior_variance[:3]],
        "cosine_betas": cosine,
        "cosine_dtype": cosine.dtype,
        "time_embedding": SinusoidalPositionEmbeddings(8)(torch.tensor([0, 7, 49])),
        "sample": img,
        "trajectory": trajectory,
        "ema_state": {k: v for k, v in ema.state_dict().items() if "norm" in k},
        "ema_requires_grad": [p.requires_grad for p in ema.parameters()][:2],
    }
