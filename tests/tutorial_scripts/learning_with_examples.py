"""'Learning PyTorch with examples': fitting sin(x) with a third-order polynomial four ways —
raw tensors with manual gradients, autograd, nn.Sequential with Flatten(0, 1), optim — plus a
custom Function and a dynamic-graph module that reuses a layer a varying number of times."""

import math
import random

import torch

TOLERANCE = {"rtol": 3e-4, "atol": 1e-4}


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.zeros(()))
        self.b = torch.nn.Parameter(torch.zeros(()))
        self.c = torch.nn.Parameter(torch.zeros(()))
        self.d = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x**2 + self.d * x**3

    def string(self):
        return (
            f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"
        )


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.full((), 0.1))
        self.b = torch.nn.Parameter(torch.full((), -0.2))
        self.c = torch.nn.Parameter(torch.full((), 0.05))
        self.d = torch.nn.Parameter(torch.full((), 0.3))
        self.e = torch.nn.Parameter(torch.full((), -0.01))

    def forward(self, x, rng):
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, rng.randint(4, 6)):
            y = y + self.e * x**exp
        return y


def main(sync, workdir):
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 200, device=device, dtype=dtype)
    y = torch.sin(x)
    out = {}

    # tensors, gradients by hand
    a, b, c, d = (torch.full((), v, device=device, dtype=dtype) for v in (0.1, -0.3, 0.2, 0.05))
    learning_rate = 1e-6
    for t in range(200):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    out["manual"] = [loss, a.item(), b.item(), c.item(), d.item()]

    # autograd
    a, b, c, d = (
        torch.full((), v, dtype=dtype, requires_grad=True) for v in (0.1, -0.3, 0.2, 0.05)
    )
    for t in range(200):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    out["autograd"] = [loss.item(), a, b, c, d]

    # nn
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    out["xx"] = [list(xx.shape), str(xx.dtype)]
    model = sync(torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    for t in range(100):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    out["nn"] = [
        loss.item(),
        linear_layer.bias.item(),
        linear_layer.weight[:, 0].item(),
        linear_layer.weight[:, 2].item(),
    ]

    model = sync(torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for t in range(100):
        loss = loss_fn(model(xx), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out["optim"] = [loss.item(), model[0].weight]

    poly = sync(Polynomial3())
    optimizer = torch.optim.SGD(poly.parameters(), lr=1e-6, momentum=0.9)
    for t in range(100):
        loss = loss_fn(poly(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out["module"] = [
        loss.item(),
        poly.string().split(" = ")[0],
        [round(float(v), 4) for v in poly.string().split()[2::3] if not v.startswith("x")],
    ]

    dyn = sync(DynamicNet())
    rng = random.Random(0)
    optimizer = torch.optim.SGD(dyn.parameters(), lr=1e-8, momentum=0.9)
    for t in range(60):
        loss = loss_fn(dyn(x, rng), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out["dynamic"] = [loss.item(), dyn.e, dyn.a.grad]
    return out
