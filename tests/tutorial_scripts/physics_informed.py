"""Physics-informed networks and neural ODEs from the scientific-ML courses: a PINN for Burgers'
equation with u_t, u_x and u_xx from torch.autograd.grad(create_graph=True,
grad_outputs=torch.ones_like(u)) on inputs concatenated with torch.cat, collocation points from
numpy, boundary/initial losses, a learnable PDE coefficient (inverse problem) passed through
torch.exp, Adam then a few LBFGS steps with a closure and strong_wolfe line search, an
ODE solved by a hand-written RK4 integrator with an nn.Module vector field, and a harmonic
oscillator's energy conservation error."""

import math

import numpy as np
import torch
import torch.nn as nn


class PINN(nn.Module):
    def __init__(self, layers=(2, 16, 16, 1)):
        super().__init__()
        modules = []
        for i in range(len(layers) - 2):
            modules += [nn.Linear(layers[i], layers[i + 1]), nn.Tanh()]
        modules.append(nn.Linear(layers[-2], layers[-1]))
        self.net = nn.Sequential(*modules)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)
        self.log_nu = nn.Parameter(torch.tensor([math.log(0.05)]))

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


def gradient(y, x):
    return torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), create_graph=True)[0]


def pde_residual(model, x, t):
    u = model(x, t)
    u_t = gradient(u, t)
    u_x = gradient(u, x)
    u_xx = gradient(u_x, x)
    nu = torch.exp(model.log_nu)
    return u_t + u * u_x - nu * u_xx


class ODEFunc(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, t, y):
        return self.net(y)


def rk4(func, y0, t):
    ys = [y0]
    y = y0
    for i in range(len(t) - 1):
        h = t[i + 1] - t[i]
        k1 = func(t[i], y)
        k2 = func(t[i] + h / 2, y + h / 2 * k1)
        k3 = func(t[i] + h / 2, y + h / 2 * k2)
        k4 = func(t[i] + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(PINN())
    x_f = torch.tensor(rng.uniform(-1, 1, (64, 1)), dtype=torch.float32, requires_grad=True)
    t_f = torch.tensor(rng.uniform(0, 1, (64, 1)), dtype=torch.float32, requires_grad=True)
    x_0 = torch.linspace(-1, 1, 16).unsqueeze(1)
    u_0 = -torch.sin(math.pi * x_0)
    t_b = torch.tensor(rng.uniform(0, 1, (16, 1)), dtype=torch.float32)
    x_b = torch.cat([-torch.ones(8, 1), torch.ones(8, 1)])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_fn():
        f = pde_residual(model, x_f, t_f)
        loss_f = torch.mean(f**2)
        loss_0 = torch.mean((model(x_0, torch.zeros_like(x_0)) - u_0) ** 2)
        loss_b = torch.mean(model(x_b, t_b) ** 2)
        return loss_f + loss_0 + loss_b, (loss_f, loss_0, loss_b)

    history = []
    for it in range(4):
        optimizer.zero_grad()
        loss, parts = loss_fn()
        loss.backward()
        optimizer.step()
        history.append([loss.item()] + [p.item() for p in parts])

    lbfgs = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=4, history_size=5,
                              line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        lbfgs.zero_grad()
        loss, _ = loss_fn()
        loss.backward()
        return loss

    lbfgs_losses = [lbfgs.step(closure).item() for _ in range(2)]
    out = {
        "history": history,
        "lbfgs": lbfgs_losses,
        "nu": torch.exp(model.log_nu).item(),
        "u_xx_grad_of_input": x_f.grad,  # left None: autograd.grad does not fill .grad
    }
    x = torch.tensor([[0.3], [-0.2]], requires_grad=True)
    t = torch.tensor([[0.5], [0.1]], requires_grad=True)
    u = model(x, t)
    u_x = gradient(u, x)
    u_xx = gradient(u_x, x)
    u_xxx = torch.autograd.grad(u_xx.sum(), x)[0]
    out["derivatives"] = [u, u_x, u_xx, u_xxx]

    # a neural ODE fitted to a harmonic oscillator's trajectory, through the RK4 steps
    func = sync(ODEFunc())
    t = torch.linspace(0.0, 2.0, 11)
    true_y = torch.stack([torch.cos(t), -torch.sin(t)], dim=1)
    y0 = true_y[0]
    opt = torch.optim.RMSprop(func.parameters(), lr=1e-2)
    ode_losses = []
    for it in range(4):
        opt.zero_grad()
        pred_y = rk4(func, y0, t)
        loss = torch.mean(torch.abs(pred_y - true_y))
        loss.backward()
        opt.step()
        ode_losses.append(loss.item())
    with torch.no_grad():
        traj = rk4(func, y0, t)
        energy = 0.5 * (traj**2).sum(1)
    out["ode"] = [ode_losses, traj[-1], (energy - energy[0]).abs().max()]
    return out
