"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

`checkpoint(fn, *args)` runs `fn` without keeping its intermediate activations; backward runs
`fn` again from the saved inputs (with the random-number state of the first run, so dropout
draws the same masks) and back-propagates through that recomputation. Memory for a
checkpointed block: its inputs instead of all its activations.

Two variants, as in torch:

* use_reentrant=False (recommended): a graph node whose inputs are `fn`'s tensor arguments
  *and* every outside tensor requiring grad that `fn` reads (parameters, closures), found by
  watching the forward's ops (autograd/op_watch.py). Its backward recomputes `fn` and returns
  the gradients of all of them through the ordinary graph, so autograd.grad, backward(inputs=)
  keyword arguments, create_graph, context_fn (selective checkpointing) and the determinism
  check all work.
* use_reentrant=True: `CheckpointFunction`, torch's reentrant autograd.Function: its backward
  runs a nested backward() that accumulates parameter gradients into `.grad`; like torch it
  needs an input that requires grad and refuses autograd.grad.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .. import random
from ..autograd import engine, op_watch
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.grad_mode import state as grad_state
from ..func_transforms import _leaves, _map_structure
from ..tensor import Tensor
from .checkpoint_selective import (
    SAC_IGNORED_OPS,
    CheckpointPolicy,
    SelectiveCheckpointContext,
    create_selective_checkpoint_contexts,
)

__all__ = ["SAC_IGNORED_OPS", "CheckpointError", "CheckpointFunction", "CheckpointPolicy",
           "DefaultDeviceType", "SelectiveCheckpointContext", "check_backward_validity",
           "checkpoint", "checkpoint_sequential", "create_selective_checkpoint_contexts",
           "detach_variable", "get_device_states", "noop_context_fn",
           "set_checkpoint_debug_enabled", "set_checkpoint_early_stop", "set_device_states"]


class CheckpointError(RuntimeError):
    """The recomputation in backward did not reproduce the forward (shapes, dtypes, devices)."""


# ------------------------------------------------------------------ helpers torch exports
def detach_variable(inputs: tuple) -> tuple:
    """Each tensor of `inputs` detached, keeping its requires_grad (other values as they are)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad = x.requires_grad
            x = d
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


class DefaultDeviceType:
    """The device type whose random state checkpointing saves when no tensor says otherwise."""

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        """The set type, else the accelerator's ("cuda") or "cpu" without one."""
        if not DefaultDeviceType._default_device_type:
            from .. import backend  # noqa: PLC0415

            DefaultDeviceType._default_device_type = "cuda" if backend.cuda_available() \
                else "cpu"
        return DefaultDeviceType._default_device_type


def get_device_states(*args: Any) -> tuple[list[int], list[Any]]:
    """(GPU indices, their random states) for the GPU tensors among args ([] on the CPU)."""
    devices = sorted({a.device.index or 0 for a in _leaves(list(args))
                      if isinstance(a, Tensor) and a.device.type == "cuda"})
    if not devices:
        return [], []
    from .. import cuda  # noqa: PLC0415

    return devices, [cuda.get_rng_state(d) for d in devices]


def set_device_states(devices: list[int], states: list[Any], *,
                      device_type: str | None = None) -> None:
    from .. import cuda  # noqa: PLC0415

    for device, state in zip(devices, states):
        cuda.set_rng_state(state, device)


_Contexts = tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]


def noop_context_fn() -> _Contexts:
    """The default context_fn: nothing around the forward, nothing around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_early_stop = [True]
_debug = [None]


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """torch stops a recomputation once it has every saved tensor it needs. Ember always runs
    the whole checkpointed function (the gradients are the same); the flag is kept for
    torch's API."""
    prev = _early_stop[0]
    _early_stop[0] = enable
    try:
        yield
    finally:
        _early_stop[0] = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Override every checkpoint's `debug` (None: each call's own): a determinism failure then
    lists the ops of the forward and of the recomputation."""
    prev = _debug[0]
    _debug[0] = enabled
    try:
        yield
    finally:
        _debug[0] = prev


class _RandomState:
    """The CPU random state (and the GPUs' where they can be saved) of one forward."""

    def __init__(self, args: tuple) -> None:
        self.cpu = random.get_rng_state()
        try:
            self.devices, self.states = get_device_states(*args)
        except RuntimeError:  # CuPy's generators cannot export their state
            self.devices, self.states = [], []

    @contextlib.contextmanager
    def restored(self) -> Iterator[None]:
        current_cpu = random.get_rng_state()
        current = get_device_states_safely(self.devices)
        random.set_rng_state(self.cpu)
        set_device_states(self.devices, self.states)
        try:
            yield
        finally:
            random.set_rng_state(current_cpu)
            set_device_states(self.devices, current)


def get_device_states_safely(devices: list[int]) -> list:
    if not devices:
        return []
    from .. import cuda  # noqa: PLC0415

    return [cuda.get_rng_state(d) for d in devices]


# ------------------------------------------------------------------ reentrant
class CheckpointFunction(Function):
    """torch's reentrant checkpoint: `CheckpointFunction.apply(fn, preserve_rng_state, *args)`.

    Backward recomputes fn(*detached args) and runs a nested backward() through it, so the
    parameters fn uses get their gradients in `.grad` during the outer backward.
    """

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng = _RandomState(args) if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        if not engine.in_whole_backward():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        saved = iter(ctx.saved_tensors)
        inputs = detach_variable(tuple(next(saved) if a is None else a for a in ctx.inputs))
        with ctx.rng.restored() if ctx.rng is not None else contextlib.nullcontext():
            with enable_grad():
                outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        engine.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, *(x.grad if isinstance(x, Tensor) else None for x in inputs))


# ------------------------------------------------------------------ non-reentrant
class _Capture:
    """The outside tensors requiring grad that a checkpointed forward reads, in order."""

    def __init__(self) -> None:
        self.tensors: dict = {}
        self.ops: list[str] = []

    def saw(self, name: str, args: tuple) -> None:
        self.ops.append(name)
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad and id(a) not in self.tensors:
                self.tensors[id(a)] = a

    @contextlib.contextmanager
    def watching(self) -> Iterator[_Capture]:
        prev = op_watch.watchers.capture
        op_watch.watchers.capture = self
        op_watch.update()
        try:
            yield self
        finally:
            op_watch.watchers.capture = prev
            op_watch.update()


def _metadata(t: Tensor) -> dict:
    return {"shape": tuple(t.shape), "dtype": t.dtype, "device": t.device}


class _Recompute(Function):
    """The graph node of a non-reentrant checkpoint: inputs are every tensor requiring grad
    that the forward read; backward recomputes and differentiates the function."""

    @staticmethod
    def forward(ctx: Any, run: Any, *tensors: Tensor) -> tuple:
        ctx.run = run
        ctx.save_for_backward(*tensors)
        return tuple(run.outputs)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        tensors = ctx.saved_tensors
        outputs = ctx.run.recompute()
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad and g is not None]
        wanted = [i for i, t in enumerate(tensors) if ctx.needs_input_grad[i + 1]]
        result: list = [None] * len(tensors)
        if pairs and wanted:
            got = engine.grad([o for o, _ in pairs], [tensors[i] for i in wanted],
                              [g for _, g in pairs], create_graph=grad_state.create_graph,
                              allow_unused=True)
            for i, g in zip(wanted, got):
                result[i] = g
        return (None, *result)


class _Run:
    """One checkpointed call: what the recomputation needs, and what the forward produced."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, preserve_rng: bool,
                 context_fn: Callable, determinism_check: str, debug: bool) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng = _RandomState(args) if preserve_rng else None
        self.forward_context, self.recompute_context = context_fn()
        self.determinism_check = determinism_check
        self.debug = debug
        self.outputs: list = []
        self.forward_ops: list[str] = []

    def recompute(self) -> list:
        capture = _Capture()
        with self.rng.restored() if self.rng is not None else contextlib.nullcontext():
            with enable_grad(), self.recompute_context, capture.watching():
                result = self.function(*self.args, **self.kwargs)
        outputs = [o for o in _leaves(result) if _differentiable(o)]
        self._check(outputs, capture.ops)
        return outputs

    def _check(self, outputs: list, recompute_ops: list[str]) -> None:
        if self.determinism_check == "none":
            return
        before = [_metadata(o) for o in self.outputs]
        after = [_metadata(o) for o in outputs]
        if before == after:
            return
        lines = "".join(f"tensor at position {i}:\nsaved metadata: {b}\nrecomputed metadata: "
                        f"{a}\n" for i, (b, a) in enumerate(zip(before, after)) if a != b)
        if len(before) != len(after):
            lines += (f"the forward produced {len(before)} tensors, the recomputation "
                      f"{len(after)}\n")
        debug = self.debug if _debug[0] is None else _debug[0]
        detail = (f"\nOperators run in the forward: {self.forward_ops}\nOperators run in the "
                  f"recomputation: {recompute_ops}\n" if debug else
                  "\nTip: To see a more detailed error message, either pass `debug=True` to "
                  "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block with `with "
                  "torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to enable "
                  "checkpoint-debug mode globally.\n")
        raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following "
                              "tensors have different metadata than during the forward pass.\n"
                              f"{lines}.\n{detail}")


def _differentiable(x: Any) -> bool:
    return isinstance(x, Tensor) and x._data.dtype.kind in "fcV"


def _checkpoint_without_reentrant(function: Callable, preserve_rng: bool, context_fn: Callable,
                                  determinism_check: str, debug: bool, args: tuple,
                                  kwargs: dict) -> Any:
    run = _Run(function, args, kwargs, preserve_rng, context_fn, determinism_check, debug)
    capture = _Capture()
    with no_grad(), run.forward_context, capture.watching():
        result = function(*args, **kwargs)
    run.forward_ops = capture.ops
    for a in _leaves(list(args)) + list(kwargs.values()):  # inputs read by no op still count
        if isinstance(a, Tensor) and a._requires_grad and id(a) not in capture.tensors:
            capture.tensors[id(a)] = a
    outputs = [o for o in _leaves(result) if _differentiable(o)]
    if not outputs or not capture.tensors:
        return result
    run.outputs = outputs
    recorded = iter(_Recompute.apply(run, *capture.tensors.values()))
    return _map_structure(lambda o: next(recorded) if _differentiable(o) else o, result)


# ------------------------------------------------------------------ the public entry points
def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """Run `function(*args, **kwargs)` keeping only what is needed to run it again; backward
    recomputes it. See the module docstring for the two variants."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if not grad_state.enabled:
        with context_fn()[0]:
            return function(*args, **kwargs)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, args, kwargs)


def checkpoint_sequential(functions: Sequence[Callable] | Any, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Tensor:
    """Split a Sequential (or a list of modules) into `segments` chunks and checkpoint each
    chunk but the last, which runs normally (its activations are needed at once anyway)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not 1 <= segments <= max(len(functions), 1):
        raise ValueError(f"checkpoint_sequential: segments must be in [1, {len(functions)}] "
                         f"(the number of functions), got {segments}")
    size = len(functions) // segments

    def run_segment(start: int, end: int) -> Callable:
        def forward(x: Tensor) -> Tensor:
            for fn in functions[start:end]:
                x = fn(x)
            return x
        return forward

    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_segment(end, len(functions))(input)
