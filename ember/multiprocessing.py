"""torch.multiprocessing: Python's multiprocessing, tensors in shared memory, and `spawn`.

A forked process gets a copy-on-write image of its parent: a child's writes to a model's
weights stay in the child. `x.share_memory_()` (and `model.share_memory()`) move a tensor's
values into an anonymous shared mapping first, so every process forked afterwards writes to
the same memory: Hogwild-style training updates one model. This works with the 'fork' start
method (Linux's default before Python 3.14); processes started with 'spawn' or 'forkserver'
receive pickled copies instead (torch passes shared file handles there; Ember does not).
"""

from __future__ import annotations

import mmap
import multiprocessing as _mp
import traceback
from collections.abc import Callable
from multiprocessing import *  # noqa: F403 (torch.multiprocessing re-exports it)
from typing import Any

from .backend import numpy  # host arrays: shared memory is on the CPU

_STRATEGIES = ("file_descriptor", "file_system")
_strategy = ["file_descriptor"]


def get_all_sharing_strategies() -> set[str]:
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Recorded for torch scripts; Ember shares memory through fork, whatever the strategy."""
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: expected one of {_STRATEGIES}, got "
                         f"{new_strategy!r}")
    _strategy[0] = new_strategy


def share_array(array: Any) -> Any:
    """A copy of a host array in an anonymous MAP_SHARED mapping (same shape and dtype)."""
    buffer = mmap.mmap(-1, max(array.nbytes, 1))
    shared = numpy.frombuffer(buffer, dtype=array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    return shared


def is_shared_array(array: Any) -> bool:
    """Whether the array's memory lives in a shared mapping made by share_array."""
    base = array
    while isinstance(base, numpy.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


class ProcessRaisedException(Exception):
    """A spawned process raised: the message carries its traceback."""

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg)
        self.error_index, self.pid = error_index, error_pid


class ProcessExitedException(Exception):
    """A spawned process exited with a non-zero code (e.g. killed by a signal)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int) -> None:
        super().__init__(msg)
        self.error_index, self.pid, self.exit_code = error_index, error_pid, exit_code


def _run(fn: Callable, index: int, args: tuple, errors: Any) -> None:
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001 (reported to the parent, which raises)
        errors.put((index, traceback.format_exc()))
        raise SystemExit(1) from None


class ProcessContext:
    """The processes `spawn(join=False)` started; `join()` waits and re-raises failures."""

    def __init__(self, processes: list, errors: Any) -> None:
        self.processes, self.error_queue = processes, errors

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """True when every process has finished; raises if one failed."""
        for p in self.processes:
            p.join(timeout)
        if not self.error_queue.empty():
            index, tb = self.error_queue.get()
            for p in self.processes:
                if p.is_alive():
                    p.terminate()
            raise ProcessRaisedException(f"\n\n-- Process {index} terminated with the following "
                                         f"error:\n{tb}", index, self.processes[index].pid)
        for i, p in enumerate(self.processes):
            if p.exitcode not in (0, None):
                raise ProcessExitedException(f"process {i} terminated with exit code "
                                             f"{p.exitcode}", i, p.pid, p.exitcode)
        return all(not p.is_alive() for p in self.processes)


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    ctx = _mp.get_context(start_method)
    errors = ctx.SimpleQueue()
    processes = []
    for i in range(nprocs):
        p = ctx.Process(target=_run, args=(fn, i, tuple(args), errors), daemon=daemon)
        p.start()
        processes.append(p)
    context = ProcessContext(processes, errors)
    if not join:
        return context
    context.join()
    return None


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Run fn(i, *args) in nprocs new processes (i = 0..nprocs-1), as torch.multiprocessing.spawn:
    with join=True wait for all and raise ProcessRaisedException if one raised."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
