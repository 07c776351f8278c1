"""Dive into Deep Learning, chapter 7: cross-correlation from scratch (corr2d with loops over
Y[i, j] = (X[i:i + h, j:j + w] * K).sum()), a Conv2D module around it, edge detection and
learning the kernel with nn.LazyConv2d(1, kernel_size=(1, 2), bias=False) and
conv2d.weight.data[:] -= lr * conv2d.weight.grad, padding and stride shape arithmetic,
multiple input/output channels (sum(corr2d(x, k) for x, k in zip(X, K)), torch.stack), 1x1
convolution as a matmul, pooling from scratch with .max()/.mean(), nn.MaxPool2d(3, padding=1,
stride=2) and LeNet with a shape walk over net.children() and a short training loop."""

import numpy as np
import torch
from torch import nn


def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


class Conv2D(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


def corr2d_multi_in(X, K):
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = torch.matmul(K, X)
    return Y.reshape((c_o, h, w))


def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i : i + p_h, j : j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i : i + p_h, j : j + p_w].mean()
    return Y


def comp_conv2d(conv2d, X):
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    return Y.reshape(Y.shape[2:])


def basics(sync, rng):
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    edges = torch.ones((6, 8))
    edges[:, 2:6] = 0
    K_edge = torch.tensor([[1.0, -1.0]])
    Y = corr2d(edges, K_edge)
    layer = Conv2D(torch.tensor(rng.rand(1, 2).astype(np.float32)))
    scratch_out = layer(edges)
    scratch_out.sum().backward()

    conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)
    Xb = edges.reshape((1, 1, 6, 8))
    Yb = Y.reshape((1, 1, 6, 7))
    conv2d(Xb)
    sync(conv2d)
    lr = 3e-2
    losses = []
    for i in range(10):
        Y_hat = conv2d(Xb)
        l = (Y_hat - Yb) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        if (i + 1) % 2 == 0:
            losses.append(f"epoch {i + 1}, loss {l.sum():.3f}")
    Xs = torch.tensor(rng.rand(8, 8).astype(np.float32))
    shapes = [
        list(comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1), Xs).shape),
        list(comp_conv2d(nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1)), Xs).shape),
        list(comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), Xs).shape),
        list(comp_conv2d(nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)),
                         Xs).shape),
    ]
    return {
        "corr": corr2d(X, K),
        "edges": Y,
        "transposed": corr2d(edges.t(), K_edge),
        "scratch_grad": [layer.weight.grad, layer.bias.grad],
        "losses": losses,
        "learned": conv2d.weight.data.reshape((1, 2)),
        "shapes": shapes,
    }


def channels(rng):
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    K3 = torch.stack((K, K + 1, K + 2), 0)
    X1 = torch.tensor(rng.normal(0, 1, (3, 3, 3)).astype(np.float32))
    K1 = torch.tensor(rng.normal(0, 1, (2, 3, 1, 1)).astype(np.float32))
    Y1 = corr2d_multi_in_out_1x1(X1, K1)
    Y2 = corr2d_multi_in_out(X1, K1)
    via_conv = torch.nn.functional.conv2d(X1.unsqueeze(0), K1).squeeze(0)
    return {
        "multi_in": corr2d_multi_in(X, K),
        "K3_shape": list(K3.shape),
        "multi_in_out": corr2d_multi_in_out(X, K3),
        "max_diff": float(torch.abs(Y1 - Y2).sum()) < 1e-5,
        "conv_1x1": via_conv,
        "matmul_1x1": Y1,
    }


def pooling():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    X16 = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))
    pool3 = nn.MaxPool2d(3)
    X2 = torch.cat((X16, X16 + 1), 1)
    return {
        "max": pool2d(X, (2, 2)),
        "avg": pool2d(X, (2, 2), "avg"),
        "pool3": pool3(X16),
        "pool3_pad": nn.MaxPool2d(3, padding=1, stride=2)(X16),
        "pool_rect": nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))(X16),
        "multi_channel": nn.MaxPool2d(3, padding=1, stride=2)(X2),
        "avg_pool": nn.AvgPool2d(2)(X2),
    }


def init_cnn(module):
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


def lenet(sync, rng):
    net = nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(24), nn.Sigmoid(),
        nn.LazyLinear(16), nn.Sigmoid(),
        nn.LazyLinear(4))
    X = torch.tensor(rng.rand(8, 1, 28, 28).astype(np.float32))
    summary = []
    for layer in net:
        X = layer(X)
        summary.append(f"{layer.__class__.__name__} output shape:\t{X.shape}")
    net.apply(init_cnn)
    sync(net)
    y = torch.tensor(rng.randint(0, 4, 8))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
    loss = nn.CrossEntropyLoss()
    inputs = torch.tensor(rng.rand(8, 1, 28, 28).astype(np.float32))
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        l = loss(net(inputs), y)
        l.backward()
        optimizer.step()
        losses.append(l.item())
    return {"summary": summary, "losses": losses,
            "children": [type(c).__name__ for c in net.children()]}


def main(sync, workdir):
    rng = np.random.RandomState(0)
    return {
        "basics": basics(sync, rng),
        "channels": channels(rng),
        "pooling": pooling(),
        "lenet": lenet(sync, rng),
    }
