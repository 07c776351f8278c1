"""Process-wide settings that torch scripts set at their top: threads, determinism, matmul
precision, and `compile`.

Threads: Ember's parallel work is BLAS (matrix products and convolutions run as GEMMs), so
`set_num_threads` sets the BLAS thread count, through threadpoolctl (a well-kept library that
finds the BLAS numpy loaded; it comes with scikit-learn and the `fast` extra). Elementwise numpy
work always runs on one thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
          "interop_threads": 1, "warn_always": False}
_blas_limit: Any = None  # the threadpoolctl limiter that holds set_num_threads' value


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl  # noqa: PLC0415 (optional extra)
    except ImportError:
        return None
    return threadpoolctl


def get_num_threads() -> int:
    """The number of threads BLAS uses (torch: intra-op threads)."""
    tpc = _threadpoolctl()
    if tpc is not None:
        counts = [info["num_threads"] for info in tpc.threadpool_info()
                  if info.get("user_api") == "blas"]
        if counts:
            return max(counts)
    return os.cpu_count() or 1


def set_num_threads(num: int) -> None:
    """Set the number of BLAS threads for the rest of the process (torch.set_num_threads)."""
    global _blas_limit
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {num!r}")
    tpc = _threadpoolctl()
    if tpc is None:
        raise RuntimeError("set_num_threads needs threadpoolctl to reach numpy's BLAS: "
                           "pip install threadpoolctl (or the 'fast' extra: pip install "
                           "'ember[fast]'); or set OPENBLAS_NUM_THREADS before starting Python")
    _blas_limit = tpc.threadpool_limits(limits=num, user_api="blas")


def get_num_interop_threads() -> int:
    """Ember runs one op at a time; the value is kept for scripts that read it back."""
    return _state["interop_threads"]


def set_num_interop_threads(num: int) -> None:
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {num!r}")
    _state["interop_threads"] = num


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ember's CPU kernels are deterministic already (scatter-adds sort, they do not race); the
    flag is kept so that scripts can set and read it."""
    _state["deterministic"] = bool(mode)
    _state["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """torch's other spelling of use_deterministic_algorithms: 0/'default' off, 1/'warn' on with
    warn_only, 2/'error' on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_warn_always(b: bool) -> None:
    """torch's switch for warnings that normally show once; Ember's warnings go through Python's
    `warnings`, whose filters decide, so the flag is only stored for is_warn_always_enabled."""
    _state["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """Returns whether flushing denormals is supported: NumPy gives no control over the FPU's
    flush-to-zero bits, so it is not, and nothing changes (torch returns False likewise on
    CPUs without the feature)."""
    return False


def init_num_threads() -> None:
    """torch calls this to set up its OpenMP pool in a new thread; Ember's threads are BLAS's,
    which set themselves up, so there is nothing to do."""


_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for torch scripts; Ember's float32 products always use full float32 (numpy and
    cupy have no TF32 / bfloat16 passes), which is torch's 'highest'."""
    if precision not in _PRECISIONS:
        raise RuntimeError(f"set_float32_matmul_precision: expected one of {_PRECISIONS}, "
                           f"got '{precision}'")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None,
            options: dict | None = None, name: str | None = None, disable: bool = False,
            **compiler_options: Any) -> Any:
    """torch.compile's signature; Ember has no graph compiler, so the model or function runs
    eagerly (same results, eager speed). A function comes back unchanged; a Module comes back
    in torch's OptimizedModule wrapper (state_dict keys prefixed '_orig_mod.', `._orig_mod`
    unwraps it). Works as `compile(model)`, `@compile` and `@compile(mode=...)`."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"compile: expected a Module or a function, got "
                           f"{type(model).__name__}")
    if disable:
        return model
    from .compiled_module import OptimizedModule  # noqa: PLC0415
    from .nn.modules.module import Module  # noqa: PLC0415

    if isinstance(model, Module):
        return OptimizedModule(model)
    return model
