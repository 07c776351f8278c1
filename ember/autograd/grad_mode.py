"""Whether operations are recorded for backward: no_grad, enable_grad, set_grad_enabled.

The flag is thread-local like torch's, so a data-loading thread that runs under `no_grad` never
switches recording off for the training thread.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, TypeVar

from ..doctor.flags import flags as _doctor
from . import inference_tensors

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    def __init__(self) -> None:
        self.enabled = True  # record ops for backward
        self.create_graph = False  # inside a backward that records its own graph
        self.inference = 0  # depth of active inference_mode(True) regions


state = _GradState()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference > 0


class _GradModeContext:
    """Base for grad-mode switches usable as `with no_grad():`, `@no_grad()` and `@no_grad`."""

    mode: bool = False

    def __new__(cls, func: Callable | None = None) -> Any:
        if func is not None and callable(func) and cls is not set_grad_enabled:
            return cls()(func)  # used as a bare decorator: @no_grad
        return super().__new__(cls)

    def __init__(self, func: Callable | None = None) -> None:
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(state.enabled)
        state.enabled = self.mode
        if _doctor.no_grad_watch and not self.mode:  # the training doctor looks at no_grad
            _doctor.no_grad_entered(self)

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self.prev.pop()
        if _doctor.armed and state.enabled:
            _doctor.armed = False

    def __call__(self, func: F) -> F:
        mode_cls = type(self)
        mode_args = self._clone_args()

        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator(*args: Any, **kwargs: Any) -> Any:
                gen = func(*args, **kwargs)
                with mode_cls(*mode_args):
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        gen.close()
                        raise
                    with mode_cls(*mode_args):
                        try:
                            response = gen.send(request)
                        except StopIteration as stop:
                            return stop.value

            return generator  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode_cls(*mode_args):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _clone_args(self) -> tuple:
        return ()

    def clone(self) -> _GradModeContext:
        return type(self)(*self._clone_args())


class no_grad(_GradModeContext):
    """Do not record operations: use for inference and for updating parameters by hand.

    >>> with ember.no_grad():
    ...     y = model(x)          # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradModeContext):
    """Record operations again inside a `no_grad` region."""

    mode = True


class inference_mode(_GradModeContext):
    """torch.inference_mode: `no_grad(mode)`, and the tensors made inside are inference
    tensors (autograd/inference_tensors.py)."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.mode = not mode
        self._arg = mode

    def __enter__(self) -> None:
        super().__enter__()
        self.prev_inference = getattr(self, "prev_inference", [])
        self.prev_inference.append(state.inference)
        state.inference = state.inference + 1 if self._arg else 0
        if self._arg:
            inference_tensors.enter_region()

    def __exit__(self, *exc: Any) -> None:
        state.inference = self.prev_inference.pop()
        if self._arg:
            inference_tensors.exit_region()
        super().__exit__(*exc)

    def _clone_args(self) -> tuple:
        return (self._arg,)


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off; works as a function call and as a context manager."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self.prev = [state.enabled]
        state.enabled = self.mode  # takes effect at once, like torch
        if _doctor.no_grad_watch and not self.mode:
            _doctor.armed = _doctor.inference
        elif _doctor.armed and self.mode:
            _doctor.armed = False

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self.prev[0]
        if _doctor.armed and state.enabled:
            _doctor.armed = False

    def _clone_args(self) -> tuple:
        return (self.mode,)

    def __call__(self, func: F) -> F:
        state.enabled = self.prev[0]  # used as a decorator: undo the immediate switch
        return super().__call__(func)
