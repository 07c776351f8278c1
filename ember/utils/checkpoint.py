"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

`checkpoint(fn, *args)` runs `fn` without recording a graph, so none of its intermediate
activations are kept; backward runs `fn` again from the saved inputs (with the random-number
state of the first run, so dropout draws the same masks) and back-propagates through that
recomputation. Memory for a checkpointed block: its inputs instead of all its activations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import random
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..autograd.grad_mode import state as grad_state
from ..creation import zeros
from ..tensor import Tensor


class _Recompute(Function):
    """Forward without a graph; backward recomputes `run(*args)` with one and differentiates it.

    The first argument is a one-element tensor that requires grad, so that the call is recorded
    even when no input needs a gradient but `run`'s parameters do.
    """

    @staticmethod
    def forward(ctx: Any, anchor: Tensor, run: Callable, preserve_rng: bool, kwargs: dict,
                *args: Any) -> Any:
        ctx.run, ctx.kwargs = run, kwargs
        ctx.rng_state = random.get_rng_state() if preserve_rng else None
        ctx.args = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run(*args, **kwargs)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        saved = iter(ctx.saved_tensors)
        args, inputs = [], []
        for a in ctx.args:
            if a is None:
                t = next(saved)
                a = t.detach().requires_grad_(t.requires_grad)
                if a.requires_grad:
                    inputs.append(a)
            args.append(a)
        current_rng = random.get_rng_state()
        if ctx.rng_state is not None:
            random.set_rng_state(ctx.rng_state)
        try:
            with enable_grad():
                outputs = ctx.run(*args, **ctx.kwargs)
        finally:
            random.set_rng_state(current_rng)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            engine.backward([o for o, _ in pairs], [g for _, g in pairs])
        input_grads = [a.grad if isinstance(a, Tensor) and a.requires_grad else None
                       for a in args]
        return (None, None, None, None, *input_grads)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable | None = None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """Run `function(*args, **kwargs)` keeping only its inputs; recompute it in backward.

    Parameters used inside `function` receive their gradients during that recomputation (they
    are accumulated into `.grad`, as `loss.backward()` does), so `autograd.grad` with respect to
    them is not supported through a checkpoint. `use_reentrant` is accepted for torch's
    signature: both of torch's modes behave as this one implementation.
    """
    if context_fn is not None:
        raise ValueError("checkpoint: context_fn is not supported by Ember")
    if not grad_state.enabled:
        return function(*args, **kwargs)
    anchor = zeros(1, requires_grad=True)
    return _Recompute.apply(anchor, function, preserve_rng_state, kwargs, *args)


def checkpoint_sequential(functions: Sequence[Callable] | Any, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Tensor:
    """Split a Sequential (or a list of modules) into `segments` chunks and checkpoint each
    chunk but the last, which runs normally (its activations are needed at once anyway)."""
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not 1 <= segments <= max(len(functions), 1):
        raise ValueError(f"checkpoint_sequential: segments must be in [1, {len(functions)}] "
                         f"(the number of functions), got {segments}")
    size = len(functions) // segments
    bounds = [(i * size, (i + 1) * size if i < segments - 1 else len(functions))
              for i in range(segments)]

    def run_segment(start: int, end: int) -> Callable:
        def forward(x: Tensor) -> Tensor:
            for fn in functions[start:end]:
                x = fn(x)
            return x
        return forward

    for start, end in bounds[:-1]:
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_segment(*bounds[-1])(input)


__all__ = ["checkpoint", "checkpoint_sequential"]
