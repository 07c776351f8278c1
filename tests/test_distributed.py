"""ember.distributed and DistributedDataParallel against torch.

Several processes are needed for collectives and DDP, so the scripts in distributed_scripts/
run under `mpiexec -n 2` in a subprocess (each compares with torch itself and prints "ok" per
rank). The tests here that need no MPI run in this process; anything that starts MPI runs in
a subprocess, so pytest's own process never initialises MPI (forked DataLoader workers in
later tests would inherit it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist
from ember.utils.data import DistributedSampler

SCRIPTS = Path(__file__).parent / "distributed_scripts"
ROOT = Path(__file__).parent.parent
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
MPIEXEC = shutil.which("mpiexec")
needs_mpi4py = pytest.mark.skipif(
    not HAVE_MPI4PY, reason="mpi4py is not installed (pip install 'ember[distributed]')")
needs_mpiexec = pytest.mark.skipif(not (HAVE_MPI4PY and MPIEXEC),
                                   reason="mpi4py or mpiexec is missing")


def _run(args: list[str], expect_ok: int) -> None:
    """Run a script with ember importable; on failure show everything it printed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):  # a torchrun-launched pytest must not leak
        env.pop(var, None)
    try:
        proc = subprocess.run(args, cwd=SCRIPTS, env=env, capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(args)} timed out after 120 s:\n{e.stdout}\n{e.stderr}")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{output}"
    assert proc.stdout.count(" ok") == expect_ok, output


@needs_mpiexec
@pytest.mark.parametrize("script", ["collectives.py", "ddp.py"])
def test_script_under_mpiexec_on_two_processes(script: str) -> None:
    _run([MPIEXEC, "-n", "2", sys.executable, script], expect_ok=2)


@needs_mpi4py
def test_world_of_one_without_mpiexec() -> None:
    _run([sys.executable, "single.py"], expect_ok=1)


def test_is_available_means_mpi4py_is_installed() -> None:
    assert dist.is_available() is HAVE_MPI4PY
    assert dist.is_mpi_available() is HAVE_MPI4PY and dist.is_nccl_available() is False
    assert not dist.is_initialized() and dist.group.WORLD is None


def test_calls_before_init_raise_torchs_error() -> None:
    with pytest.raises(ValueError) as t_err:
        tdist.get_rank()
    calls = [dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(ember.ones(2)),
             lambda: dist.broadcast(ember.ones(2), src=0), lambda: dist.new_group([0]),
             lambda: ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2))]
    if HAVE_MPI4PY:  # without it the sampler says the package is unavailable, as torch's would
        calls += [lambda: DistributedSampler(range(4)),
                  lambda: DistributedSampler(range(4), num_replicas=2)]
    for call in calls:
        with pytest.raises(ValueError) as e_err:
            call()
        assert str(e_err.value) == str(t_err.value)
    # given both, the sampler needs no process group, as torch's
    assert list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)) == list(
        torch.utils.data.DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))


def test_without_mpi4py_the_errors_say_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # `import mpi4py` now fails
    monkeypatch.setattr(dist, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"pip install 'ember\[distributed\]'"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        DistributedSampler(range(4))


def test_names_match_torch() -> None:
    for name in ("mpi", "GLOO", "nccl"):
        assert dist.Backend(name) == tdist.Backend(name)
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        assert int(getattr(dist.ReduceOp, op)) == int(getattr(tdist.ReduceOp.RedOpType, op))
    assert ember.nn.parallel.DistributedDataParallel is (
        ember.nn.parallel.distributed.DistributedDataParallel)
    assert set(ember.nn.parallel.__all__) <= set(torch.nn.parallel.__all__)
    assert ember.utils.data.distributed.DistributedSampler is DistributedSampler
    extra = [n for n in dist.__all__ if not hasattr(tdist, n)]
    assert extra == ["RedOpType"]  # torch spells it dist.ReduceOp.RedOpType (Ember has both)
