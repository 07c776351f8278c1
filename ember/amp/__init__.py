"""torch.amp: automatic mixed precision (`autocast`) and loss scaling (`GradScaler`)."""

from .autocast_mode import autocast, cast_inputs, get_autocast_dtype, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "cast_inputs", "get_autocast_dtype", "is_autocast_enabled"]
