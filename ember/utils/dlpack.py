"""torch.utils.dlpack's names: move arrays between frameworks without copying."""

from __future__ import annotations

from typing import Any

from ..creation import from_dlpack as _from_dlpack


def from_dlpack(ext_tensor: Any) -> Any:
    """A tensor sharing memory with a DLPack-capable object or a capsule from `to_dlpack`."""
    return _from_dlpack(ext_tensor)


def to_dlpack(tensor: Any) -> Any:
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack)."""
    return tensor.__dlpack__()


__all__ = ["from_dlpack", "to_dlpack"]
