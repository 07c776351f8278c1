"""Dive into Deep Learning, chapter 6 (builder's guide): a MySequential storing children through
self._modules[str(idx)], a FixedHiddenMLP with a constant torch.rand weight and a while loop on
X.abs().sum(), nested blocks, parameter access (net[2].state_dict(), net[2].bias.data,
named_parameters, *[(name, param.shape) ...], net.state_dict()['2.bias'].data), tied
parameters, nn.init via apply (normal_, constant_, zeros_, xavier_uniform_, uniform_ and the
custom m.weight.data *= m.weight.data.abs() >= 5), lazy layers, custom layers (CenteredLayer,
MyLinear) and torch.save/torch.load of tensors, lists, dicts and state_dicts."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.LazyLinear(256 // 16)
        self.output = nn.LazyLinear(10)

    def forward(self, X):
        return self.output(F.relu(self.hidden(X)))


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, X):
        for module in self._modules.values():
            X = module(X)
        return X


class FixedHiddenMLP(nn.Module):
    def __init__(self, rand_weight):
        super().__init__()
        # torch.rand((20, 20)) in the book: a constant that is not a parameter
        self.rand_weight = rand_weight
        self.linear = nn.LazyLinear(20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        X = self.linear(X)  # reuse the fully connected layer: shared parameters
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(8), nn.ReLU())
        self.linear = nn.LazyLinear(4)

    def forward(self, X):
        return self.linear(self.net(X))


class CenteredLayer(nn.Module):
    def forward(self, X):
        return X - X.mean()


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)


def layers_and_modules(sync, rng):
    X = torch.tensor(rng.rand(2, 20).astype(np.float32))
    net = nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(10))
    net(X)
    sync(net)
    mlp = MLP()
    mlp(X)
    sync(mlp)
    myseq = MySequential(nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(10))
    myseq(X)
    sync(myseq)
    fixed = FixedHiddenMLP(torch.tensor(rng.rand(20, 20).astype(np.float32)))
    fixed(X)
    sync(fixed)
    chimera = nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP(
        torch.tensor(rng.rand(20, 20).astype(np.float32))))
    chimera(X)
    sync(chimera)
    return {
        "seq": net(X),
        "mlp": mlp(X),
        "myseq": myseq(X),
        "myseq_keys": list(myseq.state_dict().keys()),
        "fixed": fixed(X),
        "fixed_params": [n for n, _ in fixed.named_parameters()],
        "chimera": chimera(X),
        "chimera_repr": repr(chimera[0].net),
    }


def parameter_management(sync, rng):
    X = torch.tensor(rng.rand(2, 4).astype(np.float32))
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    net(X)
    sync(net)
    sd = net[2].state_dict()
    out = {
        "state_keys": list(sd.keys()),
        "bias_type": str(type(net[2].bias).__name__),
        "bias_data": net[2].bias.data,
        "grad_is_none": net[2].weight.grad is None,
        "named": [(name, list(param.shape)) for name, param in net.named_parameters()],
        "named_star": str([*[(name, param.shape) for name, param in net[0].named_parameters()]]),
        "sd_bias": net.state_dict()["2.bias"].data,
        "num_params": sum(p.numel() for p in net.parameters()),
    }

    def block1():
        return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(4), nn.ReLU())

    def block2():
        net = nn.Sequential()
        for i in range(4):
            net.add_module(f"block {i}", block1())
        return net

    rgnet = nn.Sequential(block2(), nn.LazyLinear(1))
    rgnet(X)
    sync(rgnet)
    out["rgnet"] = rgnet(X)
    out["rgnet_repr"] = repr(rgnet)
    out["rgnet_bias"] = rgnet[0][1][0].bias.data

    shared = nn.LazyLinear(8)
    tied = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                         nn.LazyLinear(1))
    tied(X)
    sync(tied)
    same_before = bool((tied[2].weight.data[0] == tied[4].weight.data[0]).all())
    tied[2].weight.data[0, 0] = 100
    same_after = bool((tied[2].weight.data[0] == tied[4].weight.data[0]).all())
    tied(X).sum().backward()
    out["tied"] = [same_before, same_after, len(list(tied.parameters())),
                   len(tied.state_dict())]
    out["tied_grad"] = tied[2].weight.grad
    return out


def init_normal(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, mean=0, std=0.01)
        nn.init.zeros_(m.bias)


def init_constant(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 1)
        nn.init.zeros_(m.bias)


def init_xavier(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)


def init_42(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 42)


def my_init(m, names):
    if type(m) == nn.Linear:
        names.append(("Init", *[(name, param.shape) for name, param in m.named_parameters()][0]))
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() >= 5


def initialization(sync, rng):
    X = torch.tensor(rng.rand(2, 4).astype(np.float32))
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    net(X)
    net.apply(init_normal)
    normal_ok = [float(net[0].weight.data.abs().max()) < 0.1, net[0].bias.data]
    net.apply(init_constant)
    constant = [net[0].weight.data[0].clone(), net[0].bias.data[0].clone()]
    view = net[0].weight.data[0]  # a view: later in-place inits show through
    net[0].apply(init_xavier)
    net[2].apply(init_42)
    bound = (6 / (4 + 8)) ** 0.5
    w42 = net[2].weight.data.clone()
    xavier_ok = float(net[0].weight.data.abs().max()) <= bound
    names = []
    net.apply(lambda m: my_init(m, names))
    masked = net[0].weight.data
    zeros_or_big = bool(((masked == 0) | (masked.abs() >= 5)).all())
    net[0].weight.data[:] += 1
    net[0].weight.data[0, 0] = 42
    return {
        "normal": normal_ok,
        "constant": constant,
        "xavier_ok": xavier_ok,
        "w42": w42,
        "names": str(names),
        "zeros_or_big": zeros_or_big,
        "corner": net[0].weight.data[0, 0],
        "view_sees_updates": bool((view == net[0].weight.data[0]).all()),
    }


def lazy_and_custom(sync, rng):
    net = nn.Sequential(nn.LazyLinear(6), nn.ReLU(), nn.LazyLinear(3))
    before = str(net[0].weight)
    X = torch.tensor(rng.rand(2, 5).astype(np.float32))
    net(X)
    sync(net)
    layer = CenteredLayer()
    centered = layer(torch.tensor([1.0, 2, 3, 4, 5]))
    cnet = nn.Sequential(nn.LazyLinear(8), CenteredLayer())
    cnet(X)
    sync(cnet)
    Y = cnet(torch.tensor(rng.rand(4, 5).astype(np.float32)))
    linear = sync(MyLinear(5, 3))
    mynet = sync(nn.Sequential(MyLinear(5, 4), MyLinear(4, 1)))
    return {
        "before": before,
        "after_shape": list(net[0].weight.shape),
        "type": type(net[0]).__name__,
        "out": net(X),
        "centered": centered,
        "Y_mean": abs(Y.mean().item()) < 1e-6,
        "mylinear": linear(X),
        "mylinear_weight": linear.weight,
        "mynet": mynet(X),
    }


def file_io(sync, rng, workdir):
    x = torch.arange(4)
    torch.save(x, workdir / "x-file")
    x2 = torch.load(workdir / "x-file")
    y = torch.zeros(4)
    torch.save([x, y], workdir / "x-files")
    x3, y3 = torch.load(workdir / "x-files")
    mydict = {"x": x, "y": y}
    torch.save(mydict, workdir / "mydict")
    mydict2 = torch.load(workdir / "mydict")
    X = torch.tensor(rng.rand(2, 20).astype(np.float32))
    net = MLP()
    net(X)
    sync(net)
    Y = net(X)
    torch.save(net.state_dict(), workdir / "mlp.params")
    clone = MLP()
    clone(X)
    clone.load_state_dict(torch.load(workdir / "mlp.params"))
    clone.eval()
    Y_clone = clone(X)
    return {
        "x2": x2,
        "x3y3": [x3, y3],
        "mydict": mydict2,
        "same": bool((Y_clone == Y).all()),
        "repr": repr(clone),
    }


def main(sync, workdir):
    rng = np.random.RandomState(0)
    return {
        "layers": layers_and_modules(sync, rng),
        "params": parameter_management(sync, rng),
        "init": initialization(sync, rng),
        "lazy_custom": lazy_and_custom(sync, rng),
        "io": file_io(sync, rng, workdir),
    }
