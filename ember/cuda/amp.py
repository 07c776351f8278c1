"""torch.cuda.amp: the older spelling of `ember.amp` with the device fixed to CUDA."""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dtypes
from ..amp import autocast_mode
from ..amp import grad_scaler


class autocast(autocast_mode.autocast):
    def __init__(self, enabled: bool = True, dtype: Any = _dtypes.float16,
                 cache_enabled: bool = True) -> None:
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


def custom_fwd(fwd: Any = None, *, cast_inputs: Any = None) -> Any:
    """torch.cuda.amp.custom_fwd (deprecated there): ember.amp.custom_fwd for 'cuda'."""
    import warnings  # noqa: PLC0415

    from ..amp import custom_function  # noqa: PLC0415

    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.",
                  FutureWarning, stacklevel=2)
    return custom_function.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Any = None) -> Any:
    """torch.cuda.amp.custom_bwd (deprecated there): ember.amp.custom_bwd for 'cuda'."""
    import warnings  # noqa: PLC0415

    from ..amp import custom_function  # noqa: PLC0415

    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.",
                  FutureWarning, stacklevel=2)
    return custom_function.custom_bwd(bwd, device_type="cuda")
