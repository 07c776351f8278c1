"""DataLoader with num_workers > 0: real parallel loading in sampler order, worker seeds and
worker_init_fn, errors re-raised with the worker's traceback, and clean shutdown."""

from __future__ import annotations

import os
import pickle
import time

import numpy as np
import pytest
from data_helpers import make_stream, tree

import ember
import ember.utils.data as edata
from ember.utils.data import _worker


class SleepyDataset(edata.Dataset):
    """Each read waits, like a slow disk: workers should overlap the waits."""

    def __init__(self, n, delay):
        self.n, self.delay = n, delay

    def __getitem__(self, i):
        time.sleep(self.delay)
        return ember.tensor([float(i)]), i

    def __len__(self):
        return self.n


class BusyDataset(SleepyDataset):
    """Each read burns CPU in Python: only separate processes can run two at once."""

    def __getitem__(self, i):
        end = time.perf_counter() + self.delay
        while time.perf_counter() < end:
            pass
        return ember.tensor([float(i)]), i


def _timed_epoch(loader):
    start = time.perf_counter()
    batches = list(loader)
    return time.perf_counter() - start, batches


def test_workers_load_in_parallel_and_keep_the_sampler_order():
    ds = SleepyDataset(32, 0.02)
    g = ember.Generator
    t0, serial = _timed_epoch(edata.DataLoader(ds, batch_size=4, shuffle=True,
                                               generator=g().manual_seed(5)))
    t2, parallel = _timed_epoch(edata.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2,
                                                 generator=g().manual_seed(5)))
    assert tree(parallel) == tree(serial)
    assert t2 < 0.75 * t0, f"num_workers=2 took {t2:.2f}s, num_workers=0 {t0:.2f}s"


class FirstBatchSlow(edata.Dataset):
    def __getitem__(self, i):
        if i < 2:
            time.sleep(0.2)
        return i

    def __len__(self):
        return 10


def test_batches_that_finish_out_of_order_are_yielded_in_order():
    # batch 0 (slow, worker 0) finishes after batches 1 and 3 (worker 1)
    got = [b.tolist() for b in edata.DataLoader(FirstBatchSlow(), batch_size=2, num_workers=2)]
    assert got == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    loader = edata.DataLoader(FirstBatchSlow(), batch_size=2, num_workers=2, in_order=False)
    got = [b.tolist() for b in loader]  # in_order=False: as they arrive
    assert got[0] != [0, 1] and sorted(got) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPU cores")
def test_workers_speed_up_cpu_bound_loading():
    # Needs two otherwise idle cores: other processes competing for them shrink the speed-up.
    ds = BusyDataset(24, 0.05)
    t0, serial = _timed_epoch(edata.DataLoader(ds, batch_size=2))
    t2, parallel = _timed_epoch(edata.DataLoader(ds, batch_size=2, num_workers=2))
    assert tree(parallel) == tree(serial)
    assert t2 < 0.85 * t0, f"num_workers=2 took {t2:.2f}s, num_workers=0 {t0:.2f}s"


class WhoAmI(edata.Dataset):
    """Reports which worker read it, that worker's seed and its random draws."""

    def __getitem__(self, i):
        info = edata.get_worker_info()
        return {"worker": info.id, "seed": info.seed, "num_workers": info.num_workers,
                "ember": ember.rand(1).item(), "numpy": float(np.random.rand()),
                "init": getattr(info.dataset, "initialized_by", -1),
                "same_dataset": info.dataset is self}

    def __len__(self):
        return 8


def _mark_dataset(worker_id):
    edata.get_worker_info().dataset.initialized_by = worker_id


def test_workers_get_distinct_seeds_and_run_worker_init_fn():
    assert edata.get_worker_info() is None  # main process
    ember.manual_seed(0)
    loader = edata.DataLoader(WhoAmI(), batch_size=None, num_workers=2,
                              worker_init_fn=_mark_dataset)
    rows = list(loader)
    by_worker = {r["worker"]: r for r in rows}
    assert set(by_worker) == {0, 1}
    assert all(r["init"] == r["worker"] and r["same_dataset"] for r in rows)
    assert all(r["num_workers"] == 2 for r in rows)
    assert by_worker[1]["seed"] == by_worker[0]["seed"] + 1
    assert by_worker[0]["ember"] != by_worker[1]["ember"]
    assert by_worker[0]["numpy"] != by_worker[1]["numpy"]  # forked numpy state is reseeded
    ember.manual_seed(0)
    again = list(edata.DataLoader(WhoAmI(), batch_size=None, num_workers=2))
    assert [r["ember"] for r in again] == [r["ember"] for r in rows]  # seeded from ember


class Faulty(edata.Dataset):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i

    def __len__(self):
        return 8


def test_worker_exception_is_reraised_with_the_workers_traceback():
    loader = edata.DataLoader(Faulty(), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as info:
        next(it)
    message = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in message
    assert "Traceback (most recent call last)" in message
    assert "in __getitem__" in message and "bad sample 5" in message
    assert next(it).tolist() == [6, 7]  # the loader goes on, as torch's does
    del it


def test_errors_that_cannot_be_pickled_still_arrive():
    class LocalError(Exception):
        pass

    def fail(batch):
        raise LocalError("local")

    with pytest.raises(RuntimeError, match="Caught LocalError in DataLoader worker"):
        list(edata.DataLoader(list(range(4)), batch_size=2, num_workers=1, collate_fn=fail))
    with pytest.raises(Exception, match="pickling a batch in DataLoader worker process 0"):
        list(edata.DataLoader(list(range(4)), batch_size=2, num_workers=1,
                              collate_fn=lambda b: lambda: b))


def test_worker_init_fn_errors_are_reraised():
    def init(worker_id):
        raise KeyError("no such thing")

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(edata.DataLoader(list(range(4)), num_workers=2, worker_init_fn=init))


def test_batches_cross_processes_with_their_dtypes():
    data = [{"f": ember.ones(2, dtype=ember.float16), "u": ember.tensor([i], dtype=ember.uint8),
             "b": i % 2 == 0, "i": i, "s": str(i)} for i in range(6)]
    serial = list(edata.DataLoader(data, batch_size=4))
    parallel = list(edata.DataLoader(data, batch_size=4, num_workers=2))
    assert tree(parallel) == tree(serial)
    t = pickle.loads(pickle.dumps(ember.arange(3.0, dtype=ember.float64).requires_grad_()))
    assert t.dtype == ember.float64 and t.requires_grad and t.tolist() == [0.0, 1.0, 2.0]


def test_abandoned_iterator_shuts_its_workers_down():
    loader = edata.DataLoader(SleepyDataset(40, 0.01), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    assert not any(w.is_alive() for w in workers)
    it = iter(loader)
    list(it)  # a finished epoch shuts down too
    assert not any(w.is_alive() for w in it._workers)


def test_persistent_workers_survive_epochs():
    loader = edata.DataLoader(list(range(10)), batch_size=3, num_workers=2,
                              persistent_workers=True)
    first = [b.tolist() for b in loader]
    pids = [w.pid for w in loader._iterator._workers]
    it = iter(loader)
    next(it)  # abandon an epoch half-way: its stale batches must not leak into the next
    second = [b.tolist() for b in loader]
    assert first == second == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert [w.pid for w in loader._iterator._workers] == pids
    assert all(w.is_alive() for w in loader._iterator._workers)
    stream = edata.DataLoader(make_stream(edata, 7, True), batch_size=2, num_workers=2,
                              persistent_workers=True)
    epochs = [[v for b in stream for v in b["i"].tolist()] for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(7))
    workers = stream._iterator._workers
    del stream, loader, it
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_outlive_a_loader_only_the_loop_holds():
    # `for b in DataLoader(..., persistent_workers=True)`: the loader is dropped at once, the
    # loop's iterator keeps its workers (torch's iterator stops them when it is collected)
    batches = [b.tolist() for b in edata.DataLoader(list(range(10)), batch_size=3,
                                                    num_workers=2, persistent_workers=True)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    it = iter(edata.DataLoader(list(range(4)), batch_size=2, num_workers=1,
                               persistent_workers=True))
    workers = it._workers
    assert next(it).tolist() == [0, 1]
    del it
    assert not any(w.is_alive() for w in workers)


def test_spawned_workers_receive_the_dataset_pickled():
    ds = edata.TensorDataset(ember.arange(10.0), ember.arange(10))
    loader = edata.DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert tree(list(loader)) == tree(list(edata.DataLoader(ds, batch_size=4)))


def test_dead_worker_is_reported(monkeypatch):
    monkeypatch.setattr(_worker, "STATUS_CHECK_INTERVAL", 0.2)

    class Crash(edata.Dataset):
        def __getitem__(self, i):
            os._exit(1)

        def __len__(self):
            return 4

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited "
                                           "unexpectedly"):
        list(edata.DataLoader(Crash(), num_workers=1))


def test_timeout():
    loader = edata.DataLoader(SleepyDataset(2, 0.5), num_workers=1, timeout=0.1)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.1 seconds"):
        list(loader)
