"""What runs inside a DataLoader worker process, and the pieces shared with the main process:
fetchers (indices -> collated batch), `get_worker_info`, and the wrapper that carries an
exception and its traceback back to the main process.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy

from ...random import manual_seed

# How often (seconds) the main process, waiting for a batch, checks that its workers are alive.
STATUS_CHECK_INTERVAL = 5.0
# How often an idle worker checks that the loader is not done and its parent still alive. The
# done event is what really stops a worker: the None sent on its queue can be lost when the
# iterator is collected as garbage (its queues' finalizers may have run first).
WORKER_POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class WorkerInfo:
    """Describes the worker process this code runs in (see `get_worker_info`)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its id, the number of workers, its seed and its copy of the
    dataset (use them to shard an IterableDataset). In the main process: None."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, with its formatted traceback, ready to be pickled."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.where = where
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:  # a class defined inside a function cannot cross processes
            pickle.dumps(exc_type)
            self.exc_type: type | None = exc_type
        except Exception:
            self.exc_type = None
        self.type_name = exc_type.__name__ if exc_type is not None else "Exception"

    def reraise(self) -> None:
        message = (f"Caught {self.type_name} {self.where}.\n"
                   f"Original {self.text}")
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message) if self.exc_type is not None else None
        except Exception:
            exception = None  # the exception type needs other constructor arguments
        if not isinstance(exception, BaseException):
            raise RuntimeError(message) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError puts quotes around its message; this keeps the traceback readable."""

    def __repr__(self) -> str:
        return str(self)


class MapFetcher:
    """Reads the samples at a list of indices and collates them (or one index, unbatched)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return self.collate_fn(getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher:
    """Takes the next batch (as many samples as the batch's index list holds) from a stream."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        batch = []
        for _ in index:
            try:
                batch.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not batch or (self.drop_last and len(batch) < len(index)):
            raise StopIteration
        return self.collate_fn(batch)


class IterableEnd:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at a new epoch (they restart their stream) and echoed back."""


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Give each worker its own seed for ember, `random` and numpy's legacy global RNG (forked
    workers would otherwise all inherit the parent's numpy state and draw the same numbers)."""
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    numpy.random.seed(numpy.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(is_iterable: bool, dataset: Any, index_queue: Any, result_queue: Any,
                done_event: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool,
                base_seed: int, init_fn: Callable | None, worker_id: int,
                num_workers: int) -> None:
    """Serve (task id, indices) requests with (task id, pickled batch) replies until told to
    stop (None or the done event) or the parent process has died."""
    global _worker_info
    parent_pid = os.getppid()  # the loader's process (or the forkserver): we die with it
    try:
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        fetcher_class = IterableFetcher if is_iterable else MapFetcher
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        stream_ended = False
        while not done_event.is_set():
            try:
                request = index_queue.get(timeout=WORKER_POLL_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:  # orphaned: the main process is gone
                    break
                continue
            if request is None:
                break
            if isinstance(request, ResumeIteration):
                result_queue.put((request, None))
                stream_ended = False
                try:
                    fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
                except Exception:
                    init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                continue
            if stream_ended:
                continue  # our stream is over: ignore requests until the next epoch
            task, index = request
            if init_error is not None:
                data: Any = init_error
                init_error = None
            else:
                try:
                    data = fetcher.fetch(index)  # type: ignore[union-attr]
                except StopIteration:
                    if not is_iterable:
                        data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                    else:
                        data = IterableEnd(worker_id)
                        stream_ended = True
                except Exception:
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            result_queue.put((task, _pickled(data, worker_id)))
            del data
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C
    if done_event.is_set():
        # Nobody reads our last results: do not block the exit flushing them into the pipe.
        result_queue.cancel_join_thread()
        result_queue.close()


def _pickled(data: Any, worker_id: int) -> bytes:
    """Pickle here, not in the queue's feeder thread, so that an unpicklable batch becomes an
    error the main process sees instead of a batch that silently never arrives."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        wrapper = ExceptionWrapper(f"pickling a batch in DataLoader worker process {worker_id}")
        return pickle.dumps(wrapper, protocol=pickle.HIGHEST_PROTOCOL)
