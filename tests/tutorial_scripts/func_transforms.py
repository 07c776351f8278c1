"""torch.func tutorials: per-sample gradients (functional_call + vmap + grad), model
ensembling (stack_module_state), Jacobians/Hessians (jacrev, jacfwd, hessian, vjp, jvp),
and torch.autograd.functional's hvp."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import (
    functional_call,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    stack_module_state,
    vjp,
    vmap,
)


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc1 = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc1(x), dim=1)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    model = sync(SimpleCNN())
    data = torch.from_numpy(rng.randn(4, 1, 8, 8).astype(np.float32))
    targets = torch.from_numpy(rng.randint(0, 5, size=4))

    def loss_fn(predictions, targets):
        return F.nll_loss(predictions, targets)

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        batch = sample.unsqueeze(0)
        targets = target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        return loss_fn(predictions, targets)

    ft_compute_grad = grad(compute_loss)
    ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
    ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
    manual = []
    for i in range(4):
        model.zero_grad()
        loss_fn(model(data[i : i + 1]), targets[i : i + 1]).backward()
        manual.append(model.conv1.weight.grad.clone())
    out["per_sample"] = ft_per_sample_grads
    out["per_sample_matches_loop"] = torch.allclose(
        ft_per_sample_grads["conv1.weight"], torch.stack(manual), atol=1e-6
    )

    models = [sync(MLP()) for _ in range(3)]
    minibatch = torch.from_numpy(rng.randn(5, 6).astype(np.float32))
    params, buffers = stack_module_state(models)
    base_model = copy.deepcopy(models[0])  # the tutorial moves it to "meta"

    def fmodel(params, buffers, x):
        return functional_call(base_model, (params, buffers), (x,))

    predictions = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
    out["ensemble"] = [predictions, torch.allclose(predictions[1], models[1](minibatch), atol=1e-6)]
    out["stacked_shapes"] = {k: list(v.shape) for k, v in params.items()}

    D = 4
    weight = torch.from_numpy(rng.randn(D, D).astype(np.float32))
    bias = torch.from_numpy(rng.randn(D).astype(np.float32))
    x = torch.from_numpy(rng.randn(D).astype(np.float32))

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()

    out["jacrev"] = jacrev(predict, argnums=2)(weight, bias, x)
    out["jacfwd"] = jacfwd(predict, argnums=2)(weight, bias, x)
    out["jac_both"] = list(jacrev(predict, argnums=(0, 1))(weight, bias, x))
    out["batched_jac"] = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(
        weight, bias, x.expand(3, D) * torch.arange(1.0, 4.0).unsqueeze(1)
    )
    out["hessian"] = hessian(lambda x: predict(weight, bias, x).sum(), argnums=0)(x)
    _, vjp_fn = vjp(lambda x: predict(weight, bias, x), x)
    out["vjp"] = vjp_fn(torch.ones(D))[0]
    out["jvp"] = list(jvp(lambda x: predict(weight, bias, x), (x,), (torch.ones(D),)))

    def f(x):
        return (x.sin() * x).sum()

    out["hvp"] = list(torch.autograd.functional.hvp(f, x, torch.ones(D)))
    out["vmap_ops"] = vmap(lambda row: torch.dot(row, row))(weight)
    out["grad_grad"] = grad(grad(lambda t: t.sin()))(torch.tensor(0.3))
    return out
