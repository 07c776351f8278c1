"""`ember.autograd.Function`: custom differentiable operations written by users, torch-style.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

Unlike Ember's built-in ops (`node.Op`, which work on raw arrays), forward and backward here
receive and return Tensors, exactly as in PyTorch.
"""

from __future__ import annotations

import functools
from typing import Any

from .. import backend
from .. import dtypes as _dtypes
from .grad_mode import no_grad
from .grad_mode import state as grad_state
from .node import FREED, Node, anomaly_state, edge_to, op_watch, saved_hooks

Tensor: Any = None  # set by ember.tensor's import of this package


class FunctionCtx(Node):
    """The `ctx` passed to forward/backward; it is also the graph node of the call."""

    _packed: Any = None  # what saved_tensors_hooks packed (autograd/saved_hooks.py)

    def __init__(self, fn_class: type) -> None:
        self._fn_class = fn_class
        self.saved = ()
        self._saved_info: tuple = ()
        self.materialize_grads = True
        # id -> tensor while forward runs: holding the tensor keeps its id from being reused
        # by a later tensor (a marked temporary freed before the outputs are made)
        self.non_differentiable: dict = {}
        self.dirty: dict = {}
        self.num_outputs = 1
        self._output_meta: list = []

    def name(self) -> str:
        return f"{self._fn_class.__name__}Backward"

    def save_for_backward(self, *tensors: Any) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self.saved = tensors
        self._saved_info = tuple(None if t is None else (t, t._version) for t in tensors)

    def save_for_forward(self, *tensors: Any) -> None:
        self.save_for_backward(*tensors)

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self.non_differentiable.update((id(t), t) for t in tensors)

    def mark_dirty(self, *tensors: Any) -> None:
        self.dirty.update((id(t), t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        if self.saved is FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to read "
                "saved tensors after they have been freed). Pass retain_graph=True to the first "
                "backward call if you need to backward twice."
            )
        if self._packed is not None:
            return self._packed.unpack_all(self)
        out = []
        for i, info in enumerate(self._saved_info):
            if info is None:
                out.append(None)
                continue
            t, version = info
            if t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {i} of {self.name()} is at version "
                    f"{t._version}; expected version {version} instead."
                )
            out.append(t)
        return tuple(out)

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self.next_edges)

    def release(self) -> None:
        super().release()
        self._packed = None

    def run_backward(self, grads: tuple) -> tuple:
        create_graph = grad_state.create_graph
        wrapped = []
        for g, meta in zip(grads, self._output_meta):
            if g is None:
                if self.materialize_grads and meta is not None:
                    shape, dtype, device = meta
                    xp = backend.module_for(device)
                    g = xp.zeros(shape, dtype=dtype)
                else:
                    wrapped.append(None)
                    continue
            wrapped.append(g if isinstance(g, Tensor) else Tensor._make(g))
        result = self._fn_class.backward(self, *wrapped)
        if not isinstance(result, tuple):
            result = (result,)
        edges = self.next_edges
        if len(result) < len(edges):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {len(edges)}, got {len(result)})"
            )
        if len(result) > len(edges):
            extra = result[len(edges):]
            if any(r is not None for r in extra):
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(result)})"
                )
            result = result[:len(edges)]
        out = []
        for i, (g, edge, shape) in enumerate(zip(result, edges, self._input_shapes)):
            if g is not None and shape is None:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Tensor"
                )
            if g is None or edge is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                raise RuntimeError(f"function {self.name()} returned a gradient of type "
                                   f"{type(g).__name__} at index {i}; expected a Tensor or None")
            dtype = self._input_dtypes[i]
            if g._data.dtype != dtype:  # torch casts a gradient to its input's dtype
                g = g.to(dtype=_dtypes.FROM_NUMPY[dtype])
            if tuple(g.shape) != tuple(shape):
                from ..ops._util import broadcast_shapes, sum_to_shape  # noqa: PLC0415

                try:
                    if broadcast_shapes(tuple(shape), tuple(g.shape)) != tuple(g.shape):
                        raise RuntimeError
                except RuntimeError:
                    raise RuntimeError(
                        f"Function {self.name()} returned an invalid gradient at index {i} - got "
                        f"[{', '.join(map(str, g.shape))}] but expected shape compatible with "
                        f"[{', '.join(map(str, shape))}]"
                    ) from None
                g = sum_to_shape(g, tuple(shape))
            out.append(g if create_graph else g._data)
        return tuple(out)


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `.apply`."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        return _SETUP_NOT_OVERRIDDEN

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_function(cls, args, kwargs)
        return cls._apply_with_ctx(args, kwargs)[0]

    @classmethod
    def _apply_with_ctx(cls, args: tuple, kwargs: dict) -> tuple:
        """(outputs, ctx): forward-mode AD hands the ctx to `jvp`."""
        node_class = cls.__dict__.get("_backward_node_class")
        if node_class is None:  # torch's node of Function F is of a class named FBackward
            node_class = type(f"{cls.__name__}Backward", (FunctionCtx,), {})
            cls._backward_node_class = node_class
        ctx = node_class(cls)
        uses_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if uses_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        wants_grad = grad_state.enabled and any(
            isinstance(a, Tensor) and a.requires_grad for a in args)
        is_tuple = isinstance(output, tuple)
        outputs = list(output) if is_tuple else [output]
        if not wants_grad:
            ctx.non_differentiable, ctx.dirty = {}, {}
            return output, ctx
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        ctx.next_edges = tuple(edge_to(a) if isinstance(a, Tensor) else None for a in args)
        ctx._input_shapes = tuple(tuple(a.shape) if isinstance(a, Tensor) else None for a in args)
        ctx._input_dtypes = tuple(a._data.dtype if isinstance(a, Tensor) else None for a in args)
        ctx.num_outputs = len(outputs)
        meta = []
        for nr, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                meta.append(None)
                continue
            marked_off = id(out) in ctx.non_differentiable  # before an input is aliased
            if id(out) in ctx.dirty and out._requires_grad and out.grad_fn is None:
                raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad has been "
                                   "used in an in-place operation (marked dirty).")
            if id(out) in input_ids and id(out) not in ctx.dirty:
                # returning an input as is: the output must be a new tensor of the graph
                alias = Tensor._make(out._data)
                alias._vc = out._shared_version_counter()
                out = alias
                outputs[nr] = out
            meta.append((tuple(out.shape), out._data.dtype, out.device))
            differentiable = out._data.dtype.kind in "fcV" and not marked_off
            if differentiable:
                out.grad_fn = ctx
                out._output_nr = nr
                out._requires_grad = True
                if anomaly_state.enabled:
                    anomaly_state.on_forward(ctx, out, [a._data for a in args
                                                        if isinstance(a, Tensor)])
        ctx._output_meta = meta
        ctx.non_differentiable, ctx.dirty = {}, {}  # the references are needed no more
        if saved_hooks.active and ctx.saved:  # autograd.graph.saved_tensors_hooks
            saved_hooks.pack_function(ctx)
        return (tuple(outputs) if is_tuple else outputs[0]), ctx


class _SetupNotOverridden:
    pass


_SETUP_NOT_OVERRIDDEN = _SetupNotOverridden()


class _DifferentiatedTwice(Node):
    """Stands behind the gradients of a once_differentiable backward run under create_graph:
    differentiating them again raises, instead of silently giving zero."""

    def name(self) -> str:
        return "torch::autograd::Error"

    def run_backward(self, grads: tuple) -> tuple:
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn: Any) -> Any:
    """Mark a backward as not differentiable twice: it runs without recording."""

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            outputs = fn(ctx, *args)
        if not grad_state.enabled or not any(
                isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        node = _DifferentiatedTwice()
        wrapped = tuple(None if o is None else Tensor._make(o._data, True, node)
                        for o in (outputs if isinstance(outputs, tuple) else (outputs,)))
        return wrapped if isinstance(outputs, tuple) else wrapped[0]

    return wrapper

