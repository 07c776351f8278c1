"""torch.func's forward-mode transforms, jvp and linearize, on Ember's tape autograd.

Both use the "double vjp" identity. For f with Jacobian J at x, the vjp u -> J^T u is linear
in u, so for a tangent t

    J t = d/du < J^T u, t >

Ember records f(x), builds J^T u with create_graph=True for a dummy cotangent u, and
differentiates < J^T u, t > with respect to u. The result equals torch.func.jvp's; and since
everything is an ordinary recorded graph, jvp composes with grad, vjp, jacrev and itself
(jvp(grad(f)) is a Hessian-vector product, jvp(jvp(f)) a second directional derivative).
`linearize` keeps the graph of J^T u, so each later call costs one backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd import engine
from .autograd.grad_mode import enable_grad
from .autograd.grad_mode import state as _grad_state
from .func_transforms import _depth, _leaves, _map_structure
from .tensor import Tensor

__all__ = ["jvp", "linearize"]


def _structure(tree: Any) -> Any:
    return _map_structure(lambda _: None, tree)


def _check_pair(primals: Any, tangents: Any) -> None:
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if not isinstance(tangents, tuple) or _structure(primals) != _structure(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure. For example, if primals is a tuple of 3 "
                           "tensors, tangents also must be.")
    for p, t in zip(_leaves(primals), _leaves(tangents)):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to "
                               "only contain Tensors")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                "original Tensor, this is not supported. Tensor is of size "
                f"[{', '.join(map(str, p.shape))}] while the given forward gradient is of size "
                f"[{', '.join(map(str, t.shape))}].")


class _Linearization:
    """f recorded at the primals, with J^T u built (create_graph) for a dummy cotangent u."""

    def __init__(self, func: Callable, primals: tuple, has_aux: bool, name: str) -> None:
        self.keep_graph = _grad_state.enabled and (_depth[0] > 0 or any(
            p.requires_grad for p in _leaves(primals)))
        _depth[0] += 1
        try:
            with enable_grad():
                self.inputs: list = []
                args = _map_structure(self._track, primals)
                result = func(*args)
                if has_aux:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{name}(f, ...): output of function f should be a "
                                           "tuple: (output, aux) if has_aux is True")
                    result, self.aux = result
                self.output = result
                self.outputs = _leaves(result)
                for o in self.outputs:
                    if not isinstance(o, Tensor):
                        raise RuntimeError(f"{name}(f, primals, tangents): expected f(*primals) "
                                           f"to return only tensors, got unsupported type "
                                           f"{type(o)}")
                self.dummies = [o.detach().new_zeros(o.shape).requires_grad_(True)
                                for o in self.outputs]
                live = [(o, u) for o, u in zip(self.outputs, self.dummies) if o.requires_grad]
                vjps = engine.grad([o for o, _ in live], self.inputs, [u for _, u in live],
                                   create_graph=True, allow_unused=True) if live else \
                    (None,) * len(self.inputs)
                self.vjps = [g if g is not None and g.requires_grad else None for g in vjps]
        finally:
            _depth[0] -= 1

    def _track(self, p: Tensor) -> Tensor:
        x = p.view_as(p) if self.keep_graph and p.requires_grad else \
            p.detach().requires_grad_(True)
        self.inputs.append(x)
        return x

    def primal_output(self) -> Any:
        if self.keep_graph:
            return self.output
        return _map_structure(lambda o: o.detach(), self.output)

    def tangent_output(self, tangents: list, retain: bool) -> Any:
        """J t, shaped like the output."""
        keep = self.keep_graph or any(t.requires_grad for t in tangents)
        with enable_grad():
            dot = None
            for g, t in zip(self.vjps, tangents):
                if g is not None:
                    term = (g * t.to(g.dtype)).sum()
                    dot = term if dot is None else dot + term
            if dot is None:
                results: Any = [None] * len(self.dummies)
            else:
                results = engine.grad(dot, self.dummies, retain_graph=retain or keep,
                                      create_graph=keep, allow_unused=True)
        flat = [o.detach().new_zeros(o.shape) if r is None else (r if keep else r.detach())
                for r, o in zip(results, self.outputs)]
        counter = iter(flat)
        return _map_structure(lambda _: next(counter), self.output)


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """(func(*primals), J @ tangents): the Jacobian-vector product (forward-mode derivative).

    >>> out, jvp_out = ember.func.jvp(ember.sin, (x,), (ember.ones_like(x),))  # cos(x)

    `strict` is accepted and, as in torch.func, has no effect.
    """
    _check_pair(primals, tangents)
    lin = _Linearization(func, primals, has_aux, "jvp")
    out = (lin.primal_output(), lin.tangent_output(_leaves(tangents), retain=False))
    return (*out, lin.aux) if has_aux else out


def linearize(func: Callable, *primals: Any) -> tuple:
    """(func(*primals), jvp_fn): jvp_fn(*tangents) = J @ tangents at the same primals, reusing
    one recorded graph (each call costs a backward pass, not a new forward)."""
    lin = _Linearization(func, primals, False, "linearize")
    shapes = [tuple(p.shape) for p in _leaves(primals)]

    def jvp_fn(*tangents: Any) -> Any:
        flat = _leaves(tangents)
        if _structure(tangents) != _structure(primals):
            raise RuntimeError("linearize: expected the tangents to have the structure of the "
                               "primals")
        for i, (t, shape) in enumerate(zip(flat, shapes)):
            if tuple(t.shape) != shape:
                raise RuntimeError(f"tangent:{i} with shape {t.shape} in flattened pytree "
                                   f"doesn't match the shape {shape} of the corresponding "
                                   "primal.")
        return lin.tangent_output(flat, retain=True)

    return lin.primal_output(), jvp_fn
