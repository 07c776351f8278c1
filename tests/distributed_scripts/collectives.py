"""Run under `mpiexec -n 2`: every collective against numpy's account of what torch gives.

Rank r's inputs are built from r, so every process can compute every other's and the expected
result locally. Prints "collectives ok" on each rank when all checks pass.
"""

from __future__ import annotations

import datetime

import numpy as np
from _common import abort_on_error

import ember
import ember.distributed as dist


def inputs(r: int, shape=(2, 3), dtype=np.float32) -> np.ndarray:
    return (np.arange(np.prod(shape)).reshape(shape) + 10 * r + 1).astype(dtype)


def check(name: str, got, want) -> None:
    got = got.numpy() if isinstance(got, ember.Tensor) else np.asarray(got)
    if got.shape != np.shape(want) or not np.allclose(got, want):
        raise AssertionError(f"rank {dist.get_rank()} {name}: got {got}, want {want}")


def expect_error(name: str, fn, fragment: str) -> None:
    try:
        fn()
    except (RuntimeError, ValueError) as e:
        if fragment not in str(e):
            raise AssertionError(f"{name}: message {e!r} lacks {fragment!r}") from e
        return
    raise AssertionError(f"{name}: no error")


def main() -> None:
    expect_error("before init", lambda: dist.all_reduce(ember.ones(2)),
                 "Default process group has not been initialized")
    assert not dist.is_initialized() and dist.group.WORLD is None
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank, size = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "gloo" and size >= 2
    assert dist.get_process_group_ranks(dist.group.WORLD) == list(range(size))
    every = [inputs(r) for r in range(size)]

    # all_reduce: every op, in place in the tensor the caller holds
    for op, fold in [(dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod),
                     (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.MAX, np.max),
                     (dist.ReduceOp.AVG, np.mean)]:
        t = ember.tensor(inputs(rank))
        data = t._data
        assert dist.all_reduce(t, op=op) is None
        check(f"all_reduce {op.name}", t, fold(np.stack(every), axis=0))
        assert t._data is data  # written into the tensor's own memory
    ints = [np.array([5, 6, 12], dtype=np.int64) + r for r in range(size)]
    for op, fold in [(dist.ReduceOp.BAND, np.bitwise_and.reduce),
                     (dist.ReduceOp.BOR, np.bitwise_or.reduce),
                     (dist.ReduceOp.BXOR, np.bitwise_xor.reduce)]:
        t = ember.tensor(ints[rank])
        dist.all_reduce(t, op)
        check(f"all_reduce {op.name}", t, fold(np.stack(ints), axis=0))
    flags = ember.tensor([rank == 0, False, True])
    dist.all_reduce(flags)  # bool SUM is OR
    assert flags.tolist() == [True, False, True]
    half = ember.tensor(inputs(rank), dtype=ember.float16)
    dist.all_reduce(half)
    assert half.dtype == ember.float16
    check("all_reduce float16", half.float(), np.sum(every, axis=0))
    strided = ember.tensor(inputs(rank, (3, 2))).t()  # non-contiguous: staged and written back
    dist.all_reduce(strided)
    check("all_reduce strided", strided, np.sum([inputs(r, (3, 2)).T for r in range(size)], 0))
    scalar = ember.tensor(float(rank + 1))
    dist.all_reduce(scalar, dist.ReduceOp.MAX)
    assert scalar.item() == size
    expect_error("AVG on ints", lambda: dist.all_reduce(ember.tensor([1]), dist.ReduceOp.AVG),
                 "AVG")
    expect_error("mismatched shapes", lambda: dist.all_reduce(ember.ones(2 + rank)),
                 "all_reduce: the tensors differ across ranks")
    # async: the Work completes the result
    t = ember.tensor(inputs(rank))
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() and work.is_completed()
    check("async all_reduce", t, np.sum(every, axis=0))
    assert work.result()[0] is t

    # reduce / broadcast
    t = ember.tensor(inputs(rank))
    dist.reduce(t, dst=1)
    check("reduce", t, np.sum(every, 0) if rank == 1 else every[rank])
    t = ember.tensor(inputs(rank))
    dist.broadcast(t, src=1)
    check("broadcast", t, every[1])
    bf = ember.tensor(inputs(rank), dtype=ember.bfloat16) if ember.bfloat16 is not None else None
    if bf is not None and bf._data.dtype.kind == "V":
        dist.broadcast(bf, src=0)
        check("broadcast bfloat16", bf.float(), every[0].astype(np.float32))

    # gathers and scatters, including uneven sizes given by the lists
    outs = [ember.zeros(2, 3) for _ in range(size)]
    dist.all_gather(outs, ember.tensor(inputs(rank)))
    for r in range(size):
        check("all_gather", outs[r], every[r])
    uneven = [ember.zeros(r + 1) for r in range(size)]
    dist.all_gather(uneven, ember.arange(rank + 1, dtype=ember.float32) + rank)
    for r in range(size):
        check("all_gather uneven", uneven[r], np.arange(r + 1) + r)
    expect_error("all_gather list", lambda: dist.all_gather([ember.zeros(2)], ember.zeros(2)),
                 "all_gather: tensor_list must hold one tensor per rank")
    big = ember.zeros(2 * size, 3)
    dist.all_gather_into_tensor(big, ember.tensor(inputs(rank)))
    check("all_gather_into_tensor", big, np.concatenate(every))
    stacked = ember.zeros(size, 2, 3)
    dist.all_gather_into_tensor(stacked, ember.tensor(inputs(rank)))
    check("all_gather_into_tensor stacked", stacked, np.stack(every))
    expect_error("all_gather_into_tensor size",
                 lambda: dist.all_gather_into_tensor(ember.zeros(3), ember.zeros(2)),
                 "all_gather_into_tensor: output_tensor has 3 elements")
    got = [ember.zeros(2, 3) for _ in range(size)] if rank == 0 else None
    dist.gather(ember.tensor(inputs(rank)), got, dst=0)
    if rank == 0:
        for r in range(size):
            check("gather", got[r], every[r])
    recv = ember.zeros(2, 3)
    dist.scatter(recv, [ember.tensor(inputs(r) * 2) for r in range(size)] if rank == 1 else None,
                 src=1)
    check("scatter", recv, every[rank] * 2)
    out = ember.zeros(2, 3)
    dist.reduce_scatter(out, [ember.tensor(inputs(rank) + j) for j in range(size)])
    check("reduce_scatter", out, sum(every[r] + rank for r in range(size)))
    out = ember.zeros(2, 3)
    dist.reduce_scatter_tensor(out, ember.tensor(np.concatenate([inputs(rank) * (j + 1)
                                                                 for j in range(size)])),
                               op=dist.ReduceOp.AVG)
    check("reduce_scatter_tensor", out, np.mean(every, 0) * (rank + 1))

    # all_to_all: process i's block j goes to process j's slot i
    def block(i: int, j: int) -> np.ndarray:
        return np.full((j + 1, 2), 100 * i + j, dtype=np.float32)

    outs = [ember.zeros(rank + 1, 2) for _ in range(size)]
    dist.all_to_all(outs, [ember.tensor(block(rank, j)) for j in range(size)])
    for i in range(size):
        check("all_to_all", outs[i], block(i, rank))
    single_in = ember.tensor(np.arange(2 * size, dtype=np.float32) + 100 * rank)
    single_out = ember.zeros(2 * size)
    dist.all_to_all_single(single_out, single_in)
    check("all_to_all_single", single_out,
          np.concatenate([np.arange(2 * rank, 2 * rank + 2) + 100 * i for i in range(size)]))
    sizes_in = [j + 1 for j in range(size)]
    split_in = ember.tensor(np.concatenate([block(rank, j) for j in range(size)]))
    split_out = ember.zeros(size * (rank + 1), 2)
    dist.all_to_all_single(split_out, split_in, [rank + 1] * size, sizes_in)
    check("all_to_all_single split", split_out,
          np.concatenate([block(i, rank) for i in range(size)]))

    # point to point: a ring
    nxt, prv = (rank + 1) % size, (rank - 1) % size
    box = ember.zeros(2, 3)
    reqs = [dist.isend(ember.tensor(inputs(rank)), nxt), dist.irecv(box, prv)]
    for w in reqs:
        w.wait()
    check("isend/irecv", box, every[prv])
    assert reqs[1].source_rank() == prv
    if rank == 0:
        dist.send(ember.tensor([7.0, 8.0]), dst=1, tag=3)
    elif rank == 1:
        into = ember.zeros(2)
        assert dist.recv(into, tag=3) == 0
        check("send/recv", into, [7.0, 8.0])
    box = ember.zeros(2, 3)
    works = dist.batch_isend_irecv([dist.P2POp(dist.isend, ember.tensor(inputs(rank)), nxt),
                                    dist.P2POp(dist.irecv, box, prv)])
    for w in works:
        w.wait()
    check("batch_isend_irecv", box, every[prv])

    # objects
    objs = [None] * size
    dist.all_gather_object(objs, {"rank": rank})
    assert objs == [{"rank": r} for r in range(size)]
    lst = [rank, "x"] if rank == 0 else [None, None]
    dist.broadcast_object_list(lst, src=0)
    assert lst == [0, "x"]
    gathered = [None] * size if rank == 0 else None
    dist.gather_object(("hi", rank), gathered, dst=0)
    if rank == 0:
        assert gathered == [("hi", r) for r in range(size)]
    slot = [None]
    dist.scatter_object_list(slot, [f"to {r}" for r in range(size)] if rank == 0 else None)
    assert slot == [f"to {rank}"]

    # sub-groups: ranks {0, 1} and everyone-but-0; src/dst stay global ranks
    pair = dist.new_group([0, 1])
    tail = dist.new_group(list(range(1, size)))
    t = ember.tensor([float(rank)])
    dist.all_reduce(t, group=pair)
    if rank < 2:
        check("new_group all_reduce", t, [1.0])
        assert dist.get_world_size(pair) == 2 and dist.get_rank(pair) == rank
    else:
        check("left out of the group", t, [float(rank)])
        assert dist.get_world_size(pair) == -1
    if rank == 0:
        assert tail == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(tail) == -1
        assert dist.all_reduce(ember.ones(1), group=tail) is None
    else:
        t = ember.tensor([float(rank)])
        dist.broadcast(t, src=size - 1, group=tail)
        check("group broadcast", t, [float(size - 1)])
        assert dist.get_process_group_ranks(tail) == list(range(1, size))
    dist.barrier()
    dist.barrier(async_op=True).wait()
    dist.destroy_process_group()
    assert not dist.is_initialized()
    print(f"rank {rank}: collectives ok", flush=True)


if __name__ == "__main__":
    abort_on_error(main)
