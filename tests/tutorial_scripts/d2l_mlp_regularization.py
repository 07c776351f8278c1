"""Dive into Deep Learning, chapter 5: an MLP from scratch (nn.Parameter(torch.randn(...) * 0.01),
a hand-written relu with torch.max against zeros_like, X.reshape((-1, num_inputs)), X @ W1),
dropout from scratch (the mask given instead of torch.rand for determinism), the concise
Sequential with nn.Dropout in eval mode, weight decay by hand with l2_penalty =
torch.sum(w.pow(2)) / 2, and weight decay through per-group options
{"params": net[0].weight, "weight_decay": wd}; plus numerical stability (sigmoid gradients,
a product of random matrices)."""

import numpy as np
import torch
from torch import nn


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def dropout_layer(X, dropout, mask_source):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    # torch.rand(X.shape) in the book; the same uniforms on both frameworks here
    mask = (torch.tensor(mask_source[: X.numel()]).reshape(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


class MLPScratch(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_inputs = num_inputs
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))

    def forward(self, X):
        X = X.reshape((-1, self.num_inputs))
        H = relu(torch.matmul(X, self.W1) + self.b1)
        return torch.matmul(H, self.W2) + self.b2


class DropoutMLPScratch(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1,
                 dropout_2, masks):
        super().__init__()
        self.num_inputs = num_inputs
        self.lin1 = nn.LazyLinear(num_hiddens_1)
        self.lin2 = nn.LazyLinear(num_hiddens_2)
        self.lin3 = nn.LazyLinear(num_outputs)
        self.relu = nn.ReLU()
        self.dropout_1, self.dropout_2 = dropout_1, dropout_2
        self.masks = masks

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((X.shape[0], -1))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout_1, self.masks[0])
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout_2, self.masks[1])
        return self.lin3(H2)


def make_data(rng, n=48):
    x = rng.rand(n, 1, 4, 4).astype(np.float32)
    y = (x.reshape(n, -1)[:, :3].sum(1) * 1.3).astype(np.int64) % 3
    return torch.tensor(x), torch.tensor(y)


def mlp_scratch(sync, rng):
    X, y = make_data(rng)
    model = sync(MLPScratch(16, 3, 8, sigma=0.5))
    loss = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for epoch in range(4):
        l = loss(model(X), y)
        opt.zero_grad()
        l.backward()
        opt.step()
        losses.append(l.item())
    return {
        "losses": losses,
        "relu": relu(torch.tensor([-1.0, 0.0, 2.0])),
        "names": [n for n, _ in model.named_parameters()],
    }


def dropout_scratch(sync, rng):
    masks = [rng.rand(48 * 8).astype(np.float32), rng.rand(48 * 6).astype(np.float32)]
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    demo = [dropout_layer(X, p, masks[0]) for p in (0.0, 0.5, 1.0)]
    x, y = make_data(rng)
    model = DropoutMLPScratch(3, 3, 8, 6, 0.5, 0.2, masks)
    model(x)  # materialise the lazy layers
    sync(model)
    trainer = torch.optim.SGD(model.parameters(), lr=0.2)
    loss = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(3):
        model.train()
        l = loss(model(x), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
        losses.append(l.item())
    model.eval()
    with torch.no_grad():
        eval_out = model(x)
    concise = sync(nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(8, 3)))
    concise.eval()
    return {
        "demo": demo,
        "losses": losses,
        "eval_out": eval_out,
        "concise_eval": concise(x),
        "lin1_in": model.lin1.in_features,
        "lin1_shape": list(model.lin1.weight.shape),
    }


def init_params(rng, num_inputs):
    w = torch.tensor(rng.normal(0, 1, (num_inputs, 1)).astype(np.float32), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def weight_decay(sync, rng):
    n_train, num_inputs, batch_size = 20, 50, 5
    true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
    X = torch.tensor(rng.normal(0, 1, (n_train, num_inputs)).astype(np.float32))
    y = torch.matmul(X, true_w) + true_b + torch.tensor(
        rng.normal(0, 0.01, (n_train, 1)).astype(np.float32))
    out = {}
    for lambd in (0, 3):
        w, b = init_params(np.random.RandomState(1), num_inputs)
        for epoch in range(5):
            for i in range(0, n_train, batch_size):
                Xb, yb = X[i : i + batch_size], y[i : i + batch_size]
                l = (torch.matmul(Xb, w) + b - yb) ** 2 / 2 + lambd * l2_penalty(w)
                l.sum().backward()
                with torch.no_grad():
                    for param in (w, b):
                        param -= 0.003 * param.grad / batch_size
                        param.grad.zero_()
        out[f"scratch_l2_norm_{lambd}"] = torch.norm(w).item()

    for wd in (0, 3):
        net = nn.Sequential(nn.Linear(num_inputs, 1))
        for param in net.parameters():
            param.data.normal_()
        sync(net)
        loss = nn.MSELoss(reduction="none")
        trainer = torch.optim.SGD([
            {"params": net[0].weight, "weight_decay": wd},
            {"params": net[0].bias}], lr=0.003)
        for epoch in range(5):
            for i in range(0, n_train, batch_size):
                trainer.zero_grad()
                l = loss(net(X[i : i + batch_size]), y[i : i + batch_size])
                l.mean().backward()
                trainer.step()
        out[f"concise_w_norm_{wd}"] = net[0].weight.norm().item()
        out[f"groups_{wd}"] = [g["weight_decay"] for g in trainer.param_groups]
    return out


def numerical_stability(rng):
    x = torch.arange(-8.0, 8.0, 0.5, requires_grad=True)
    y = torch.sigmoid(x)
    y.backward(torch.ones_like(x))
    M = torch.tensor(rng.normal(size=(4, 4)).astype(np.float32))
    for i in range(20):
        M = torch.mm(M, torch.tensor(rng.normal(size=(4, 4)).astype(np.float32)))
    return {"sigmoid_grad": x.grad, "product_log_abs": torch.log(M.abs()).mean()}


def main(sync, workdir):
    rng = np.random.RandomState(0)
    return {
        "mlp": mlp_scratch(sync, rng),
        "dropout": dropout_scratch(sync, rng),
        "weight_decay": weight_decay(sync, rng),
        "stability": numerical_stability(rng),
    }
