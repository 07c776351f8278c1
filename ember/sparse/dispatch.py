"""`ember.<op>(sparse, ...)`: the top-level functions reach SparseTensor's methods, as torch's
dispatcher sends `torch.neg(s)` to the sparse kernel.

Ember's top-level functions are written for dense arrays; SparseTensor overrides the methods
that have a sparse meaning (ember/sparse/tensor.py, inplace.py). For each top-level function
whose method SparseTensor overrides, the exported function first compares the input's class
(one pointer test for dense calls) and, for a sparse tensor, calls its method.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .tensor import SparseTensor

# torch's other spellings of overridden methods
_ALIASES = {"subtract": "sub", "swapaxes": "transpose", "swapdims": "transpose"}
# already layout-aware, or not meaningful as a function of a sparse first argument
_SKIP = {"mm", "matmul", "select", "index_select", "narrow", "t_", "transpose_"}


def _overridden() -> set:
    names: set = set()
    for cls in SparseTensor.__mro__:
        if cls.__name__ in ("Tensor", "TensorMethods", "object"):
            continue
        names.update(n for n, v in vars(cls).items()
                     if not n.startswith("_") and callable(v) and not isinstance(v, type))
    return names - _SKIP


_MISSING = object()


def _routed(fn: Callable, method: str) -> Callable:
    @functools.wraps(fn)
    def call(input: Any = _MISSING, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 (torch's)
        if input.__class__ is SparseTensor:
            return getattr(input, method)(*args, **kwargs)
        if input is _MISSING:
            return fn(*args, **kwargs)
        return fn(input, *args, **kwargs)

    call.__wrapped_dense__ = fn  # type: ignore[attr-defined]
    return call


def route_top_level_functions(namespace: dict) -> None:
    """Wrap the functions of `namespace` (the ember module's globals) that SparseTensor
    overrides as methods."""
    overridden = _overridden()
    for name, fn in list(namespace.items()):
        method = _ALIASES.get(name, name)
        if (method in overridden and callable(fn) and not isinstance(fn, type)
                and not hasattr(fn, "__wrapped_dense__")):
            namespace[name] = _routed(fn, method)
