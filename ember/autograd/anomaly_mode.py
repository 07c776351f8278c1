"""Anomaly mode: find the op, and the line of your code, that first produced a NaN or inf.

With `ember.autograd.set_detect_anomaly(True)` (or `with ember.autograd.detect_anomaly():`),
every recorded op remembers where it was called from. The first op whose forward output has a
NaN (or an inf) that none of its inputs had, or whose backward returns a NaN or inf, raises a
RuntimeError naming the op and that call site. It slows every op down: use it to debug.

`ember.doctor`'s `nonfinite` check reuses this machinery through `watch()`: a callback gets the
same message instead of an exception, and each op remembers only its innermost user frame
(not the whole stack), so watching costs little. The user's anomaly mode takes precedence.
"""

from __future__ import annotations

import os
import sys
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from .. import backend
from .node import Node, anomaly_state

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_stacks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> its user frame


class _Mode:
    user = False  # detect_anomaly() / set_detect_anomaly(True): raise
    check_nan = True  # check_nan=False: record call sites only, raise for no NaN/inf (torch)
    # the doctor: watcher(what, phase, frames) instead of raising (`what`: the message up to
    # "The op was called at", `frames`: the user's frames of the op's call, innermost last)
    watcher: Callable[[str, str, list], None] | None = None


_mode = _Mode()


def _sync() -> None:
    anomaly_state.enabled = _mode.user or _mode.watcher is not None


def watch(callback: Callable[[str, str, list], None] | None) -> None:
    """Send anomalies to `callback(what, phase, frames)` instead of raising while the user's
    anomaly mode is off (None: stop)."""
    _mode.watcher = callback
    _sync()


def _user_frames() -> list:
    """The call stack without Ember's own frames: where the user's code called the op."""
    frames = traceback.extract_stack()[:-1]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]


_in_ember: dict = {}  # code object -> whether it is Ember's


def _is_ember(code: Any) -> bool:
    known = _in_ember.get(code)
    if known is None:
        known = _in_ember[code] = os.path.abspath(code.co_filename).startswith(_EMBER_DIR)
    return known


def _user_frame() -> traceback.FrameSummary | None:
    """The innermost frame outside Ember (cheap: no stack extraction)."""
    frame = sys._getframe(2)
    while frame is not None and _is_ember(frame.f_code):
        frame = frame.f_back
    if frame is None:
        return None
    return traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _frames(node: Node) -> list:
    frames = _stacks.get(node)
    if not frames:
        site = _sites.get(node)
        frames = [site] if site is not None else []
    return frames


def _where(node: Node) -> str:
    frames = _frames(node)
    if not frames:
        return "  (call site unknown: the op was recorded before anomaly mode was enabled)"
    return "".join(traceback.format_list(frames[-4:])).rstrip()


def _report(what: str, where: str, phase: str, node: Node) -> None:
    if _mode.user or _mode.watcher is None:
        raise RuntimeError(f"{what} {where}:\n{_where(node)}")
    _mode.watcher(what, phase, _frames(node))


def _bad(values: Any, check_inf: bool) -> tuple:
    """(has_nan, has_inf) for an array or number."""
    if isinstance(values, (int, float)):
        v = float(values)
        return v != v, check_inf and v in (float("inf"), float("-inf"))
    if not backend.is_array(values) or values.dtype.kind not in "fV":
        return False, False
    xp = backend.module_of(values)
    return bool(xp.isnan(values).any()), check_inf and bool(xp.isinf(values).any())


def _on_forward(node: Node, result: Any, inputs: list) -> None:
    if _mode.user:
        _stacks[node] = _user_frames()
    else:
        site = _user_frame()
        if site is not None:
            _sites[node] = site
    if _mode.user and not _mode.check_nan:
        return
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
    if not _mode.user:  # the op is running now: its call site is on the stack
        _stacks[node] = _user_frames()
    _report(f"Anomaly detected: {op} produced {kind} values in its output (forward pass), "
            f"from inputs without {kind}.", "The op was called at", "forward", node)


def _on_backward(node: Node, grads: tuple) -> None:
    if _mode.user and not _mode.check_nan:
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        nan, inf = _bad(data, True)
        if nan or inf:
            kind = "nan" if nan else "inf"
            _report(f"Anomaly detected: Function '{node.name()}' returned {kind} values in "
                    f"its {i}th output (backward pass).", "The forward call that created it was",
                    "backward", node)
            return


anomaly_state.on_forward = _on_forward  # type: ignore[method-assign]
anomaly_state.on_backward = _on_backward  # type: ignore[method-assign]


def is_anomaly_enabled() -> bool:
    return _mode.user


def is_anomaly_check_nan_enabled() -> bool:
    return _mode.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """The plain call under set_detect_anomaly / detect_anomaly (torch._C's spelling)."""
    _mode.user, _mode.check_nan = bool(enabled), bool(check_nan)
    _sync()


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a call, or as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_mode.user, _mode.check_nan)
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        set_anomaly_enabled(*self.prev)


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection inside it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = (False, True)

    def __enter__(self) -> None:
        self.prev = (_mode.user, _mode.check_nan)
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        set_anomaly_enabled(*self.prev)

    def __call__(self, func: Any) -> Any:
        import functools  # noqa: PLC0415

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper
