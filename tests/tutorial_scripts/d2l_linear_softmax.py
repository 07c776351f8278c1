"""Dive into Deep Learning, chapters 3-4: linear regression from scratch (torch.normal data,
requires_grad_(), a data_iter generator, manual minibatch SGD under torch.no_grad() with
param -= lr * param.grad / batch_size and param.grad.zero_()), the concise version with
net[0].weight.data.normal_ / bias.data.fill_, softmax regression from scratch
(y_hat[range(len(y_hat)), y], gather, an Accumulator, argmax(axis=1) accuracy) and concise
with init_weights applied through net.apply."""

import numpy as np
import torch
from torch import nn
from torch.utils import data


class Accumulator:
    """For accumulating sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def synthetic_data(w, b, noise):
    """Generate y = Xw + b + noise (the noise given, for both frameworks)."""
    X = torch.tensor(noise[:, :-1])
    y = torch.matmul(X, w) + b
    y += torch.tensor(noise[:, -1]) * 0.01
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels, order):
    num_examples = len(features)
    indices = list(order)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def linear_from_scratch(rng):
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, rng.randn(100, 3).astype(np.float32))
    w = torch.tensor(rng.normal(0, 0.01, (2, 1)).astype(np.float32), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr, num_epochs, batch_size = 0.03, 3, 10
    losses = []
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, rng.permutation(100)):
            l = squared_loss(linreg(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = squared_loss(linreg(features, w, b), labels)
            losses.append(float(train_l.mean()))
    return {
        "losses": losses,
        "w_err": true_w - w.reshape(true_w.shape),
        "b_err": true_b - b,
        "first_row": features[0],
        "label_dtype": str(labels.dtype),
    }


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def linear_concise(sync, rng):
    true_w = torch.tensor([2, -3.4])
    features, labels = synthetic_data(true_w, 4.2, rng.randn(60, 3).astype(np.float32))
    data_iter_ = load_array((features, labels), 10, is_train=False)
    first = next(iter(data_iter_))
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    sync(net)
    loss = nn.MSELoss()
    huber = nn.HuberLoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    history = []
    for epoch in range(3):
        for X, y in data_iter_:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        history.append(f"epoch {epoch + 1}, loss {l:f}")
    return {
        "history_len": len(history),
        "final": float(loss(net(features), labels).detach()),
        "huber": huber(net(features), labels),
        "w": net[0].weight.data,
        "b": net[0].bias.data,
        "grad": net[0].weight.grad,
        "first_batch": first[0].shape[0],
    }


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter_):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter_:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def softmax_from_scratch(rng):
    num_inputs, num_outputs = 16, 4
    x = rng.rand(80, 1, 4, 4).astype(np.float32)
    y = (x.reshape(80, -1)[:, :4].argmax(1)).astype(np.int64)
    train_iter = load_array((torch.tensor(x), torch.tensor(y)), 16, is_train=False)
    W = torch.tensor(rng.normal(0, 0.01, (num_inputs, num_outputs)).astype(np.float32))
    W.requires_grad_()
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    y_hat_demo = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y_demo = torch.tensor([0, 2])
    picked = y_hat_demo[[0, 1], y_demo]
    gathered = y_hat_demo.gather(1, y_demo.view(-1, 1))
    acc_before = evaluate_accuracy(net, train_iter)
    metrics = []
    for epoch in range(3):
        metric = Accumulator(3)
        for X, yb in train_iter:
            y_hat = net(X)
            l = cross_entropy(y_hat, yb)
            l.sum().backward()
            sgd([W, b], 0.5, X.shape[0])
            metric.add(float(l.sum()), accuracy(y_hat, yb), yb.numel())
        metrics.append([metric[0] / metric[2], metric[1] / metric[2]])
    return {
        "picked": picked,
        "gathered": gathered,
        "demo_ce": cross_entropy(y_hat_demo, y_demo),
        "demo_acc": accuracy(y_hat_demo, y_demo) / len(y_demo),
        "acc_before": acc_before,
        "metrics": metrics,
        "acc_after": evaluate_accuracy(net, train_iter),
        "row_sums": softmax(torch.tensor(rng.randn(2, 5).astype(np.float32))).sum(1),
    }


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def softmax_concise(sync, rng):
    x = rng.rand(64, 1, 4, 4).astype(np.float32)
    y = (x.reshape(64, -1)[:, 4:8].argmax(1)).astype(np.int64)
    train_iter = load_array((torch.tensor(x), torch.tensor(y)), 16, is_train=False)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    net.apply(init_weights)
    sync(net)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in range(3):
        net.train()
        for X, yb in train_iter:
            l = loss(net(X), yb)
            trainer.zero_grad()
            l.mean().backward()
            trainer.step()
    return {
        "acc": evaluate_accuracy(net, train_iter),
        "weight": net[1].weight,
        "training": net.training,
        "std_ok": bool(float(net[1].weight.std()) < 1.0),
    }


def main(sync, workdir):
    rng = np.random.RandomState(0)
    return {
        "linear_scratch": linear_from_scratch(rng),
        "linear_concise": linear_concise(sync, rng),
        "softmax_scratch": softmax_from_scratch(rng),
        "softmax_concise": softmax_concise(sync, rng),
    }
