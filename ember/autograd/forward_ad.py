"""Forward-mode automatic differentiation (torch.autograd.forward_ad): dual tensors.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)     # jvp = J_f(primal) @ tangent

While a dual level is open every op is watched (autograd/op_watch.py). An op whose inputs carry
tangents gets its output tangent from its own backward formula, by the "double vjp" identity:
the op's vjp u -> J^T u is linear in u, so

    J t = d/du < J^T u, t >        (t: the inputs' tangents stacked, u: a dummy cotangent)

which Ember evaluates by running the op's backward with create_graph=True and differentiating
that once more with respect to u. Every op with a double backward therefore has a forward
derivative, with no second formula to keep in sync; the price is one backward and one double
backward per op, paid only inside a dual level.

Differences from torch: one level at a time (as torch); tangents are plain tensors (not
recorded for reverse mode, so reverse-over-forward sees them as constants).
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, NamedTuple

from ..tensor import Tensor
from . import op_watch
from .engine import grad as _grad
from .grad_mode import state as _grad_state
from .node import edge_to, refresh_view

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

_current_level = -1


class _Level:
    """The tangents of one dual level: id(tensor) -> (weak reference, tangent)."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.tangents: dict = {}

    # -- storage ----------------------------------------------------------------------------
    def tangent_of(self, t: Any) -> Tensor | None:
        entry = self.tangents.get(id(t))
        if entry is None or entry[0]() is not t:
            return None
        return entry[1]

    def set_tangent(self, t: Tensor, tangent: Tensor | None) -> None:
        key = id(t)
        if tangent is None:
            self.tangents.pop(key, None)
            return
        tangents = self.tangents
        ref = weakref.ref(t, lambda _, key=key: tangents.pop(key, None))
        tangents[key] = (ref, tangent)

    def has_tangent(self, args: tuple) -> bool:
        tangents = self.tangents
        if not tangents:
            return False
        return any(isinstance(a, Tensor) and id(a) in tangents and
                   tangents[id(a)][0]() is a for a in args)

    # -- ops --------------------------------------------------------------------------------
    def apply_op(self, run: Any, args: tuple, kwargs: dict) -> Any:
        """Run one op (`run`: its apply) on dual inputs: the primal result (recorded for
        reverse mode as usual) plus its tangent J t from the op's own double backward."""
        for a in args:
            if isinstance(a, Tensor) and a._view is not None:
                refresh_view(a)
        stand_ins: list = []  # fresh leaves sharing the inputs' memory: the op's graph ends there
        original_of: dict = {}
        for a in args:
            if isinstance(a, Tensor) and a._data.dtype.kind in "fcV":
                leaf = Tensor._make(a._data, True)
                leaf._vc = a._shared_version_counter()
                original_of[id(leaf)] = a
                stand_ins.append(leaf)
            else:
                stand_ins.append(a)
        recording = _grad_state.enabled
        _grad_state.enabled = True
        try:
            result = run(*stand_ins, **kwargs)
        finally:
            _grad_state.enabled = recording
        outputs = result if isinstance(result, tuple) else (result,)
        differentiable = [o for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
        if differentiable:
            tangents = self._output_tangents(differentiable, stand_ins, original_of)
            self._reconnect(differentiable, args, original_of, recording)
            for out, tangent in zip(differentiable, tangents):
                self.set_tangent(out, tangent)
        first = outputs[0] if outputs else None
        if isinstance(first, Tensor) and first._view is not None and \
                id(first._view[0]) in original_of:  # a view op: of the input, not its stand-in
            from ..ops.shape import mark_view  # noqa: PLC0415 (ops import autograd)

            _, steps, _ = first._view
            first._view = None
            mark_view(first, args[0], *steps[-1])
        return result

    def _output_tangents(self, outputs: list, stand_ins: list, original_of: dict) -> list:
        """J t for each output: d/du < J^T u, t > with u a dummy cotangent per output."""
        pairs = [(leaf, self.tangent_of(original_of[id(leaf)])) for leaf in stand_ins
                 if isinstance(leaf, Tensor) and id(leaf) in original_of]
        pairs = [(leaf, t) for leaf, t in pairs if t is not None]
        prev = _grad_state.enabled
        _grad_state.enabled = True
        try:
            dummies = [Tensor._make(o._data * 0, True) for o in outputs]
            vjps = _grad(outputs, [leaf for leaf, _ in pairs], dummies, retain_graph=True,
                         create_graph=True, allow_unused=True)
            dot = None
            for g, (_, t) in zip(vjps, pairs):
                if g is not None and g.requires_grad:
                    term = (g * t.to(g.dtype)).sum()
                    dot = term if dot is None else dot + term
            if dot is None:
                return [o.detach() * 0 for o in outputs]
            jvps = _grad(dot, dummies, allow_unused=True)
        finally:
            _grad_state.enabled = prev
        return [o.detach() * 0 if j is None else j.detach() for j, o in zip(jvps, outputs)]

    def _reconnect(self, outputs: list, args: tuple, original_of: dict, recording: bool) -> None:
        """Point the op's graph node at the real inputs (or drop it if none wants a grad)."""
        wants_graph = recording and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        node = outputs[0].grad_fn
        if not wants_graph:
            for out in outputs:
                out.grad_fn, out._requires_grad = None, False
            return
        node.next_edges = tuple(
            edge_to(original_of[id(e[0])]) if e is not None and id(e[0]) in original_of else e
            for e in node.next_edges)
        refs = getattr(node, "_saved_refs", ())
        if refs:
            node._saved_refs = tuple(
                (original_of[id(r[0])], r[1]) if r is not None and id(r[0]) in original_of
                else r for r in refs)

    def apply_function(self, cls: type, args: tuple, kwargs: dict) -> Any:
        """A custom autograd.Function on dual inputs: forward on the primals, then its `jvp`."""
        from .grad_mode import no_grad  # noqa: PLC0415

        op_watch.watchers.forward_ad = None  # the forward sees plain tensors
        op_watch.update()
        try:
            output, ctx = cls._apply_with_ctx(args, kwargs)
            tangents = [None if not isinstance(a, Tensor) else
                        (self.tangent_of(a) if self.tangent_of(a) is not None
                         else a.detach().new_zeros(a.shape)) for a in args]
            with no_grad():
                out_tangents = cls.jvp(ctx, *tangents)
        finally:
            op_watch.watchers.forward_ad = self
            op_watch.update()
        outputs = output if isinstance(output, tuple) else (output,)
        if not isinstance(out_tangents, tuple):
            out_tangents = (out_tangents,)
        for out, tangent in zip(outputs, out_tangents):
            if isinstance(out, Tensor) and tangent is not None:
                self.set_tangent(out, tangent)
        return output

    def run_inplace(self, t: Tensor, compute: Any, write: Any, *rest: Any) -> Tensor:
        """x.op_(...): the written tensor takes the result's tangent (its base too, for a view)."""
        tangent = self.tangent_of(t)
        results: list = []

        def tracked(source: Tensor) -> Tensor:
            if source is not t and tangent is not None:
                self.set_tangent(source, tangent)  # the snapshot carries t's tangent
            out = compute(source)
            results.append(out)
            return out

        write(t, tracked, *rest)
        new = self.tangent_of(results[-1]) if results else None
        self.set_tangent(t, new)
        if t._view is not None:
            self._write_base_tangent(t, new)
        return t

    def _write_base_tangent(self, t: Tensor, new: Tensor | None) -> None:
        base, steps, _ = t._view
        old = self.tangent_of(base)
        if old is None and new is None:
            return
        from .. import backend  # noqa: PLC0415

        xp = backend.module_of(base._data)
        data = xp.zeros(base._data.shape, base._data.dtype) if old is None else \
            old._data.astype(base._data.dtype, copy=True)
        region = xp.arange(base._data.size).reshape(base._data.shape)
        for cls, view_args in steps:
            region = cls.replay(region, *view_args)
        values = xp.zeros(t._data.shape, data.dtype) if new is None else new._data
        data.reshape(-1)[xp.asarray(region).reshape(-1)] = values.reshape(-1)
        self.set_tangent(base, Tensor._make(data))


def _alias(t: Tensor) -> Tensor:
    """A differentiable view of t that is not itself watched (and so gets no tangent)."""
    prev = op_watch.watchers.forward_ad
    op_watch.watchers.forward_ad = None
    op_watch.update()
    try:
        return t.view_as(t)
    finally:
        op_watch.watchers.forward_ad = prev
        op_watch.update()


def enter_dual_level() -> int:
    """Open a forward-AD level (one at a time, as in torch) and return its number."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level += 1
    op_watch.watchers.forward_ad = _Level(_current_level)
    op_watch.update()
    return _current_level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the current level; every tangent made inside it is dropped."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    op_watch.watchers.forward_ad = None
    op_watch.update()
    _current_level = level - 1


def _level_for(level: int | None) -> _Level | None:
    current = op_watch.watchers.forward_ad
    if level is None:
        level = _current_level
    if current is None or level != current.level:
        return None
    return current


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A new tensor aliasing `tensor` that carries `tangent` (backward differentiable)."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"[{', '.join(map(str, tensor.shape))}] while the given forward gradient is of size "
            f"[{', '.join(map(str, tangent.shape))}].")
    state = _level_for(level)
    if state is None:
        raise RuntimeError(f"make_dual: level {level} is not the current dual level")
    dual = _alias(tensor)
    state.set_tangent(dual, tangent)
    return dual


class UnpackedDualTensor(NamedTuple):
    """(primal, tangent) of a dual tensor; tangent is None for a tensor without one."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """Split a dual tensor into a view of its primal (no tangent) and its tangent."""
    state = _level_for(level)
    if state is None:
        return UnpackedDualTensor(tensor, None)
    tangent = state.tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor), tangent)


class dual_level(contextlib.ContextDecorator):  # noqa: N801 (torch's name)
    """Context manager (or decorator) in which dual tensors can be made and unpacked; the
    tangents are dropped when it exits.

    >>> with forward_ad.dual_level():
    ...     y = f(forward_ad.make_dual(x, v))
    ...     jvp = forward_ad.unpack_dual(y).tangent
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()
