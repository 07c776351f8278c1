"""torch.jit's Python surface, for model code written to be scriptable.

Ember has no TorchScript compiler. Like `ember.compile`, `script` and `trace` hand back the
module or function itself, which runs eagerly with the same results (`trace` runs it once on
the example inputs, as torch's does, so shape errors surface at the same place). The helpers
that scriptable model code calls (`is_scripting`, `annotate`, `Final`, `@ignore`, `@unused`,
`@export`, `fork`/`wait`) behave as they do in torch's eager mode. What is not here: TorchScript
archives (`jit.save`/`jit.load`); Ember's checkpoints hold data, never code, so save a
state_dict with `ember.save` instead.
"""

from __future__ import annotations

import builtins
import typing
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar  # noqa: F401 (Final: torch.jit.Final)

T = TypeVar("T")

_tracing = [False]


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """The module, function or class itself, run eagerly (Ember does not compile)."""
    if not callable(obj):
        raise RuntimeError(f"jit.script: expected a Module, a function or a class, got "
                           f"{type(obj).__name__}")
    return obj


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          example_kwarg_inputs: dict | None = None, **kwargs: Any) -> Any:
    """Run `func` once on the example inputs (under is_tracing()) and return it unchanged."""
    if not callable(func):
        raise RuntimeError(f"jit.trace: expected a Module or a function, got "
                           f"{type(func).__name__}")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("jit.trace: example_inputs or example_kwarg_inputs is required")
    args = example_inputs if builtins.isinstance(example_inputs, tuple) else (
        () if example_inputs is None else (example_inputs,))
    from .autograd.grad_mode import no_grad  # noqa: PLC0415

    _tracing[0] = True
    try:
        with no_grad():
            func(*args, **(example_kwarg_inputs or {}))
    finally:
        _tracing[0] = False
    return func


def trace_module(mod: Any, inputs: dict, **kwargs: Any) -> Any:
    """jit.trace for named methods: runs each `mod.<name>(*inputs[name])` once."""
    for name, example in inputs.items():
        trace(getattr(mod, name), example, **kwargs)
    return mod


def is_scripting() -> bool:
    """False: Ember code always runs as Python (torch's answer outside TorchScript)."""
    return False


def is_tracing() -> bool:
    return _tracing[0]


def annotate(the_type: Any, the_value: T) -> T:
    """A type hint for the TorchScript compiler; the value itself in eager mode."""
    return the_value


def _marker(fn: Callable | None = None, **kwargs: Any) -> Any:
    if fn is None:  # @ignore(drop=True) style
        return lambda f: f
    return fn


ignore = unused = export = _marker  # decorators that only steer the TorchScript compiler


def interface(obj: T) -> T:
    return obj


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 (torch.jit.isinstance)
    """Container-aware isinstance: `jit.isinstance(x, list[int])`, `dict[str, Tensor]`..."""
    origin = typing.get_origin(target_type)
    if origin is None:
        return target_type is Any or builtins.isinstance(obj, target_type)
    args = typing.get_args(target_type)
    if origin is typing.Union:
        return any(isinstance(obj, a) for a in args)
    if not builtins.isinstance(obj, origin):
        return False
    if origin in (list, set, frozenset) and args:
        return all(isinstance(v, args[0]) for v in obj)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return all(isinstance(v, args[0]) for v in obj)
        return len(obj) == len(args) and all(isinstance(v, a) for v, a in zip(obj, args))
    if origin is dict and args:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    return True


class Future(Generic[T]):
    """A finished computation's result (eager `fork` runs the function at once, as torch's)."""

    def __init__(self, value: T) -> None:
        self._value = value

    def wait(self) -> T:
        return self._value

    def value(self) -> T:
        return self._value

    def done(self) -> bool:
        return True


def fork(func: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    return Future(func(*args, **kwargs))


def wait(future: Future[T]) -> T:
    return future.wait()


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    """torch freezes a scripted eval-mode module for inference; eagerly it is the module."""
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    """freeze() after switching to eval mode, as torch does."""
    return freeze(mod.eval())
