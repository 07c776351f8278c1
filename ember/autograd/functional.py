"""Higher-level derivatives of functions (torch.autograd.functional): vjp, jvp, jacobian,
hessian, hvp, vhp, all built on `autograd.grad`.

    J[i, j] = d out_i / d in_j      jacobian: one backward pass per output element
    jvp(v)  = J v                   by the "double vjp" trick: u -> J^T u is linear in u, so
                                    differentiating (J^T u) . v with respect to u gives J v
    H       = jacobian of the gradient
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops.join import stack
from ..tensor import Tensor
from .engine import grad
from .grad_mode import enable_grad


def _as_tuple(x: Any, what: str, fn_name: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the value at index {i} has type {type(t).__name__}.")
    return is_tuple, items


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh leaves (or, under create_graph, views that stay connected to the caller's graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else
                 t.detach().requires_grad_(True) for t in inputs)


def _grads_or_zeros(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
                    strict: bool, fn_name: str) -> tuple:
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        grads = (None,) * len(inputs)
    else:
        grads = grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    result = []
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = x.detach().new_zeros(x.shape)
        result.append(g)
    return tuple(result)


def _vector_for_inputs(v: Any, xs: tuple, fn_name: str) -> tuple:
    """The vector multiplying the inputs' side; None only for a single one-element input."""
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        return (xs[0].detach().new_ones(xs[0].shape),)
    return _as_tuple(v, "v", fn_name)[1]


def _call(func: Callable, inputs: tuple, fn_name: str) -> tuple[bool, tuple]:
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


def _unpack(is_tuple: bool, items: tuple, create_graph: bool) -> Any:
    items = tuple(t if create_graph else t.detach() for t in items)
    return items if is_tuple else items[0]


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J): one backward pass."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare_inputs(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = (outs[0].detach().new_ones(outs[0].shape),)
    else:
        vs = _as_tuple(v, "v", "vjp")[1]
    grads = _grads_or_zeros(outs, xs, vs, create_graph, strict, "vjp")
    return _unpack(out_tuple, outs, create_graph), _unpack(in_tuple, grads, create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v) by differentiating the vjp, which is linear in its vector."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    vs = _vector_for_inputs(v, xs, "jvp")
    xs = _prepare_inputs(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jvp")
    with enable_grad():
        us = tuple(o.detach().new_zeros(o.shape).requires_grad_(True) for o in outs)
        vjps = _grads_or_zeros(outs, xs, us, True, strict, "jvp")
        jv = _grads_or_zeros(tuple(g for g in vjps), us, vs, create_graph, strict, "jvp") \
            if any(g.requires_grad for g in vjps) else tuple(u.detach() * 0 for u in us)
    return _unpack(out_tuple, outs, create_graph), _unpack(out_tuple, jv, create_graph)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs, shaped out.shape + in.shape (nested tuples for tuples)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode":  # torch's limits (Ember computes it by rows either way)
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and '
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        _check_forward_vectorized(vectorize)
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare_inputs(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    per_output = []
    for out in outs:
        flat = out.reshape(-1)
        rows: list[list] = [[] for _ in xs]
        for k in range(flat.numel()):
            if flat.requires_grad:
                gs = grad(flat[k], xs, retain_graph=True, create_graph=create_graph,
                          allow_unused=True)
            else:
                gs = (None,) * len(xs)
            for i, (g, x) in enumerate(zip(gs, xs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {len(per_output)} of the user-provided "
                                           f"function is independent of input {i}. This is "
                                           "not allowed in strict mode.")
                    g = x.detach().new_zeros(x.shape)
                rows[i].append(g if create_graph else g.detach())
        blocks = []
        for i, x in enumerate(xs):
            stacked = stack(rows[i]) if rows[i] else x.detach().new_zeros((0, *x.shape))
            blocks.append(stacked.reshape(*out.shape, *x.shape))
        per_output.append(tuple(blocks) if in_tuple else blocks[0])
    return tuple(per_output) if out_tuple else per_output[0]


def _check_forward_vectorized(vectorize: bool) -> None:
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """d^2 func / d inputs^2 for a scalar func: the jacobian of its gradient."""
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if outer_jacobian_strategy == "forward-mode":
        _check_forward_vectorized(vectorize)
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> Any:
        out_tuple, outs = _call(func, args, "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        gs = _grads_or_zeros(outs, args, (outs[0].detach().new_ones(outs[0].shape),), True,
                             strict, "hessian")
        return gs if in_tuple else gs[0]

    return jacobian(gradient, xs if in_tuple else xs[0], create_graph=create_graph,
                    strict=strict)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H): the gradient of (grad . v)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v); H is symmetric for twice-differentiable functions, so H v = v^T H."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                     fn_name: str) -> tuple:
    in_tuple, xs = _as_tuple(inputs, "inputs", fn_name)
    vs = _vector_for_inputs(v, xs, fn_name)
    xs = _prepare_inputs(xs, create_graph)
    out_tuple, outs = _call(func, xs, fn_name)
    if out_tuple or outs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor "
                           "with a single element")
    with enable_grad():
        gs = _grads_or_zeros(outs, xs, (outs[0].detach().new_ones(outs[0].shape),), True,
                             strict, fn_name)
        dot = sum((g * w).sum() for g, w in zip(gs, vs))
        if dot.requires_grad:
            hv = _grads_or_zeros((dot,), xs, (dot.detach().new_ones(()),), create_graph, strict,
                                 fn_name)
        else:
            hv = tuple(x.detach().new_zeros(x.shape) for x in xs)
    return _unpack(False, outs, create_graph), _unpack(in_tuple, hv, create_graph)
