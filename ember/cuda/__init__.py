"""ember.cuda: whether a GPU (through CuPy) is available, and a few device utilities."""

from __future__ import annotations

from typing import Any

from .. import backend


def is_available() -> bool:
    """True when cupy is installed and sees at least one NVIDIA GPU."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.cuda_device_count()


def current_device() -> int:
    cp = backend.module_for(backend.device("cuda"))
    return int(cp.cuda.runtime.getDevice())


def set_device(device: Any) -> None:
    dev = backend.as_device(device)
    backend.module_for(dev).cuda.runtime.setDevice(dev.index or 0)


def synchronize(device: Any = None) -> None:
    """Wait for all queued GPU work (for timing)."""
    if is_available():
        backend.module_for(backend.device("cuda")).cuda.runtime.deviceSynchronize()


def manual_seed(seed: int) -> None:
    from ..random import _generator_for  # noqa: PLC0415

    for i in range(device_count()):
        _generator_for(backend.device("cuda", i), None).manual_seed(seed)


manual_seed_all = manual_seed


def get_device_name(device: Any = None) -> str:
    dev = backend.as_device(device if device is not None else "cuda")
    cp = backend.module_for(dev)
    props = cp.cuda.runtime.getDeviceProperties(dev.index or 0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def memory_allocated(device: Any = None) -> int:
    if not is_available():
        return 0
    return int(backend.module_for(backend.device("cuda")).get_default_memory_pool().used_bytes())


def empty_cache() -> None:
    if is_available():
        backend.module_for(backend.device("cuda")).get_default_memory_pool().free_all_blocks()


from . import amp  # noqa: E402  (amp's classes build on ember.amp, which needs the above)
