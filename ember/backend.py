"""The one place that chooses the array library: NumPy on CPU, CuPy on CUDA devices.

Every other module asks this one for an array module (`xp`) instead of importing numpy or
cupy itself, so moving a tensor between devices is a single switch (DeZero's
`get_array_module`, made the only door). CuPy is imported lazily: the CPU path never needs it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any

import numpy

ndarray = numpy.ndarray

_cupy: Any = None
_cupy_checked = False


def _load_cupy() -> Any:
    """Import cupy once; None when it is missing or no GPU is visible."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 (optional, slow to import)

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # ImportError, or a CUDA runtime without a device
            _cupy = None
    return _cupy


def cuda_available() -> bool:
    return _load_cupy() is not None


def cuda_device_count() -> int:
    cp = _load_cupy()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


class device:
    """Where a tensor's memory lives: `device("cpu")`, `device("cuda")`, `device("cuda:1")`."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string like 'cpu' or 'cuda:0', got {type!r}")
        name = type
        if ":" in name:
            name, _, idx = name.partition(":")
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        if name == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def as_device(dev: Any) -> device:
    """Accept what torch accepts for `device=`: None (CPU), a string, an int (a GPU), a device."""
    if dev is None:
        return CPU
    if isinstance(dev, device):
        return dev
    if isinstance(dev, int):
        return device("cuda", dev)
    return device(dev)


def module_for(dev: device) -> Any:
    """The array module that holds tensors on `dev`."""
    if dev.type == "cpu":
        return numpy
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(
            "CUDA is not available: install cupy for your CUDA version "
            "(pip install cupy-cuda12x) and run on a machine with an NVIDIA GPU"
        )
    return cp


def module_of(array: Any) -> Any:
    """The array module that owns `array` (numpy for anything that is not a cupy array)."""
    if array.__class__ is ndarray or _cupy is None:
        return numpy
    return _cupy if isinstance(array, _cupy.ndarray) else numpy


def device_of(array: Any) -> device:
    if array.__class__ is ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return device("cuda", array.device.id)


def is_array(obj: Any) -> bool:
    """True for numpy arrays and (when loaded) cupy arrays."""
    if isinstance(obj, ndarray):
        return True
    return _cupy is not None and isinstance(obj, _cupy.ndarray)


def as_array(value: Any) -> Any:
    """Turn numpy scalars (what numpy returns for 0-d results) back into 0-d arrays."""
    if isinstance(value, numpy.generic):
        return numpy.asarray(value)
    return value


def to_device(array: Any, dev: device) -> Any:
    """Copy `array` to `dev` (no copy when it is already there)."""
    if dev.type == "cpu":
        if array.__class__ is ndarray or not is_array(array):
            return array
        return array.get()
    cp = module_for(dev)
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(array)


def to_numpy(array: Any) -> numpy.ndarray:
    """A host (numpy) view or copy of any backend array."""
    if array.__class__ is ndarray:
        return array
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return array.get()
    return numpy.asarray(array)


def from_dlpack(obj: Any, dev: device | None = None) -> Any:
    """Import a DLPack-capable object (torch, cupy, numpy, jax...) as a backend array."""
    dlpack_device = getattr(obj, "__dlpack_device__", None)
    on_gpu = dlpack_device is not None and dlpack_device()[0] in (2, 3, 13)  # CUDA, CUDA host, ROCm
    if on_gpu:
        return module_for(device("cuda")).from_dlpack(obj)
    return numpy.from_dlpack(obj)


def reshape_view(array: Any, shape: tuple) -> Any:
    """Reshape without copying; RuntimeError (torch's message) when the layout needs a copy."""
    try:
        if array.__class__ is ndarray:
            return numpy.reshape(array, shape, copy=False)
        view = array.view()
        view.shape = shape
        return view
    except (ValueError, AttributeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None


def ufunc_at(name: str, out: Any, key: Any, values: Any) -> None:
    """Unbuffered out[key] op= values, where repeated indices each count (numpy's ufunc.at)."""
    xp = module_of(out)
    ufunc = getattr(xp, name)
    if hasattr(ufunc, "at"):
        ufunc.at(out, key, values)
        return
    import cupyx  # noqa: PLC0415 (older cupy: scatter_* functions instead of ufunc.at)

    {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max,
     "minimum": cupyx.scatter_min}[name](out, key, values)


# ---------------------------------------------------------------------------------------------
# Special functions that numpy lacks.
# ---------------------------------------------------------------------------------------------


def special_module(xp: Any) -> Any:
    """scipy.special (or cupyx.scipy.special) when installed, else None."""
    try:
        if xp is numpy:
            import scipy.special as special  # noqa: PLC0415 (optional extra)
        else:
            import cupyx.scipy.special as special  # noqa: PLC0415
        return special
    except ImportError:
        return None


# ---------------------------------------------------------------------------------------------
# Allocator tuning.
# ---------------------------------------------------------------------------------------------


def tune_malloc() -> bool:
    """Keep large freed buffers in glibc's heap instead of returning them to the OS.

    numpy allocates a fresh array per op; glibc serves blocks >= 128 KiB with mmap and unmaps
    them on free, so every next op page-faults its memory in again (measured here: a 1M-element
    forward+backward chain takes 26 ms by default and 4 ms with the thresholds raised). Raising
    the thresholds at run time is what `MALLOC_MMAP_THRESHOLD_` does at start-up. Set
    `EMBER_MALLOC_TUNING=0` to leave the allocator alone.
    """
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    mmap_ok = mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's upper limit on 64-bit
    trim_ok = mallopt(m_trim_threshold, 512 * 1024 * 1024)
    return bool(mmap_ok and trim_ok)
