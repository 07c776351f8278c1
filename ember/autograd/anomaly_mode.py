"""Anomaly mode: find the op, and the line of your code, that first produced a NaN or inf.

With `ember.autograd.set_detect_anomaly(True)` (or `with ember.autograd.detect_anomaly():`),
every recorded op remembers where it was called from. The first op whose forward output has a
NaN (or an inf) that none of its inputs had, or whose backward returns a NaN or inf, raises a
RuntimeError naming the op and that call site. It slows every op down: use it to debug.
"""

from __future__ import annotations

import os
import traceback
import weakref
from typing import Any

from .. import backend
from .node import Node, anomaly_state

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_stacks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _user_frames() -> list:
    """The call stack without Ember's own frames: where the user's code called the op."""
    frames = traceback.extract_stack()[:-1]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]


def _where(node: Node) -> str:
    frames = _stacks.get(node)
    if not frames:
        return "  (call site unknown: the op was recorded before anomaly mode was enabled)"
    return "".join(traceback.format_list(frames[-4:])).rstrip()


def _bad(values: Any, check_inf: bool) -> tuple:
    """(has_nan, has_inf) for an array or number."""
    if isinstance(values, (int, float)):
        v = float(values)
        return v != v, check_inf and v in (float("inf"), float("-inf"))
    if not backend.is_array(values) or values.dtype.kind != "f":
        return False, False
    xp = backend.module_of(values)
    return bool(xp.isnan(values).any()), check_inf and bool(xp.isinf(values).any())


def _on_forward(node: Node, result: Any, inputs: list) -> None:
    _stacks[node] = _user_frames()
    nan, inf = _bad(result._data, True)
    if not (nan or inf):
        return
    in_nan = in_inf = False
    for a in inputs:
        n, i = _bad(a, True)
        in_nan, in_inf = in_nan or n, in_inf or i
    kind = "nan" if nan and not in_nan else ("inf" if inf and not in_inf else None)
    if kind is None:
        return  # propagated from an input: the op that created it already reported
    op = node.name().replace("Backward0", "").replace("Backward", "")
    raise RuntimeError(
        f"Anomaly detected: {op} produced {kind} values in its output (forward pass), from "
        f"inputs without {kind}. The op was called at:\n{_where(node)}"
    )


def _on_backward(node: Node, grads: tuple) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        nan, inf = _bad(data, True)
        if nan or inf:
            kind = "nan" if nan else "inf"
            raise RuntimeError(
                f"Anomaly detected: Function '{node.name()}' returned {kind} values in its "
                f"{i}th output (backward pass). The forward call that created it was:\n"
                f"{_where(node)}"
            )


anomaly_state.on_forward = _on_forward  # type: ignore[method-assign]
anomaly_state.on_backward = _on_backward  # type: ignore[method-assign]


def is_anomaly_enabled() -> bool:
    return anomaly_state.enabled


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call, or as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = anomaly_state.enabled
        anomaly_state.enabled = bool(mode) and check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        anomaly_state.enabled = self.prev


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection inside it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = False

    def __enter__(self) -> None:
        self.prev = anomaly_state.enabled
        anomaly_state.enabled = self.check_nan

    def __exit__(self, *exc: Any) -> None:
        anomaly_state.enabled = self.prev

    def __call__(self, func: Any) -> Any:
        import functools  # noqa: PLC0415

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper
