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
