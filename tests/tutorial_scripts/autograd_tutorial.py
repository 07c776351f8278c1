"""Autograd tutorial: requires_grad, grad_fn, retain_grad, detach, no_grad, backward(v)."""

import numpy as np
import torch


def main(sync, workdir):
    out = {}
    rng = np.random.RandomState(0)
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.tensor(rng.randn(5, 3).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.randn(3).astype(np.float32), requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    out["grad_fn_z"] = z.grad_fn.name()
    out["grad_fn_loss"] = loss.grad_fn is not None
    acc, _ = z.grad_fn.next_functions[1]
    out["next_functions"] = [len(z.grad_fn.next_functions), acc.name(), acc.variable is b]
    out["leaf"] = [w.is_leaf, z.is_leaf, x.requires_grad, z.requires_grad]
    loss.backward()
    out["w_grad"] = w.grad
    out["b_grad"] = b.grad

    z = torch.matmul(x, w) + b
    out["requires_grad"] = z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    out["no_grad"] = [z.requires_grad, z.grad_fn is None]
    z_det = (torch.matmul(x, w) + b).detach()
    out["detached"] = z_det.requires_grad

    # Jacobian-vector products
    inp = torch.eye(4, 5, requires_grad=True)
    outp = (inp + 1).pow(2).t()
    outp.backward(torch.ones_like(outp), retain_graph=True)
    out["first_call"] = inp.grad.clone()
    outp.backward(torch.ones_like(outp), retain_graph=True)
    out["second_call"] = inp.grad.clone()
    inp.grad.zero_()
    outp.backward(torch.ones_like(outp))
    out["call_after_zero"] = inp.grad

    # retain_grad on an intermediate, grad of a non-leaf is None otherwise
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    h = a * a
    h.retain_grad()
    g = a.exp()
    (h * g).sum().backward()
    out["retained"] = h.grad
    out["not_retained"] = g.grad is None
    out["a_grad"] = a.grad

    # backward with a vector, as in the blitz tutorial
    x2 = torch.tensor(rng.randn(3).astype(np.float32), requires_grad=True)
    y2 = x2 * 2
    while y2.data.norm() < 1000:
        y2 = y2 * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y2.backward(v)
    out["vjp"] = x2.grad

    # requires_grad_, set_grad_enabled, higher order gradients
    q = torch.linspace(-1.0, 1.0, 5).requires_grad_()
    with torch.set_grad_enabled(False):
        out["disabled"] = (q * 2).requires_grad
    f = (q**3).sum()
    (dq,) = torch.autograd.grad(f, q, create_graph=True)
    (d2q,) = torch.autograd.grad(dq.sum(), q)
    out["d1"] = dq
    out["d2"] = d2q
    out["is_grad_enabled"] = torch.is_grad_enabled()

    # sum of gradients from multiple paths, and a scalar loss built with .item-free ops
    p = torch.tensor([[1.0, -2.0], [0.5, 4.0]], requires_grad=True)
    r = torch.relu(p) + torch.sigmoid(p) * p.abs() - p.clamp(min=0.0, max=1.0)
    r.mean().backward()
    out["p_grad"] = p.grad
    out["data_ptr_shared"] = p.detach().data_ptr() == p.data_ptr()

    # torch.autograd.functional
    def fn(t):
        return t.sin() * t.sum()

    jac = torch.autograd.functional.jacobian(fn, torch.tensor([0.1, 0.2, 0.3]))
    out["jacobian"] = jac
    hess = torch.autograd.functional.hessian(lambda t: (t**3).sum(), torch.tensor([1.0, 2.0]))
    out["hessian"] = hess
    return out
