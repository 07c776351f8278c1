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
_active: dict[str, Any] = {}  # device type -> autocast dtype while enabled


def is_autocast_enabled(device_type: str | None = None) -> bool:
    return (device_type or "cuda") in _active


def get_autocast_dtype(device_type: str) -> Any:
    return _active.get(device_type, _DEFAULT_DTYPE.get(device_type, _dtypes.float16))


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
        self.fast_dtype = dtype if dtype is not None else _DEFAULT_DTYPE[device_type]
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
        self._previous: list = []

    def __enter__(self) -> autocast:
        self._previous.append(_active.get(self.device_type))
        if self._enabled:
            _active[self.device_type] = self.fast_dtype
        else:
            _active.pop(self.device_type, None)
        return self

    def __exit__(self, *exc: Any) -> None:
        previous = self._previous.pop()
        if previous is None:
            _active.pop(self.device_type, None)
        else:
            _active[self.device_type] = previous

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device_type, self.fast_dtype, self._enabled):
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
