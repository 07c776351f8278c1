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


def memory_reserved(device: Any = None) -> int:
    """Bytes CuPy's pool holds (in use or cached), torch's reserved memory."""
    if not is_available():
        return 0
    return int(backend.module_for(backend.device("cuda")).get_default_memory_pool().total_bytes())


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False  # Ember has no bfloat16 dtype (numpy has none)


def get_device_properties(device: Any = None) -> Any:
    """name, total_memory, major, minor and multi_processor_count of a GPU."""
    from types import SimpleNamespace  # noqa: PLC0415

    dev = backend.as_device(device if device is not None else "cuda")
    props = backend.module_for(dev).cuda.runtime.getDeviceProperties(dev.index or 0)
    name = props["name"]
    return SimpleNamespace(name=name.decode() if isinstance(name, bytes) else str(name),
                           total_memory=int(props["totalGlobalMem"]), major=int(props["major"]),
                           minor=int(props["minor"]),
                           multi_processor_count=int(props["multiProcessorCount"]))


class Event:
    """A CUDA event for timing GPU work: record(), synchronize(), elapsed_time(end) in ms."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False) -> None:
        cp = backend.module_for(backend.device("cuda"))
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)

    def record(self, stream: Any = None) -> None:
        self._event.record()

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        cp = backend.module_for(backend.device("cuda"))
        return float(cp.cuda.get_elapsed_time(self._event, end_event._event))


from . import amp  # noqa: E402  (amp's classes build on ember.amp, which needs the above)


from ..legacy_types import CUDA_TYPES as _CUDA_TYPES  # noqa: E402

globals().update(_CUDA_TYPES)  # ember.cuda.FloatTensor, ...
