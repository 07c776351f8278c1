"""Run as a plain `python single.py` (no mpiexec): MPI's singleton, a world of one process.

torchrun's RANK / WORLD_SIZE in the environment are honoured when they agree with MPI and
refused with a launch hint when they do not; with one process every collective is the
identity and DistributedDataParallel trains exactly as the bare module (checked against
torch). Prints "single ok" when all checks pass.
"""

from __future__ import annotations

import os

import numpy as np
import torch

import ember
import ember.distributed as dist
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DistributedSampler


def main() -> None:
    os.environ.update(RANK="0", WORLD_SIZE="1")
    dist.init_process_group()  # backend defaults to "mpi"
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    t = ember.tensor([1.0, 2.0])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    dist.broadcast(t, src=0)
    outs = [ember.zeros(2)]
    dist.all_gather(outs, t)
    assert t.tolist() == [1.0, 2.0] and outs[0].tolist() == [1.0, 2.0]
    sampler = DistributedSampler(range(5), shuffle=False)
    assert list(sampler) == list(torch.utils.data.DistributedSampler(
        range(5), num_replicas=1, rank=0, shuffle=False)) == [0, 1, 2, 3, 4]

    # DDP over one process: SGD steps equal torch's bare module
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.Tanh(),
                                ember.nn.Linear(4, 2)).double()
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                  torch.nn.Linear(4, 2)).double()
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    ddp = DDP(model, gradient_as_bucket_view=True)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        opt.zero_grad()
        t_opt.zero_grad()
        if step == 1:  # accumulate a micro-batch locally first
            with ddp.no_sync():
                ember.nn.functional.mse_loss(ddp(ember.tensor(x[:3])),
                                             ember.tensor(y[:3])).backward()
            torch.nn.functional.mse_loss(t_model(torch.tensor(x[:3])),
                                         torch.tensor(y[:3])).backward()
        ember.nn.functional.mse_loss(ddp(ember.tensor(x)), ember.tensor(y)).backward()
        torch.nn.functional.mse_loss(t_model(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()
        t_opt.step()
    for (k, p), (_, q) in zip(model.named_parameters(), t_model.named_parameters(),
                                 strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                   err_msg=k)
    dist.destroy_process_group()

    # a torchrun-style launch of 2 processes that MPI sees as 1: refused with the fix
    os.environ.update(RANK="0", WORLD_SIZE="2")
    try:
        dist.init_process_group("gloo")
    except RuntimeError as e:
        assert "world_size 2 was asked for but MPI started 1" in str(e), e
        assert "mpiexec -n 2 python script.py" in str(e), e
    else:
        raise AssertionError("WORLD_SIZE=2 under a world of 1 should be refused")
    assert not dist.is_initialized()
    print("single ok", flush=True)


if __name__ == "__main__":
    main()
