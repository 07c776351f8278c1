"""ember.accelerator (torch.accelerator): the device-agnostic way scripts pick a GPU,
`device = ember.accelerator.current_accelerator() if ember.accelerator.is_available() else "cpu"`.
Ember's one accelerator kind is CUDA (through CuPy)."""

from __future__ import annotations

from typing import Any

from . import backend, cuda


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """device('cuda') when CuPy sees a GPU, else None."""
    return backend.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def current_device_index() -> int:
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device: Any) -> None:
    cuda.set_device(device)


set_device_idx = set_device_index


def synchronize(device: Any = None) -> None:
    cuda.synchronize(device)


def empty_cache() -> None:
    cuda.empty_cache()


def memory_allocated(device_index: Any = None) -> int:
    return cuda.memory_allocated(device_index)


def memory_reserved(device_index: Any = None) -> int:
    return cuda.memory_reserved(device_index)
