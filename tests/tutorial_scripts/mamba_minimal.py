"""A minimal Mamba (selective state-space) language model as in the single-file
re-implementations: in_proj split into (x, res) with Tensor.split, a depthwise causal Conv1d
(groups=d_inner, padding=d_conv - 1, output sliced to the input length), SiLU gating, the
input-dependent delta/B/C from x_proj and dt_proj with F.softplus, A = -exp(A_log) with A_log
initialised from torch.arange repeated by einops-free repeat, the discretisation through
torch.einsum ('b l d, d n -> b l d n') and a sequential scan over time, the D skip, a residual
block with RMSNorm, tied embeddings, and the parallel (cumsum-of-log) scan for a scalar-gated
linear recurrence checked against the loop."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 5e-4, "atol": 5e-5}
D_MODEL, D_STATE, D_CONV, EXPAND, VOCAB = 8, 4, 4, 2, 16


class RMSNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MambaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        d_inner = EXPAND * D_MODEL
        self.d_inner = d_inner
        self.dt_rank = math.ceil(D_MODEL / 16)
        self.in_proj = nn.Linear(D_MODEL, d_inner * 2, bias=False)
        self.conv1d = nn.Conv1d(d_inner, d_inner, kernel_size=D_CONV, groups=d_inner,
                                padding=D_CONV - 1, bias=True)  # fmt: skip
        self.x_proj = nn.Linear(d_inner, self.dt_rank + D_STATE * 2, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_inner, bias=True)
        A = torch.arange(1, D_STATE + 1).float().unsqueeze(0).repeat(d_inner, 1)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.out_proj = nn.Linear(d_inner, D_MODEL, bias=False)

    def forward(self, x):
        b, l, _ = x.shape
        x_and_res = self.in_proj(x)  # (b, l, 2 * d_in)
        x, res = x_and_res.split(split_size=[self.d_inner, self.d_inner], dim=-1)
        x = x.transpose(1, 2)  # (b, d_in, l)
        x = self.conv1d(x)[:, :, :l]
        x = F.silu(x.transpose(1, 2))
        y = self.ssm(x)
        return self.out_proj(y * F.silu(res))

    def ssm(self, x):
        A = -torch.exp(self.A_log.float())  # (d_in, n)
        D = self.D.float()
        x_dbl = self.x_proj(x)
        delta, B, C = x_dbl.split(split_size=[self.dt_rank, D_STATE, D_STATE], dim=-1)
        delta = F.softplus(self.dt_proj(delta))  # (b, l, d_in)
        return self.selective_scan(x, delta, A, B, C, D)

    def selective_scan(self, u, delta, A, B, C, D):
        b, l, d_in = u.shape
        deltaA = torch.exp(torch.einsum("bld,dn->bldn", delta, A))
        deltaB_u = torch.einsum("bld,bln,bld->bldn", delta, B, u)
        x = torch.zeros((b, d_in, A.shape[1]), device=deltaA.device)
        ys = []
        for i in range(l):
            x = deltaA[:, i] * x + deltaB_u[:, i]
            y = torch.einsum("bdn,bn->bd", x, C[:, i, :])
            ys.append(y)
        y = torch.stack(ys, dim=1)  # (b, l, d_in)
        return y + u * D


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.mixer = MambaBlock()
        self.norm = RMSNorm(D_MODEL)

    def forward(self, x):
        return self.mixer(self.norm(x)) + x


class Mamba(nn.Module):
    def __init__(self, n_layers=2):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL)
        self.layers = nn.ModuleList([ResidualBlock() for _ in range(n_layers)])
        self.norm_f = RMSNorm(D_MODEL)
        self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.lm_head.weight = self.embedding.weight  # tie output projection to embeddings

    def forward(self, input_ids):
        x = self.embedding(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm_f(x))


def scan_loop(a, b):
    h, out = torch.zeros_like(b[:, 0]), []
    for t in range(b.size(1)):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return torch.stack(out, 1)


def scan_parallel(log_a, b):
    # h_t = sum_{s <= t} exp(cum_t - cum_s) b_s
    cum = torch.cumsum(log_a, dim=1)
    return torch.exp(cum) * torch.cumsum(b * torch.exp(-cum), dim=1)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(Mamba())
    out = {"n_params": sum(p.numel() for p in model.parameters()),
           "tied": model.lm_head.weight is model.embedding.weight}  # fmt: skip
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    ids = torch.from_numpy(rng.randint(0, VOCAB, size=(2, 10)))
    losses = []
    for _ in range(3):
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    mixer = model.layers[0].mixer
    out["losses"] = losses
    out["grads"] = [mixer.A_log.grad, mixer.conv1d.weight.grad, mixer.dt_proj.bias.grad,
                    model.embedding.weight.grad]  # fmt: skip
    with torch.no_grad():
        a = model(ids[:, :6])
        b = model(torch.cat([ids[:, :6], ids[:, :4]], 1))[:, :6]
    out["causal"] = (a - b).abs().max() < 1e-5
    out["logits"] = a

    log_a = torch.from_numpy(-rng.rand(2, 7, 3).astype(np.float32)).requires_grad_()
    x = torch.from_numpy(rng.randn(2, 7, 3).astype(np.float32)).requires_grad_()
    h1 = scan_loop(log_a.exp(), x)
    h1.sum().backward()
    h2 = scan_parallel(log_a, x)
    g1 = [log_a.grad.clone(), x.grad.clone()]
    log_a.grad = x.grad = None
    h2.sum().backward()
    out["scans"] = [h1, h2, g1, [log_a.grad, x.grad]]
    return out
