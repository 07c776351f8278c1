"""custom_fwd / custom_bwd: autocast for user-written autograd.Function classes.

An autograd.Function's backward runs later, outside the `with autocast(...)` block its forward
ran in. `@custom_fwd` notes on ctx whether autocast was on (or, with `cast_inputs=dtype`, casts
the floating inputs and runs forward with autocast off); `@custom_bwd` runs backward under the
same autocast state as forward, so both halves compute in the same precision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled


def _check_device_type(device_type: Any) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def _cast(value: Any, device_type: str, dtype: Any) -> Any:
    """Floating tensors on `device_type` (inside lists, tuples and dicts too) cast to dtype."""
    from ..tensor import Tensor  # noqa: PLC0415

    if isinstance(value, Tensor):
        if value.is_floating_point() and value.device.type == device_type:
            return value.to(dtype)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, device_type, dtype) for k, v in value.items()}
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str,
               cast_inputs: Any = None) -> Callable:
    """Decorate a Function's forward(ctx, ...); see the module docstring."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        enabled = is_autocast_enabled(device_type)
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = enabled
            return fwd(ctx, *args, **kwargs)
        ctx._fwd_used_autocast = False
        if not enabled:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))

    return forward


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorate a Function's backward(ctx, ...) to run under forward's autocast state."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        with autocast(device_type, dtype=ctx._dtype, enabled=ctx._fwd_used_autocast):
            return bwd(ctx, *args, **kwargs)

    return backward


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports this device type: 'cuda' and 'cpu' in Ember."""
    return device_type in ("cuda", "cpu")
