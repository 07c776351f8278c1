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
    """Whether bfloat16 tensors can live on the GPU: ml_dtypes installed and CuPy able to hold
    its arrays (probed); False without a GPU, as in torch."""
    return backend.cuda_available() and backend.cuda_bfloat16_supported()


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


def _cupy() -> Any:
    """cupy, or the backend's error saying how to get a GPU (torch: 'not compiled with CUDA')."""
    return backend.module_for(backend.device("cuda"))


def is_initialized() -> bool:
    return is_available()


def init() -> None:
    """Fail early, with the reason, when no GPU can be used."""
    _cupy()


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """(free, total) bytes of the GPU, as the driver reports them."""
    free, total = _cupy().cuda.runtime.memGetInfo()
    return int(free), int(total)


def get_device_capability(device: Any = None) -> tuple[int, int]:
    props = get_device_properties(device)
    return props.major, props.minor


def get_arch_list() -> list[str]:
    """The compute capability of the GPU CuPy compiles for (torch lists its wheel's targets);
    empty without a GPU, as torch's CPU build."""
    if not is_available():
        return []
    major, minor = get_device_capability()
    return [f"sm_{major}{minor}"]


def memory_stats(device: Any = None) -> dict:
    """The current allocated and reserved bytes of CuPy's pool, under torch's key names (torch
    reports many more counters); empty without a GPU, as torch's."""
    if not is_available():
        return {}
    return {"allocated_bytes.all.current": memory_allocated(device),
            "reserved_bytes.all.current": memory_reserved(device)}


def memory_summary(device: Any = None, abbreviated: bool = False) -> str:
    stats = memory_stats(device)
    if not stats:
        return "No GPU: Ember allocates on the CPU only.\n"
    return (f"Ember CUDA memory (CuPy pool)\n"
            f"  allocated: {stats['allocated_bytes.all.current'] / 2**20:.1f} MiB\n"
            f"  reserved:  {stats['reserved_bytes.all.current'] / 2**20:.1f} MiB\n")


def _peak(what: str) -> int:
    if not is_available():
        return 0  # torch's CPU build answers 0 as well
    raise RuntimeError(f"{what}: Ember does not track peak GPU memory (CuPy's pool keeps no "
                       f"high-water mark); use memory_allocated() / memory_reserved() for the "
                       f"current values")


def max_memory_allocated(device: Any = None) -> int:
    return _peak("max_memory_allocated")


def max_memory_reserved(device: Any = None) -> int:
    return _peak("max_memory_reserved")


def reset_peak_memory_stats(device: Any = None) -> None:
    """Nothing to reset: no peak is tracked (see max_memory_allocated)."""


reset_max_memory_allocated = reset_accumulated_memory_stats = reset_peak_memory_stats


def seed() -> None:
    """Seed every GPU generator from fresh entropy (nothing to do without a GPU, as torch)."""
    from ..random import _cuda_generators  # noqa: PLC0415

    for g in _cuda_generators.values():
        g.seed()


seed_all = seed


def initial_seed() -> int:
    from ..random import _generator_for  # noqa: PLC0415

    _cupy()
    return _generator_for(backend.device("cuda", 0), None).initial_seed()


def get_rng_state_all() -> list:
    """One state per GPU: [] without a GPU (as torch). On a GPU Ember's CuPy generators cannot
    export their state, which raises; use ember.random.fork_rng to restore a stream instead."""
    return [get_rng_state(i) for i in range(device_count())]


def get_rng_state(device: Any = "cuda") -> Any:
    from ..random import _generator_for  # noqa: PLC0415

    dev = backend.as_device(device if not isinstance(device, int) else f"cuda:{device}")
    _cupy()
    return _generator_for(backend.device("cuda", dev.index or 0), None).get_state()


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    from ..random import _generator_for  # noqa: PLC0415

    dev = backend.as_device(device if not isinstance(device, int) else f"cuda:{device}")
    _cupy()
    _generator_for(backend.device("cuda", dev.index or 0), None).set_state(new_state)


def set_rng_state_all(new_states: Any) -> None:
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


from . import amp  # noqa: E402  (amp's classes build on ember.amp, which needs the above)


from ..legacy_types import CUDA_TYPES as _CUDA_TYPES  # noqa: E402

globals().update(_CUDA_TYPES)  # ember.cuda.FloatTensor, ...
