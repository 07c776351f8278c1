"""Fused CPU kernels, compiled by numba when it is installed (the optional extra `jit`).

Why: numpy makes one pass over memory per operation, and an elementwise pass costs about the
same (~0.1 ns per float32) whatever it computes. Exact GELU is ~20 such passes (a polynomial,
a tanh, the product), LayerNorm's backward ~10; torch runs each as one fused loop. A numba loop
is also one pass, vectorised by LLVM, so these ops run 3-5x faster (numbers in the README's
Speed section). Each op keeps its numpy formula beside the call: that is what runs without
numba, on the GPU, for other dtypes, under `create_graph`, and what the tests compare both
paths against torch with.

The kernels are used when:
- numba imports (checked once, lazily: importing Ember never imports numba), and
- the environment variable `EMBER_JIT` is not `0` (or `set_enabled(False)` was called), and
- every array is a C-contiguous numpy array of the dtype the kernel is written for, and
- the first array has at least MIN_ELEMENTS values: below that numpy's few passes cost
  microseconds, and the first kernel a process uses costs importing numba (~0.3 s) plus
  compiling or loading it, which a small model (an MLP on 8x8 digits) would never earn back.

Each kernel is compiled the first time a process uses it (about 0.3 s each). Kernels that call
nothing from another file are also cached on disk (approx.JIT_CACHED), so later processes load
them in milliseconds; those using approx.py's functions are not (see approx.JIT for why).
"""

from __future__ import annotations

import os
from typing import Any

from .. import backend

_numpy = backend.numpy
MIN_ELEMENTS = 1 << 15  # smaller first arrays take the numpy formulas (see above)
FLOATS = (_numpy.float32, _numpy.float64)  # the dtypes of the kernels written for both
_state: dict = {"enabled": os.environ.get("EMBER_JIT", "1") != "0", "numba": None}


def available() -> bool:
    """Whether numba can be imported (the answer is cached)."""
    if _state["numba"] is None:
        try:
            import numba  # noqa: F401, PLC0415 (optional, imported on first use only)
        except ImportError:
            _state["numba"] = False
        else:
            _state["numba"] = True
    return _state["numba"]


def set_enabled(enabled: bool) -> None:
    """Turn the compiled kernels on or off for this process (the numpy formulas run instead)."""
    _state["enabled"] = bool(enabled)


def is_enabled() -> bool:
    """Whether ops will use the compiled kernels (numba installed and not switched off)."""
    return _state["enabled"] and available()


def usable(dtype: Any, *arrays: Any) -> bool:
    """Whether a kernel written for `dtype` may run on `arrays` (see the module docstring)."""
    if not _state["enabled"]:
        return False
    for a in arrays:
        if a.__class__ is not _numpy.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    if arrays[0].size < MIN_ELEMENTS:
        return False
    return available()


def usable_float(*arrays: Any) -> bool:
    """usable() for a kernel compiled for float32 and float64 alike (numba makes one version
    per dtype; it has no float16): every array of the first one's dtype, which must be one of
    those two. None entries (an absent weight or bias) are skipped."""
    present = [a for a in arrays if a is not None]
    return usable(present[0].dtype, *present) and present[0].dtype.type in FLOATS


def load(name: str) -> Any:
    """The kernel module `ember.kernels.<name>` (importing it imports numba and compiles)."""
    import importlib  # noqa: PLC0415

    return importlib.import_module(f"{__name__}.{name}")
