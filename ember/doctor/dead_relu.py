"""Check 7, `dead_relu` (opt-in, heavier): ReLU units that never fire over many batches.

While the check is on, the ReLU op records, for every training forward pass (grad enabled),
which units gave a positive output for at least one sample. A layer is an `nn.ReLU` module
(named by its path in the model) or, for `F.relu`/`.relu()` calls, the user's source line.
Units: the features of (N, F) outputs, the channels of (N, C, H, W) and (N, C, D, H, W)
outputs, the last dimension of (N, T, F) outputs. After `dead_relu_batches` batches (default
100), a layer with at least `dead_relu_fraction` (default 25%) of its units never active is
reported; `ember doctor`'s report lists every layer's count.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

from .. import backend
from ..autograd.grad_mode import state as grad_state
from ..nn.modules.activation import ReLU
from ..ops.unary import Relu
from .config import emit, state
from .where import describe, module_name, user_frame

CHECK = "dead_relu"
_original: list = []  # Relu.forward while the check is installed
_layers: dict = {}  # key (module weakref or site) -> record dict
_RELU_CODE = ReLU.forward.__code__


def forget() -> None:
    _layers.clear()


def install(check: str) -> None:
    if _original:
        return
    _original.append(Relu.forward)
    original = Relu.forward

    def forward(self: Any, x: Any) -> Any:
        y = original(self, x)
        if grad_state.enabled:
            _record(y)
        return y

    Relu.forward = forward  # type: ignore[method-assign]


def uninstall(check: str) -> None:
    if _original:
        Relu.forward = _original.pop()  # type: ignore[method-assign]


def _layer_key() -> tuple:
    """(key, module or None, site or None) of the ReLU being run."""
    frame = sys._getframe(3)
    for _ in range(8):
        if frame is None:
            break
        if frame.f_code is _RELU_CODE:
            module = frame.f_locals.get("self")
            return ("module", id(module)), module, None
        frame = frame.f_back
    f = user_frame()
    site = (f.f_code.co_filename, f.f_lineno) if f is not None else ("?", 0)
    return ("site", site), None, site


def _axes(ndim: int) -> tuple | None:
    if ndim == 2:
        return (0,)
    if ndim == 3:
        return (0, 1)
    if ndim in (4, 5):
        return (0,) + tuple(range(2, ndim))
    return None


def _record(y: Any) -> None:
    axes = _axes(y.ndim)
    if axes is None or y.dtype.kind not in "fV":
        return
    key, module, site = _layer_key()
    entry = _layers.get(key)
    fired = (y > 0).any(axis=axes)
    if entry is None or entry["active"].shape != fired.shape or (
            module is not None and entry["module"]() is not module):
        if len(_layers) > 256:
            return
        entry = _layers[key] = {
            "active": fired.copy(), "batches": 0, "reported": False,
            "module": weakref.ref(module) if module is not None else (lambda: None),
            "site": site, "name": None}
        entry["name"] = _name(entry)
    else:
        entry["active"] |= fired
    entry["batches"] += 1
    if not entry["reported"] and entry["batches"] >= state.options["dead_relu_batches"]:
        entry["reported"] = True
        units = int(fired.size)
        dead = units - int(backend.module_of(fired).count_nonzero(entry["active"]))
        if dead and dead >= state.options["dead_relu_fraction"] * units:
            _warn(entry, dead, units)


def _name(entry: dict) -> str:
    if entry["name"] is not None:
        return entry["name"]
    module = entry["module"]()
    if module is not None:
        return module_name(module)
    return f"relu at {describe(entry['site'])}" if entry["site"] else "a ReLU"


def _warn(entry: dict, dead: int, units: int) -> None:
    site = entry["site"] or _user_site()
    emit(CHECK, (
        f"{_name(entry)}: {dead} of {units} units ({dead / units:.0%}) were never active "
        f"(output > 0) over {entry['batches']} training batches.\n"
        "  Why it matters: a dead ReLU outputs 0 for every input, so it gets no gradient and "
        "never recovers: that share of the layer is wasted.\n"
        "  Fix: lower the learning rate (a large update can push pre-activations below 0 for "
        "good), use Kaiming (He) initialization, check for large negative biases, or use "
        "LeakyReLU/GELU."), site)


def _user_site() -> tuple:
    f = user_frame()
    return (f.f_code.co_filename, f.f_lineno) if f is not None else ("?", 0)


def summary() -> list[tuple]:
    """(layer name, units never active, units, batches) for every layer seen."""
    rows = []
    for entry in _layers.values():
        units = int(entry["active"].size)
        dead = units - int(backend.module_of(entry["active"]).count_nonzero(entry["active"]))
        rows.append((_name(entry), dead, units, entry["batches"]))
    return rows
