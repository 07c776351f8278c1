"""How a tensor meets MPI: reduction operators, buffers, and the Work handle of a request.

MPI reads and writes memory through the buffer protocol, so a contiguous CPU tensor is handed
over as its own numpy array: no pickling and no copy, and in-place collectives write straight
into the tensor, as torch's do. Only these need a staging copy, written back when the
operation completes:
- non-contiguous tensors (MPI wants one block of memory);
- GPU tensors (MPI here is host-only: the data crosses to host memory and back; there is no
  NCCL engine);
- reductions over dtypes MPI cannot reduce: bool (as uint8, SUM meaning OR as torch),
  float16 and bfloat16 (summed in float32, then rounded once).
Collectives that only move data (broadcast, gather, all_to_all, send...) use a byte view,
so every dtype moves bit for bit.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any

from .. import backend
from ..backend import numpy
from ..tensor import Tensor


class RedOpType(enum.IntEnum):
    """torch's reduction kinds, with torch's numbering."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """`dist.ReduceOp.SUM` and friends (AVG divides the sum by the group size)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)


def reduce_dtype(dtype: Any) -> Any:
    """The dtype MPI reduces `dtype` in (see the module docstring)."""
    if dtype == numpy.bool_:
        return numpy.dtype(numpy.uint8)
    if dtype == numpy.float16 or dtype.kind == "V":  # float16, ml_dtypes' bfloat16
        return numpy.dtype(numpy.float32)
    return dtype


def mpi_op(op: Any, dtype: Any, opname: str) -> Any:
    """The MPI operator for `op` on a tensor of numpy `dtype` (the tensor's, before staging)."""
    MPI = _mpi()
    op = RedOpType(int(op))
    is_bool = dtype == numpy.bool_
    integral = is_bool or dtype.kind in "iu"
    if op == RedOpType.PREMUL_SUM:
        raise ValueError(f"{opname}: ReduceOp.PREMUL_SUM is NCCL-only and Ember has no NCCL; "
                         "multiply by the factor, then reduce with SUM")
    if op in _BITWISE and not integral:
        raise ValueError(f"{opname}: ReduceOp.{op.name} needs an integer or bool tensor, got "
                         f"{dtype}")
    if op == RedOpType.AVG and integral:
        raise ValueError(f"{opname}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if op in (RedOpType.MIN, RedOpType.MAX) and dtype.kind == "c":
        raise ValueError(f"{opname}: ReduceOp.{op.name} is not defined for complex tensors")
    if is_bool:  # on 0/1 bytes: SUM and BOR are OR, PRODUCT and BAND are AND
        return {RedOpType.SUM: MPI.MAX, RedOpType.MAX: MPI.MAX, RedOpType.BOR: MPI.MAX,
                RedOpType.PRODUCT: MPI.MIN, RedOpType.MIN: MPI.MIN, RedOpType.BAND: MPI.MIN,
                RedOpType.BXOR: MPI.BXOR}[op]
    return {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
            RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
            RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}[op]


def _mpi() -> Any:
    from .process_group import _mpi as load  # noqa: PLC0415 (one place imports mpi4py)

    return load()


class Buffer:
    """A tensor's data as one block of host memory MPI can read or fill.

    `array` is the tensor's own numpy array when that is possible, else a staging copy;
    `write_back()` puts the result into the tensor (a no-op when MPI wrote in place) and bumps
    its version, as torch's in-place collectives do.
    """

    def __init__(self, tensor: Tensor, reduce: bool = False, load: bool = True) -> None:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"expected a Tensor, got {type(tensor).__name__}")
        self.tensor = tensor
        data = tensor._data
        dtype = reduce_dtype(data.dtype) if reduce else data.dtype
        on_host = isinstance(data, numpy.ndarray)
        if on_host and data.flags.c_contiguous and dtype == data.dtype:
            self.array, self.staged = data, False
        elif load:
            host = data if on_host else backend.to_numpy(data)
            self.array, self.staged = numpy.ascontiguousarray(host, dtype=dtype), True
        else:
            self.array, self.staged = numpy.empty(data.shape, dtype=dtype), True

    @property
    def flat(self) -> Any:
        """The data as a 1-D typed array (what reductions hand to MPI)."""
        return self.array.reshape(-1)

    @property
    def bytes(self) -> Any:
        """The data as raw bytes (what data-moving collectives hand to MPI)."""
        return byte_view(self.array)

    def write_back(self) -> None:
        if self.staged:
            data = self.tensor._data
            result = self.array.astype(data.dtype, copy=False)
            data[...] = result if isinstance(data, numpy.ndarray) else backend.to_device(
                result, self.tensor.device)
        self.tensor._bump_version()


def byte_view(array: Any) -> Any:
    """A contiguous array's memory as a flat uint8 array (no copy)."""
    return array.reshape(-1).view(numpy.uint8)


class Work:
    """The handle an async collective returns (torch's `Work`): wait() blocks until the MPI
    requests finish and the results are in the output tensors."""

    def __init__(self, requests: list, finish: Callable[[], None] | None = None,
                 outputs: list | None = None, status: Any = None) -> None:
        self._requests = requests
        self._finish = finish
        self._outputs = outputs or []
        self._status = status
        self._done = False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None

    def is_completed(self) -> bool:
        """Poll without blocking: True once the operation (and its write-back) is done."""
        if not self._done and all(r.Test() for r in self._requests):
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        """Block until done; with a `timeout` (a timedelta or seconds) raise if it runs out."""
        if self._done:
            return True
        if timeout is None:
            for r in self._requests:
                r.Wait(self._status) if self._status is not None else r.Wait()
        else:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            deadline = time.monotonic() + float(seconds)
            while not all(r.Test(self._status) if self._status is not None else r.Test()
                          for r in self._requests):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait: the operation did not finish within "
                                       f"{seconds} s")
                time.sleep(1e-4)
        self._complete()
        return True

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list:
        """The output tensors (after wait())."""
        self.wait()
        return list(self._outputs)

    def source_rank(self) -> int:
        """For irecv: the rank the message came from."""
        self.wait()
        if self._status is None:
            raise RuntimeError("source_rank() is only available on recv work")
        return self._status.Get_source()

    def synchronize(self) -> None:
        self.wait()


def run(requests: list, finish: Callable[[], None] | None, async_op: bool,
        outputs: list | None = None) -> Work | None:
    """Finish MPI `requests` now (returning None) or hand back a Work (async_op=True)."""
    work = Work(requests, finish, outputs)
    if async_op:
        return work
    work.wait()
    return None
