"""Common training-loop idioms: gradient accumulation, clipping, a custom autograd.Function,
ModuleDict/ParameterList, forward/backward hooks, weight init, GradScaler when AMP is off."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class ScaledLinearFn(torch.autograd.Function):
    """Two inputs, a non-tensor argument, needs_input_grad and a None gradient."""

    @staticmethod
    def forward(ctx, x, weight, scale):
        ctx.save_for_backward(x, weight)
        ctx.scale = scale
        return x.mm(weight.t()) * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output.mm(weight) * ctx.scale
        if ctx.needs_input_grad[1]:
            grad_w = grad_output.t().mm(x) * ctx.scale
        return grad_x, grad_w, None


class MultiHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(6, 8), nn.Tanh())
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(2)])
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        self.calls += 1
        h = self.trunk(x)
        for block, scale in zip(self.blocks, self.scales):
            h = h + scale * MyReLU.apply(block(h))
        return {name: head(h) for name, head in self.heads.items()}


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    model = MultiHead()
    model.apply(init_weights)
    model = sync(model)
    out["names"] = [n for n, _ in model.named_parameters()]
    out["modules"] = [n for n, _ in model.named_modules()]
    out["children"] = [type(c).__name__ for c in model.children()]

    features = {}

    def get_activation(name):
        def hook(model, input, output):
            features[name] = output.detach()

        return hook

    handle = model.trunk.register_forward_hook(get_activation("trunk"))
    pre_inputs = []
    pre = model.heads["cls"].register_forward_pre_hook(
        lambda m, inp: pre_inputs.append(inp[0].shape)
    )
    grads_seen = []
    bwd = model.heads["reg"].register_full_backward_hook(
        lambda m, gin, gout: grads_seen.append(gout[0].detach().clone())
    )

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    scaler = torch.amp.GradScaler("cuda", enabled=False)  # AMP off on the CPU: a pass-through
    accumulation_steps = 3
    losses, norms = [], []
    optimizer.zero_grad()
    for i in range(6):
        x = torch.from_numpy(rng.randn(4, 6).astype(np.float32))
        y = torch.from_numpy(rng.randint(0, 3, size=4))
        target = torch.from_numpy(rng.randn(4, 1).astype(np.float32))
        outputs = model(x)
        loss = F.cross_entropy(outputs["cls"], y) + F.mse_loss(outputs["reg"], target)
        loss = loss / accumulation_steps
        scaler.scale(loss).backward()
        losses.append(loss.item())
        if (i + 1) % accumulation_steps == 0:
            scaler.unscale_(optimizer)
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5))
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
    handle.remove()
    pre.remove()
    bwd.remove()
    model(torch.zeros(1, 6))
    out["losses"] = losses
    out["norms"] = norms
    out["features"] = features["trunk"]
    out["pre_inputs"] = [list(s) for s in pre_inputs]
    out["grads_seen"] = grads_seen
    out["calls"] = model.calls
    out["scale"] = scaler.get_scale()
    out["weights"] = model.state_dict()

    # custom functions against autograd's own
    x = torch.linspace(-1.0, 1.0, 7, requires_grad=True)
    P3 = LegendrePolynomial3.apply
    y = P3(x).sum()
    y.backward()
    out["legendre_grad"] = x.grad
    w = torch.tensor(rng.randn(3, 4).astype(np.float32), requires_grad=True)
    inp = torch.tensor(rng.randn(2, 4).astype(np.float32))
    z = ScaledLinearFn.apply(inp, w, 0.5)
    z.pow(2).sum().backward()
    out["scaled_linear"] = [z, w.grad, inp.grad is None]
    out["gradcheck"] = torch.autograd.gradcheck(
        ScaledLinearFn.apply,
        (inp.double().requires_grad_(), w.double().detach().requires_grad_(), 2.0),
    )

    # nn.init on shapes and statistics (values depend on the generator)
    t = torch.empty(64, 32)
    nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    out["kaiming_std_ok"] = abs(t.std().item() - math.sqrt(2 / 64)) < 0.03
    nn.init.kaiming_uniform_(t, a=math.sqrt(5))
    out["kaiming_bound_ok"] = t.abs().max().item() <= 1 / math.sqrt(32) + 1e-6
    nn.init.orthogonal_(t)
    out["orthogonal"] = torch.allclose(t.t() @ t, torch.eye(32), atol=1e-4)
    nn.init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04)
    out["trunc_ok"] = t.abs().max().item() <= 0.04
    nn.init.constant_(t, 0.3)
    out["constant"] = t.sum()
    nn.init.eye_(t)
    out["eye"] = t.trace()
    out["gain"] = [nn.init.calculate_gain("leaky_relu", 0.2), nn.init.calculate_gain("tanh")]
    conv = nn.Conv2d(4, 6, 3)
    nn.init.dirac_(conv.weight)
    out["dirac"] = conv.weight.sum()
    return out
