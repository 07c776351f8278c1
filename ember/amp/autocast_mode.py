"""Automatic mixed precision (torch.autocast): matrix products in float16, the rest in float32.

Inside `with autocast("cuda"):` the ops that gain most from half precision (linear, matmul and
its batched forms, convolutions, attention) cast their floating inputs to the autocast dtype;
the losses (torch's float32 list: cross_entropy, nll_loss, mse_loss, ...) cast 16-bit inputs up
to float32, so a loss under autocast is float32 as on torch; everything else runs in the dtype
of its inputs, so parameters stay float32 and their gradients arrive in float32 (the casts are
differentiable). Pair it with `GradScaler`.

On the CPU the default is bfloat16, as in torch; it needs the optional ml_dtypes package
(numpy has no bfloat16), and without it `autocast("cpu")` says to install it or to pass
`dtype=ember.float16`. Autocast for CUDA on a machine without a GPU disables itself with a
warning, as torch does.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .. import backend
from .. import dtypes as _dtypes

_DEFAULT_DTYPE = {"cuda": _dtypes.float16, "cpu": _dtypes.bfloat16}
_SUPPORTED = (_dtypes.float16, _dtypes.bfloat16)
_active: dict[str, Any] = {}  # device type -> autocast dtype while enabled (what ops read)
# device type -> the dtype autocast casts to, kept apart from the on/off flag as in torch
# (set_autocast_dtype while disabled takes effect when it is enabled)
_chosen: dict[str, Any] = dict(_DEFAULT_DTYPE)
_settings = {"cache_enabled": True, "nesting": 0}


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` (no argument: 'cuda', torch's legacy form)."""
    return (device_type or "cuda") in _active


def get_autocast_dtype(device_type: str) -> Any:
    return _chosen.get(device_type, _dtypes.float16)


def set_autocast_enabled(device_type: Any, enabled: bool | None = None) -> None:
    """set_autocast_enabled(device_type, enabled), or torch's legacy set_autocast_enabled(enabled)
    for 'cuda'. Turns autocast on or off outside a `with autocast(...)` block."""
    if enabled is None:  # legacy one-argument form
        device_type, enabled = "cuda", device_type
    _device(device_type)
    if enabled:
        _active[device_type] = _chosen[device_type]
    else:
        _active.pop(device_type, None)


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """The dtype autocast casts to on `device_type` (float16 or bfloat16)."""
    _device(device_type)
    if dtype not in _SUPPORTED:
        raise RuntimeError(f"set_autocast_dtype: Ember supports dtypes float16 and bfloat16, got "
                           f"{dtype}")
    _chosen[device_type] = dtype
    if device_type in _active:
        _active[device_type] = dtype


def is_autocast_cpu_enabled() -> bool:
    _deprecated("torch.is_autocast_cpu_enabled() is deprecated. Please use torch.is_autocast_enabled('cpu') instead.")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("torch.set_autocast_cpu_enabled(enabled) is deprecated. Please use torch.set_autocast_enabled('cpu', enabled) instead.")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> Any:
    _deprecated("torch.get_autocast_cpu_dtype() is deprecated. Please use torch.get_autocast_dtype('cpu') instead.")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: Any) -> None:
    _deprecated("torch.set_autocast_cpu_dtype(dtype) is deprecated. Please use torch.set_autocast_dtype('cpu', dtype) instead.")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> Any:
    _deprecated("torch.get_autocast_gpu_dtype() is deprecated. Please use torch.get_autocast_dtype('cuda') instead.")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: Any) -> None:
    _deprecated("torch.set_autocast_gpu_dtype(dtype) is deprecated. Please use torch.set_autocast_dtype('cuda', dtype) instead.")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    return _settings["cache_enabled"]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """torch caches the casts of leaf weights inside an autocast region; Ember casts each time
    (the flag is kept so code that saves and restores it works)."""
    _settings["cache_enabled"] = bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing to clear: Ember keeps no cache of casts (see set_autocast_cache_enabled)."""


def autocast_increment_nesting() -> int:
    _settings["nesting"] += 1
    return _settings["nesting"]


def autocast_decrement_nesting() -> int:
    _settings["nesting"] -= 1
    return _settings["nesting"]


def _deprecated(message: str) -> None:
    """torch's words for its legacy per-device spellings, with 'torch' as the module name."""
    warnings.warn(message.replace("torch.", "ember."), DeprecationWarning, stacklevel=3)


def _device(device_type: Any) -> None:
    if device_type not in _DEFAULT_DTYPE:
        raise RuntimeError(f"autocast: device_type must be 'cuda' or 'cpu' in Ember, got "
                           f"'{device_type}'")


class autocast:
    """Context manager and decorator: `with autocast("cuda"):` / `@autocast("cuda")`."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEFAULT_DTYPE:
            raise RuntimeError(f"autocast: device_type must be 'cuda' or 'cpu' in Ember, got "
                               f"'{device_type}'")
        self.device_type = device_type
        self.fast_dtype = dtype if dtype is not None else get_autocast_dtype(device_type)
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda" and not backend.cuda_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if self.fast_dtype not in _SUPPORTED:
                raise RuntimeError(f"autocast: Ember supports dtypes float16 and bfloat16, got "
                                   f"{self.fast_dtype}")
            if self.fast_dtype is _dtypes.bfloat16 and _dtypes.bfloat16 not in _dtypes.ALL:
                raise RuntimeError("autocast: bfloat16 (the CPU default) needs the ml_dtypes "
                                   "package: pip install ml_dtypes, or pass "
                                   "dtype=ember.float16 (or enabled=False)")
        self._cache_enabled = cache_enabled
        self._previous: list = []

    def __enter__(self) -> autocast:
        device = self.device_type
        self._previous.append((_active.get(device), _chosen[device],
                               _settings["cache_enabled"]))
        _chosen[device] = self.fast_dtype  # as torch: set even when entering disabled
        if self._enabled:
            _active[device] = self.fast_dtype
        else:
            _active.pop(device, None)
        autocast_increment_nesting()
        if self._cache_enabled is not None:
            _settings["cache_enabled"] = self._cache_enabled
        return self

    def __exit__(self, *exc: Any) -> None:
        previous, _chosen[self.device_type], _settings["cache_enabled"] = self._previous.pop()
        autocast_decrement_nesting()
        if previous is None:
            _active.pop(self.device_type, None)
        else:
            _active[self.device_type] = previous

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device_type, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return wrapper


def cast_inputs(*tensors: Any) -> tuple:
    """The lower-precision ops call this on their tensor inputs: floating tensors on a device
    under autocast become the autocast dtype (differentiably); anything else passes through."""
    if not _active:
        return tensors
    out = []
    for t in tensors:
        dtype = None if t is None or not hasattr(t, "device") else _active.get(t.device.type)
        if dtype is not None and t.dtype.is_floating_point and t.dtype is not dtype:
            t = t.to(dtype)
        out.append(t)
    return tuple(out)


def _to_float32(t: Any) -> Any:
    if not hasattr(t, "device") or not hasattr(t, "dtype"):
        return t
    if t.dtype in _SUPPORTED and t.device.type in _active:
        return t.to(_dtypes.float32)
    return t


def float32_op(func: Callable) -> Callable:
    """Mark an op of torch's autocast float32 list (the losses): inside autocast its float16 and
    bfloat16 tensor arguments are cast to float32 first."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _active:
            args = tuple(_to_float32(a) for a in args)
            kwargs = {k: _to_float32(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    return wrapper


def refuse_unsafe(op: str, *tensors: Any) -> None:
    """binary_cross_entropy under CUDA autocast: torch refuses it (16-bit probabilities)."""
    if "cuda" in _active and any(getattr(t, "device", None) is not None
                                 and t.device.type == "cuda" for t in tensors):
        raise RuntimeError(
            f"torch.nn.functional.{op} and torch.nn.BCELoss are unsafe to autocast.\n"
            "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
            "In this case, combine the two layers using "
            "torch.nn.functional.binary_cross_entropy_with_logits\n"
            "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits "
            "are\nsafe to autocast.")
