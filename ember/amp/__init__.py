"""torch.amp: automatic mixed precision (`autocast`) and loss scaling (`GradScaler`)."""

from .autocast_mode import autocast, cast_inputs, get_autocast_dtype, is_autocast_enabled
from .custom_function import custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "cast_inputs", "custom_bwd", "custom_fwd",
           "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled"]
