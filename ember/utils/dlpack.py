"""torch.utils.dlpack's names: move arrays between frameworks without copying."""

from __future__ import annotations

from typing import Any

from ..creation import from_dlpack as _from_dlpack


class _Capsule:
    """Presents a bare DLPack capsule (from `to_dlpack`) through the `__dlpack__` protocol."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)  # capsules from to_dlpack on CPU tensors


def from_dlpack(ext_tensor: Any) -> Any:
    """A tensor sharing memory with a DLPack-capable object or a capsule from `to_dlpack`."""
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    return _from_dlpack(ext_tensor)


def to_dlpack(tensor: Any) -> Any:
    """A DLPack capsule for `tensor` (prefer passing the tensor itself to from_dlpack)."""
    return tensor.__dlpack__()


__all__ = ["from_dlpack", "to_dlpack"]
