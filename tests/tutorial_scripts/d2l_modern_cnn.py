"""Dive into Deep Learning, chapter 8 at small widths: VGG blocks built in a loop, NiN blocks
ending in AdaptiveAvgPool2d((1, 1)) and Flatten, a GoogLeNet Inception block joined with
torch.cat((p1, p2, p3, p4), dim=1), batch normalization from scratch (moving_mean =
momentum * moving_mean + (1.0 - momentum) * mean under torch.is_grad_enabled()) checked against
nn.BatchNorm2d/LazyBatchNorm1d, a ResNet Residual with use_1x1conv, a ResNeXt block with a
grouped convolution, and DenseNet dense and transition blocks; a few SGD steps."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


class Inception(nn.Module):
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.1)
        return Y


class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


class ResNeXtBlock(nn.Module):
    def __init__(self, num_channels, groups, bot_mul, use_1x1conv=False, strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1, stride=1)
        self.conv2 = nn.LazyConv2d(bot_channels, kernel_size=3, stride=strides, padding=1,
                                   groups=bot_channels // groups)
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.bn3 = nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)


def conv_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))


def train_steps(net, X, y, lr=0.05, steps=2):
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        l = F.cross_entropy(net(X), y)
        l.backward()
        opt.step()
        losses.append(l.item())
    net.eval()
    with torch.no_grad():
        out = net(X)
    return losses, out


def main(sync, workdir):
    rng = np.random.RandomState(0)
    X = torch.tensor(rng.rand(4, 3, 16, 16).astype(np.float32))
    y = torch.tensor(rng.randint(0, 5, 4))
    out = {}

    vgg = nn.Sequential(vgg_block(1, 4), vgg_block(2, 8), nn.Flatten(), nn.LazyLinear(16),
                        nn.ReLU(), nn.Dropout(0.0), nn.LazyLinear(5))
    vgg(X)
    sync(vgg)
    out["vgg"] = train_steps(vgg, X, y)

    nin = nn.Sequential(
        nin_block(4, kernel_size=5, strides=2, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(8, kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.0),
        nin_block(5, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten())
    nin(X)
    sync(nin)
    out["nin"] = train_steps(nin, X, y)

    inception = nn.Sequential(Inception(2, (3, 4), (1, 2), 2), Inception(4, (2, 4), (1, 3), 2),
                              nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(5))
    shape = list(inception[0](X).shape)
    inception(X)
    sync(inception)
    out["inception_shape"] = shape
    out["inception"] = train_steps(inception, X, y)

    bn_scratch = BatchNorm(4, num_dims=4)
    bn_ref = nn.BatchNorm2d(4)
    Z = torch.tensor(rng.randn(4, 4, 5, 5).astype(np.float32))
    with torch.no_grad():
        bn_ref.weight.copy_(torch.tensor(rng.rand(4).astype(np.float32)))
        bn_scratch.gamma.data = bn_ref.weight.data.reshape(1, 4, 1, 1).clone()
    ys = bn_scratch(Z)
    yr = bn_ref(Z)
    ys.sum().backward()
    with torch.no_grad():
        ys_eval = bn_scratch(Z)
    bn_ref.eval()
    out["bn"] = {
        "train_diff": (ys - yr).abs().max().item() < 1e-5,
        "scratch": ys,
        "gamma_grad": bn_scratch.gamma.grad.reshape(-1),
        "moving_mean": bn_scratch.moving_mean.reshape(-1),
        "ref_running_mean": bn_ref.running_mean,
        # torch's running_var is unbiased; the book's moving_var is not
        "moving_var": bn_scratch.moving_var.reshape(-1),
        "ref_running_var": bn_ref.running_var,
        "scratch_eval": ys_eval,
        "ref_eval": bn_ref(Z),
    }
    lenet_bn = nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.LazyLinear(12), nn.LazyBatchNorm1d(), nn.Sigmoid(), nn.LazyLinear(5))
    with torch.no_grad():  # the scratch BatchNorm's moving stats are not buffers: keep them
        lenet_bn(X)
    sync(lenet_bn)
    out["lenet_bn"] = train_steps(lenet_bn, X, y, lr=0.5)
    out["lenet_bn_state"] = sorted(lenet_bn.state_dict().keys())

    blk = Residual(3)
    out["res_shape"] = list(blk(X).shape)
    blk2 = Residual(6, use_1x1conv=True, strides=2)
    out["res2_shape"] = list(blk2(X).shape)
    resnet = nn.Sequential(
        nn.LazyConv2d(4, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
        Residual(4), Residual(8, use_1x1conv=True, strides=2),
        ResNeXtBlock(8, 2, 1), ResNeXtBlock(16, 4, 0.5, use_1x1conv=True, strides=2),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(5))
    resnet(X)
    sync(resnet)
    out["resnet"] = train_steps(resnet, X, y)
    out["resnext_groups"] = resnet[6].conv2.groups

    dense = DenseBlock(2, 3)
    out["dense_shape"] = list(dense(X).shape)
    densenet = nn.Sequential(
        nn.LazyConv2d(4, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        DenseBlock(2, 2), transition_block(4), DenseBlock(2, 2),
        nn.LazyBatchNorm2d(), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.LazyLinear(5))
    densenet(X)
    sync(densenet)
    out["densenet"] = train_steps(densenet, X, y)
    out["densenet_bn_running"] = densenet[1].running_mean
    return out
