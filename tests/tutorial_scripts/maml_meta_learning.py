"""Meta-learning on sine-wave regression: MAML with an explicit functional forward over an
OrderedDict of fast weights (F.linear with the weights passed in), inner-loop gradients from
torch.autograd.grad(create_graph=True) so the outer loss differentiates through the inner step,
first-order MAML (create_graph=False), torch.func.functional_call over named_parameters,
Reptile's interpolation of weights with copy.deepcopy and torch.no_grad, and a learned per-
parameter inner learning rate (Meta-SGD) stored in a ParameterDict."""

import copy
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class SineModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                                 nn.Linear(16, 1))  # fmt: skip

    def forward(self, x, params=None):
        if params is None:
            return self.net(x)
        x = F.relu(F.linear(x, params["net.0.weight"], params["net.0.bias"]))
        x = F.relu(F.linear(x, params["net.2.weight"], params["net.2.bias"]))
        return F.linear(x, params["net.4.weight"], params["net.4.bias"])


def sample_task(rng):
    amplitude, phase = rng.uniform(0.1, 5.0), rng.uniform(0, np.pi)

    def draw(n):
        x = rng.uniform(-5, 5, size=(n, 1)).astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(amplitude * np.sin(x + phase))

    return draw


def inner_update(model, params, x, y, lr, first_order=False):
    loss = F.mse_loss(model(x, params), y)
    grads = torch.autograd.grad(loss, params.values(), create_graph=not first_order)
    return OrderedDict((name, p - lr * g) for (name, p), g in zip(params.items(), grads))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(SineModel())
    meta_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = {"maml": [], "fomaml": []}
    for first_order, key in ((False, "maml"), (True, "fomaml")):
        for it in range(3):
            meta_opt.zero_grad()
            meta_loss = 0.0
            for task in range(2):
                draw = sample_task(rng)
                x_s, y_s = draw(5)
                x_q, y_q = draw(5)
                fast = OrderedDict(model.named_parameters())
                for step in range(2):
                    fast = inner_update(model, fast, x_s, y_s, 0.01, first_order)
                meta_loss = meta_loss + F.mse_loss(model(x_q, fast), y_q)
            meta_loss = meta_loss / 2
            meta_loss.backward()
            meta_opt.step()
            out[key].append([meta_loss.item(), model.net[0].weight.grad.norm().item()])

    # functional_call: the same adapted forward without a hand-written functional model
    draw = sample_task(rng)
    x_s, y_s = draw(5)
    params = {k: v for k, v in model.named_parameters()}
    loss = F.mse_loss(functional_call(model, params, (x_s,)), y_s)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    adapted = {k: v - 0.01 * g for (k, v), g in zip(params.items(), grads)}
    query_loss = F.mse_loss(functional_call(model, adapted, (x_s,)), y_s)
    second = torch.autograd.grad(query_loss, model.net[4].bias)
    out["functional_call"] = [loss, query_loss, second[0]]

    # Reptile: adapt a copy with SGD, move the meta-weights toward it
    for it in range(2):
        draw = sample_task(rng)
        learner = copy.deepcopy(model)
        inner_opt = torch.optim.SGD(learner.parameters(), lr=0.02)
        for step in range(3):
            x, y = draw(10)
            inner_opt.zero_grad()
            F.mse_loss(learner(x), y).backward()
            inner_opt.step()
        with torch.no_grad():
            for p, q in zip(model.parameters(), learner.parameters()):
                p.add_(q - p, alpha=0.1)
    out["reptile"] = model.state_dict()

    # Meta-SGD: a learnable inner learning rate per parameter
    lrs = nn.ParameterDict(
        {k.replace(".", "_"): nn.Parameter(torch.full_like(v, 0.01)) for k, v in
         model.named_parameters()}
    )  # fmt: skip
    opt = torch.optim.Adam(list(model.parameters()) + list(lrs.parameters()), lr=1e-3)
    draw = sample_task(rng)
    x_s, y_s = draw(5)
    x_q, y_q = draw(5)
    params = OrderedDict(model.named_parameters())
    grads = torch.autograd.grad(F.mse_loss(model(x_s, params), y_s), params.values(),
                                create_graph=True)  # fmt: skip
    fast = OrderedDict(
        (k, v - lrs[k.replace(".", "_")] * g) for (k, v), g in zip(params.items(), grads)
    )
    loss = F.mse_loss(model(x_q, fast), y_q)
    opt.zero_grad()
    loss.backward()
    opt.step()
    out["meta_sgd"] = [loss, lrs["net_4_bias"], lrs["net_0_weight"].grad[:3]]
    return out
