"""ember.multiprocessing: shared-memory tensors seen across forked processes (Hogwild), and
spawn's error reporting, as torch.multiprocessing."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest
import torch

import ember
import ember.multiprocessing as emp

fork = multiprocessing.get_context("fork")


def _write_ones(t: ember.Tensor) -> None:
    t.fill_(1.0)


def test_share_memory_makes_a_childs_writes_visible() -> None:
    shared, private = ember.zeros(3), ember.zeros(3)
    assert shared.share_memory_() is shared
    assert shared.is_shared() and not private.is_shared()
    assert shared.is_shared() == torch.zeros(3).share_memory_().is_shared()
    for t in (shared, private):
        p = fork.Process(target=_write_ones, args=(t,))
        p.start()
        p.join()
        assert p.exitcode == 0
    assert shared.tolist() == [1.0, 1.0, 1.0]  # the child wrote to the shared mapping
    assert private.tolist() == [0.0, 0.0, 0.0]  # copy-on-write: the child's copy only
    before = shared._data
    assert shared.share_memory_()._data is before  # already shared: kept


def _train(model: ember.nn.Module, steps: int) -> None:
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    x = ember.linspace(-1, 1, 8).reshape(4, 2)
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - 1.0) ** 2).mean().backward()
        opt.step()


def test_module_share_memory_lets_a_forked_trainer_update_the_parents_model() -> None:
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3),
                                ember.nn.Linear(3, 1))
    reference = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3),
                                    ember.nn.Linear(3, 1))
    reference.load_state_dict(model.state_dict())
    assert model.share_memory() is model
    assert all(t.is_shared() for t in model.state_dict().values())
    p = fork.Process(target=_train, args=(model, 5))
    p.start()
    p.join()
    assert p.exitcode == 0
    _train(reference, 5)  # the same steps in this process
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)


def _worker(index: int, path: str) -> None:
    with open(os.path.join(path, f"{index}.txt"), "w") as f:
        f.write(str(index * 10))


def _failing(index: int) -> None:
    if index == 1:
        raise ValueError("worker one failed")


def test_spawn_runs_every_rank_and_reports_failures(tmp_path) -> None:
    emp.spawn(_worker, args=(str(tmp_path),), nprocs=3, start_method="fork")
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0", "10", "20"]
    with pytest.raises(emp.ProcessRaisedException, match="worker one failed") as info:
        emp.spawn(_failing, nprocs=2, start_method="fork")
    assert info.value.error_index == 1
    context = emp.spawn(_worker, args=(str(tmp_path),), nprocs=1, join=False,
                        start_method="fork")
    assert len(context.pids()) == 1
    while not context.join():
        pass


def test_sharing_strategies_and_reexports_match_torch() -> None:
    import torch.multiprocessing as tmp

    assert emp.get_all_sharing_strategies() <= tmp.get_all_sharing_strategies() | {
        "file_descriptor", "file_system"}
    assert emp.get_sharing_strategy() in emp.get_all_sharing_strategies()
    emp.set_sharing_strategy("file_system")
    assert emp.get_sharing_strategy() == "file_system"
    emp.set_sharing_strategy("file_descriptor")
    with pytest.raises(ValueError, match="set_sharing_strategy"):
        emp.set_sharing_strategy("telepathy")
    for name in ("Process", "Queue", "Pool", "get_context", "cpu_count", "set_start_method"):
        assert hasattr(emp, name) and hasattr(tmp, name)
