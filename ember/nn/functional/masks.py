"""Attention-mask helpers torch keeps private in nn.functional but user code (custom attention
layers copied from torch's transformer.py) calls: `_canonical_mask`, `_none_or_dtype`."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .multi_head_attention import _additive_mask


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str,
                    target_type: Any, check_other: bool = True) -> Tensor | None:
    """A bool mask (True = masked out) as a float one of `target_type` (-inf there, 0
    elsewhere); a float mask is returned as is. Warns when mask and other differ in dtype."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"_canonical_mask: {mask_name} must be a Tensor or None, got "
                        f"{type(mask).__name__}")
    return _additive_mask(mask, target_type, mask_name, other_name=other_name,
                          other_type=other_type if check_other else None)


def _none_or_dtype(input: Tensor | None) -> Any:
    """input.dtype, or None for None (torch's helper for _canonical_mask's other_type)."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")
