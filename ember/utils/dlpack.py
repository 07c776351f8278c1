"""torch.utils.dlpack's names: move arrays between frameworks without copying."""

from __future__ import annotations

from typing import Any

from ..creation import from_dlpack


def to_dlpack(tensor: Any) -> Any:
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack)."""
    return tensor.__dlpack__()


__all__ = ["from_dlpack", "to_dlpack"]
