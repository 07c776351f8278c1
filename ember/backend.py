"""The one place that chooses the array library: NumPy on CPU, CuPy on CUDA devices.

Every other module asks this one for an array module (`xp`) instead of importing numpy or
cupy itself, so moving a tensor between devices is a single switch (DeZero's
`get_array_module`, made the only door). CuPy is imported lazily: the CPU path never needs it.
"""

from __future__ import annotations

import contextlib
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


def _load_bfloat16() -> Any:
    """numpy's bfloat16 dtype from ml_dtypes (an optional dependency: `pip install ml_dtypes`),
    or None when ml_dtypes is missing. numpy itself has no bfloat16."""
    try:
        import ml_dtypes  # noqa: PLC0415 (optional extra `bf16`)
    except ImportError:
        return None
    return numpy.dtype(ml_dtypes.bfloat16)


BFLOAT16: Any = _load_bfloat16()  # a numpy dtype (kind "V"), or None without ml_dtypes
_cuda_bfloat16: bool | None = None


def bfloat16_finfo() -> Any:
    """ml_dtypes' finfo for bfloat16 (numpy.finfo does not know the type)."""
    import ml_dtypes  # noqa: PLC0415

    return ml_dtypes.finfo(BFLOAT16)


def cuda_bfloat16_supported() -> bool:
    """Whether cupy can hold ml_dtypes' bfloat16 arrays on the GPU (probed once)."""
    global _cuda_bfloat16
    if _cuda_bfloat16 is None:
        cp = _load_cupy()
        _cuda_bfloat16 = False
        if cp is not None and BFLOAT16 is not None:
            try:
                probe = cp.asarray(numpy.ones(2, dtype=BFLOAT16))
                _cuda_bfloat16 = bool(probe.dtype == BFLOAT16 and float((probe + probe)[0]) == 2)
            except Exception:  # cupy rejects dtypes it has no kernels for
                _cuda_bfloat16 = False
    return _cuda_bfloat16


def refuse_gpu_bfloat16(dtype: Any) -> None:
    """Raise a clear error for bfloat16 bound for a GPU whose CuPy cannot hold it."""
    if BFLOAT16 is not None and dtype == BFLOAT16 and not cuda_bfloat16_supported():
        raise RuntimeError("bfloat16 tensors cannot live on the GPU in Ember: CuPy has no "
                           "kernels for ml_dtypes' bfloat16 (ember.cuda.is_bf16_supported() is "
                           "False); use float16 or float32 there")


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

    def __enter__(self) -> device:  # `with ember.device("cuda"):` makes it the default device
        return _enter_device(self)

    def __exit__(self, *exc: Any) -> None:
        _exit_device()


CPU = device("cpu")
_default_device = CPU
_outer_defaults: list[device] = []  # the defaults that `with ember.device(...)` blocks replaced


def set_default_device(dev: Any) -> None:
    """Where factory functions (tensor, zeros, randn, layers' parameters...) put new tensors."""
    global _default_device
    _default_device = CPU if dev is None else as_device(dev)


def get_default_device() -> device:
    return _default_device


default_device = get_default_device


def _enter_device(dev: device) -> device:
    _outer_defaults.append(_default_device)
    set_default_device(dev)
    return dev


def _exit_device() -> None:
    set_default_device(_outer_defaults.pop())


def as_device(dev: Any) -> device:
    """Accept what torch accepts for `device=`: None (the default device, the CPU unless
    set_default_device changed it), a string, an int (a GPU), a device."""
    if dev is None:
        return _default_device
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
    refuse_gpu_bfloat16(getattr(array, "dtype", None))
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(array)


def to_numpy(array: Any) -> numpy.ndarray:
    """A host (numpy) view or copy of any backend array."""
    if array.__class__ is ndarray:
        return array
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return array.get()
    return numpy.asarray(array)


def align_devices(op: str, arrays: list) -> list | None:
    """After a forward failed: were its arrays on different devices?

    Returns None when they were not (the error was something else). A 0-d CPU array next to GPU
    arrays is copied over (torch lets CPU scalars meet CUDA tensors); any other mix raises
    torch's error. Called only on the error path, so the hot path pays nothing for the check.
    """
    devices = {device_of(a) for a in arrays if is_array(a)}
    if len(devices) < 2:
        return None
    gpus = sorted((d for d in devices if d.type == "cuda"), key=str)
    target = gpus[0]
    if len(gpus) == 1 and all(a.ndim == 0 for a in arrays
                              if is_array(a) and device_of(a) != target):
        return [to_device(a, target) if is_array(a) else a for a in arrays]
    first, second = sorted(devices, key=lambda d: (d.type != "cuda", str(d)))[:2]
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                       f"devices, {first} and {second}! ({op})") from None


class _CapsuleProducer:
    """A bare DLPack capsule (torch.utils.dlpack.to_dlpack's legacy output) as the producer
    object numpy.from_dlpack takes; numpy refuses a capsule that is not on the CPU."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)  # kDLCPU

    @staticmethod
    def open(capsule: Any) -> Any:
        """numpy marks a legacy capsule's array read-only; torch shares it writable, and so
        does this: a writable array over the same memory, keeping numpy's array (the owner of
        the capsule) alive as its base."""
        array = numpy.from_dlpack(_CapsuleProducer(capsule))
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        return numpy.asarray(_ArrayInterface(interface, array))


class _ArrayInterface:
    def __init__(self, interface: dict, owner: Any) -> None:
        self.__array_interface__ = interface
        self.owner = owner


def from_dlpack(obj: Any, dev: device | None = None) -> Any:
    """Import a DLPack-capable object (torch, cupy, numpy, jax...) as a backend array."""
    dlpack_device = getattr(obj, "__dlpack_device__", None)
    on_gpu = dlpack_device is not None and dlpack_device()[0] in (2, 3, 13)  # CUDA, CUDA host, ROCm
    if on_gpu:
        return module_for(device("cuda")).from_dlpack(obj)
    try:
        if type(obj).__name__ == "PyCapsule":
            return _CapsuleProducer.open(obj)
        return numpy.from_dlpack(obj)
    except BufferError:  # a bare capsule says where it lives only when opened: a GPU one
        if dlpack_device is not None or not cuda_available():
            raise
        return module_for(device("cuda")).from_dlpack(obj)


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


def is_writeable(array: Any) -> bool:
    """numpy's WRITEABLE flag (read-only views of broadcasts and diagonals); cupy arrays always are."""
    return getattr(array.flags, "writeable", True)


def errstate(xp: Any, **kwargs: Any) -> Any:
    """numpy's errstate (silences warnings for inf/nan results); cupy never warns: a no-op there."""
    return xp.errstate(**kwargs) if hasattr(xp, "errstate") else contextlib.nullcontext()


def linalg_errors(xp: Any) -> Any:
    """Make a singular matrix raise LinAlgError: numpy does; cupy returns inf/nan unless told."""
    if xp is numpy:
        return contextlib.nullcontext()
    import cupyx  # noqa: PLC0415

    return cupyx.errstate(linalg="raise")


def accumulate(name: str, data: Any, axis: int) -> Any:
    """Running `name` (maximum, minimum, fmax, fmin) along axis: numpy's ufunc.accumulate.

    cupy lacks accumulate for these; there a Hillis-Steele scan (log2(n) whole-array steps,
    each combining every element with the one `step` places before it) does the same work.
    """
    xp = module_of(data)
    ufunc = getattr(xp, name)
    if xp is numpy:
        return ufunc.accumulate(data, axis=axis)
    out = xp.moveaxis(data, axis, 0).copy()
    step = 1
    while step < out.shape[0]:
        out[step:] = ufunc(out[step:], out[:-step])  # the right side is built before the write
        step *= 2
    return xp.moveaxis(out, 0, axis)


def ufunc_at(name: str, out: Any, key: Any, values: Any) -> None:
    """Unbuffered out[key] op= values, where repeated indices each count (numpy's ufunc.at)."""
    xp = module_of(out)
    at = getattr(getattr(xp, name), "at", None)
    if xp is not numpy and name in ("maximum", "minimum") and out.dtype == numpy.float64:
        at = None  # cupy 14's maximum.at/minimum.at gave wrong float64 results on an H100
    if at is not None:
        try:
            at(out, key, values)
            return
        except NotImplementedError:  # cupy 14 lists multiply.at but has no kernel for it
            pass
    if name == "add" and at is None:  # older cupy: scatter_add instead of add.at
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(out, key, values)
        return
    # cupy has no multiply.at (scatter with reduce='multiply'/'prod'), nor a trustworthy float64
    # maximum.at: done on the host (rare ops)
    host = out.get()
    host_key = tuple(k.get() if is_array(k) and k.__class__ is not ndarray else k for k in key)
    host_values = values.get() if is_array(values) and values.__class__ is not ndarray else values
    getattr(numpy, name).at(host, host_key, host_values)
    out[...] = xp.asarray(host)


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
