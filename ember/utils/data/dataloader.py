"""DataLoader: batches, shuffles and (with `num_workers > 0`) loads a dataset in parallel.

With workers, each worker process owns a copy of the dataset and an index queue. The main
process sends (task id, list of indices) to the workers in turn, keeping `prefetch_factor`
tasks per worker in flight; workers reply on one shared queue with the collated, pickled batch.
Replies can arrive out of order; they are held until every earlier task has been yielded, so
the batches come out in sampler order, exactly as with `num_workers=0`.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ...random import Generator, randint
from . import _worker
from ._worker import get_worker_info  # noqa: F401  (torch.utils.data.dataloader's name too)
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


class _InfiniteConstantSampler(Sampler):
    """The sampler behind an IterableDataset: the stream decides when to stop."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


_FROZEN_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                      "persistent_workers")


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches, like torch.utils.data.DataLoader.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
    >>> for xb, yb in loader: ...

    `shuffle=True` draws the order from `generator`, or from ember's global RNG when none is
    given (so `ember.manual_seed` makes it reproducible). `batch_size=None` turns batching off.
    `num_workers > 0` loads in that many worker processes (fork where available); each worker is
    seeded with a distinct seed and calls `worker_init_fn(worker_id)` first. Batches come in
    sampler order unless `in_order=False` (then as they finish). `pin_memory` is accepted for
    compatibility and has no effect.
    """

    _initialized = False

    def __init__(self, dataset: Dataset, batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _as_context(multiprocessing_context, num_workers)
        self.in_order = in_order

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: _MultiProcessIter | None = None
        # the stream's own __len__ once len(loader) has read it: an iterator that yields more
        # batches than that warns (torch's check of a stream not sharded across workers)
        self._IterableDataset_len_called: int | None = None
        self._initialized = True
        self.check_worker_number_rationality()

    def __setattr__(self, name: str, value: Any) -> None:
        if self._initialized and name in _FROZEN_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        """What the iterators draw from: lists of indices when batching, single indices if not."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _BaseIter:
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        self.check_worker_number_rationality()
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(first=False)
        return self._iterator

    def __len__(self) -> int:
        if self._is_iterable:
            self._IterableDataset_len_called = len(self.dataset)  # type: ignore[arg-type]
        return _length(self.dataset, self._is_iterable, self.batch_size, self.drop_last,
                       self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when `num_workers` exceeds the CPUs this process may run on (torch's check)."""
        if not self.num_workers:
            return
        if hasattr(os, "sched_getaffinity"):
            suggested, cpuset_checked = len(os.sched_getaffinity(0)), True
        else:
            suggested, cpuset_checked = os.cpu_count(), False
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            advice = ("DataLoader is not able to compute a suggested max number of worker in "
                      "current system.")
        else:
            advice = (f"Our suggested max number of worker in current system is {suggested}"
                      f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, "
                      "which is smaller than what this DataLoader is going to create.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {advice} Please be aware that excessive worker creation might "
                      "get DataLoader running slow or even freeze, lower the worker number to "
                      "avoid potential slowness/freeze if necessary.", stacklevel=2)

    # No __del__ shutting the persistent iterator's workers down: a loop may still hold that
    # iterator (`for b in DataLoader(ds, num_workers=2, persistent_workers=True)` drops the
    # loader at once); the iterator stops its workers when it is collected, as torch's.


def _length(dataset: Any, is_iterable: bool, batch_size: int | None, drop_last: bool,
            index_sampler: Any) -> int:
    """Batches per epoch: from the sampler, or for a stream from the dataset's own __len__."""
    if is_iterable:
        length = len(dataset)
        if batch_size is not None:
            return length // batch_size if drop_last else -(-length // batch_size)
        return length
    return len(index_sampler)


def _as_context(context: Any, num_workers: int) -> Any:
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError("multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


def _default_context() -> Any:
    """fork where the platform has it: workers start in milliseconds and inherit the dataset
    (lambdas and all) without pickling it. Not on macOS, whose system libraries are not safe to
    use after fork (Python's own default there is spawn)."""
    if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class _BaseIter:
    def __init__(self, loader: DataLoader) -> None:
        # Copies of the loader's settings, not the loader itself: a persistent loader holds its
        # iterator, and a reference back would keep both (and the workers) alive until gc.
        self._dataset = loader.dataset
        self._batch_size = loader.batch_size
        self._is_iterable = loader._is_iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._len_called = loader._IterableDataset_len_called
        self._num_yielded = 0
        # torch draws the workers' base seed for every iterator, workers or not; so do we, so
        # that the RNG stream after an epoch does not depend on num_workers.
        self._base_seed = int(randint(0, 2**63 - 1, (), generator=loader.generator).item())
        self._sampler_iter = iter(self._index_sampler)

    def _reset(self, first: bool = True) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def _next_index(self) -> Any:
        return next(self._sampler_iter)  # StopIteration ends the epoch

    def __iter__(self) -> _BaseIter:
        return self

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if self._len_called is not None and self._num_yielded > self._len_called:
            # torch compares batches yielded with the stream's reported number of samples
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._len_called}(when accessing len(dataloader)), but "
                       f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not "
                            "properly configuring the IterableDataset replica at each worker. "
                            "Please see https://pytorch.org/docs/stable/data.html"
                            "#torch.utils.data.IterableDataset for examples.")
            warnings.warn(message, stacklevel=2)
        return data

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        return _length(self._dataset, self._is_iterable, self._batch_size, self._drop_last,
                       self._index_sampler)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        fetcher = _worker.IterableFetcher if self._is_iterable else _worker.MapFetcher
        self._fetcher = fetcher(self._dataset, self._auto_collation, self._collate_fn,
                                self._drop_last)

    def _next_data(self) -> Any:
        index = self._next_index()
        return self._fetcher.fetch(index)


class _MultiProcessIter(_BaseIter):
    """Parallel loading; see the module docstring for the protocol."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch = loader.prefetch_factor * self._num_workers  # type: ignore[operator]
        self._persistent = loader.persistent_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or _default_context()
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues: list = []
        self._workers: list = []
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()  # never block our exit on unsent requests
                worker = context.Process(
                    target=_worker.worker_loop,
                    args=(self._is_iterable, self._dataset, index_queue, self._result_queue,
                          self._done_event, self._auto_collation, self._collate_fn,
                          self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                          self._num_workers),
                    daemon=True,
                )
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(first=True)

    def _reset(self, first: bool = True) -> None:
        super()._reset(first)
        self._send_idx = 0  # id of the next task to send
        self._rcvd_idx = 0  # id of the next task to yield
        # task id -> [worker id] while in flight, [worker id, payload] once it has arrived
        self._tasks: dict[int, list] = {}
        self._active = [True] * self._num_workers  # False once a worker's stream has ended
        self._next_worker = itertools.cycle(range(self._num_workers))
        if not first:  # persistent workers: restart their streams and wait for every echo
            for index_queue in self._index_queues:
                index_queue.put(_worker.ResumeIteration())
            waiting = self._num_workers
            while waiting:
                task, _ = self._get_result()
                if isinstance(task, _worker.ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch):
            self._send_task()

    def _send_task(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._next_worker)
            if self._active[worker_id]:
                break
        else:
            return  # every stream has ended
        self._index_queues[worker_id].put((self._send_idx, index))
        self._tasks[self._send_idx] = [worker_id]
        self._send_idx += 1

    def _get_result(self) -> tuple:
        """The next reply from any worker; raises if one died or `timeout` passed."""
        if self._timeout > 0:
            try:
                return self._result_queue.get(timeout=self._timeout)
            except queue.Empty:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") \
                    from None
        while True:
            try:
                return self._result_queue.get(timeout=_worker.STATUS_CHECK_INTERVAL)
            except queue.Empty:
                dead = [str(w.pid) for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited "
                                       "unexpectedly") from None

    def _next_data(self) -> Any:
        while True:
            # Move past tasks already yielded (in_order=False) or sent to a worker whose stream
            # has ended: they will never be answered.
            while self._rcvd_idx < self._send_idx:
                entry = self._tasks.get(self._rcvd_idx)
                if entry is not None and (len(entry) == 2 or self._active[entry[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            entry = self._tasks[self._rcvd_idx]
            if len(entry) == 2:  # arrived earlier, out of order
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(entry[1])
            task, payload = self._get_result()
            if isinstance(task, _worker.ResumeIteration):
                continue
            data = pickle.loads(payload)
            if isinstance(data, _worker.IterableEnd):
                self._active[data.worker_id] = False
                self._send_task()
                continue
            if task == self._rcvd_idx or not self._in_order:
                del self._tasks[task]
                return self._process(data)
            self._tasks[task].append(data)

    def _process(self, data: Any) -> Any:
        self._send_task()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self) -> None:
        """Stop every worker: ask nicely, wait a little, then terminate the stragglers."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for index_queue in self._index_queues:
                try:
                    index_queue.put(None)
                except (OSError, ValueError):
                    pass
            for worker in self._workers:
                worker.join(timeout=_worker.STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.close()
            self._result_queue.cancel_join_thread()
            self._result_queue.close()
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=1)

    def __del__(self) -> None:
        if "_shutdown" in self.__dict__:
            self._shutdown_workers()


# torch's names for the iterators, which some code checks with isinstance
_BaseDataLoaderIter = _BaseIter
_SingleProcessDataLoaderIter = _SingleProcessIter
_MultiProcessingDataLoaderIter = _MultiProcessIter
