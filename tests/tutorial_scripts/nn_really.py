"""'What is torch.nn really?': from hand-written weights to nn.Module, optim, DataLoader, CNN."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset


def make_data():
    rng = np.random.RandomState(0)
    x = rng.rand(120, 64).astype(np.float32)
    y = (x[:, :8].sum(1) * 10 / 8).astype(np.int64) % 10
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (x[:80], y[:80], x[80:], y[80:]))
    return x_train, y_train, x_valid, y_valid, rng


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(64, 10) / math.sqrt(64))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    history = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        history.append(float(val_loss))
    return history


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl = dl
        self.func = func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for b in self.dl:
            yield self.func(*b)


def main(sync, workdir):
    x_train, y_train, x_valid, y_valid, rng = make_data()
    n, c = x_train.shape
    out = {"n_c": [n, c], "y_min_max": [int(y_train.min()), int(y_train.max())]}
    bs, lr = 16, 0.5

    # hand-written model
    weights = torch.tensor(rng.randn(64, 10).astype(np.float32)) / math.sqrt(64)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    for epoch in range(2):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            loss = nll(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    out["manual"] = [nll(model(x_valid), y_valid), accuracy(model(x_valid), y_valid)]
    out["cross_entropy_same"] = torch.allclose(
        F.cross_entropy(xb @ weights + bias, yb), nll(model(xb), yb), atol=1e-6
    )

    # nn.Module with nn.Parameter, then nn.Linear, then optim
    logistic = sync(Mnist_Logistic())
    opt = optim.SGD(logistic.parameters(), lr=lr)
    train_ds = TensorDataset(x_train, y_train)
    train_dl = DataLoader(train_ds, batch_size=bs)
    valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
    out["logistic"] = fit(2, logistic, F.cross_entropy, opt, train_dl, valid_dl)
    out["logistic_weights"] = logistic.weights

    linear = sync(nn.Linear(64, 10))
    opt = optim.SGD(linear.parameters(), lr=lr, momentum=0.9)
    out["linear"] = fit(2, linear, F.cross_entropy, opt, train_dl, valid_dl)

    # CNN through nn.Sequential, a Lambda layer and a wrapped loader
    def preprocess(x, y):
        return x.view(-1, 1, 8, 8), y

    train_wdl = WrappedDataLoader(train_dl, preprocess)
    valid_wdl = WrappedDataLoader(valid_dl, preprocess)
    cnn = sync(
        nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 8, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 10, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            Lambda(lambda x: x.view(x.size(0), -1)),
        )
    )
    opt = optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
    out["cnn"] = fit(2, cnn, F.cross_entropy, opt, train_wdl, valid_wdl)
    xb, _ = next(iter(valid_wdl))
    out["cnn_out"] = cnn(xb)
    out["pool_out"] = F.avg_pool2d(xb, 4)
    out["len"] = [len(train_ds), len(train_wdl), len(train_ds[0])]
    return out
