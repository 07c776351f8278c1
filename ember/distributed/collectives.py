"""torch.distributed's tensor collectives, each one MPI call on the tensor's own memory.

Every function takes torch's arguments, runs on the default group unless `group` is given,
returns None (or a Work with async_op=True), and returns at once on processes that are not in
`group`, as torch does. `src`/`dst` are global ranks; `group_src`/`group_dst` are ranks inside
the group.

Before a collective whose tensors must agree across processes (all_reduce, broadcast...),
the processes compare a 3-number fingerprint (op, dtype, shape) in one tiny all-gather: a
mismatch raises an error naming the op and every rank's shape on all processes, where MPI
itself would abort with "Message truncated" or hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import numpy
from ..tensor import Tensor
from .process_group import ProcessGroup, peer_rank, resolve
from .staging import Buffer, RedOpType, ReduceOp, Work, byte_view, mpi_op, run

_OPS = ("all_reduce", "broadcast", "reduce", "all_gather_into_tensor", "reduce_scatter_tensor")


def check_same_across_ranks(pg: ProcessGroup, opname: str, tensor: Tensor) -> None:
    """Raise on every process if `tensor`'s shape or dtype differs between processes."""
    if pg.size() == 1:
        return
    data = tensor._data
    mine = numpy.array([_OPS.index(opname), data.dtype.num, hash(tuple(data.shape))],
                       dtype=numpy.int64)
    every = numpy.empty((pg.size(), 3), dtype=numpy.int64)
    pg.comm.Allgather(mine, every)
    if (every == mine).all():
        return
    described = pg.comm.allgather(f"{tuple(data.shape)} {tensor.dtype}")
    raise RuntimeError(f"{opname}: the tensors differ across ranks (every rank must pass the "
                       f"same shape and dtype): " +
                       ", ".join(f"rank {pg.ranks[i]} has {d}" for i, d in enumerate(described)))


def _same_layout(opname: str, what: str, tensor: Tensor, ref: Tensor,
                 numel: int | None = None) -> None:
    if tensor.dtype != ref.dtype:
        raise RuntimeError(f"{opname}: {what} has dtype {tensor.dtype} but the input has "
                           f"{ref.dtype}")
    if numel is None and tuple(tensor.shape) != tuple(ref.shape):
        raise RuntimeError(f"{opname}: {what} has shape {tuple(tensor.shape)} but the input has "
                           f"shape {tuple(ref.shape)}")
    if numel is not None and tensor.numel() != numel:
        raise RuntimeError(f"{opname}: {what} has {tensor.numel()} elements; expected {numel}")


def _list_of(opname: str, tensors: Sequence[Tensor] | None, size: int, what: str) -> list:
    tensors = list(tensors or [])
    if len(tensors) != size:
        raise RuntimeError(f"{opname}: {what} must hold one tensor per rank of the group "
                           f"({size}), got {len(tensors)}")
    return tensors


def _counts(arrays: list) -> tuple[list[int], list[int]]:
    """Byte counts and displacements of `arrays` laid end to end (for the MPI 'v' calls)."""
    counts = [int(a.nbytes) for a in arrays]
    displs = [0]
    for c in counts[:-1]:
        displs.append(displs[-1] + c)
    return counts, displs


def _spread(block: Any, buffers: list[Buffer]) -> None:
    """Copy consecutive slices of the byte array `block` into `buffers`, then into tensors."""
    start = 0
    for b in buffers:
        view = byte_view(b.array)
        view[...] = block[start:start + view.size]
        start += view.size
        b.write_back()


def _divide(buf: Buffer, op: Any, size: int) -> None:
    if int(op) == RedOpType.AVG:
        buf.array /= size


def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Reduce `tensor` over the group; every process ends with the result in `tensor`."""
    pg = resolve(group)
    if pg is None:
        return None
    check_same_across_ranks(pg, "all_reduce", tensor)
    mop = mpi_op(op, tensor._data.dtype, "all_reduce")
    buf = Buffer(tensor, reduce=True)
    req = pg.comm.Iallreduce(_mpi_in_place(), buf.flat, mop)

    def finish() -> None:
        _divide(buf, op, pg.size())
        buf.write_back()

    return run([req], finish, async_op, [tensor])


def reduce(tensor: Tensor, dst: int | None = None, op: Any = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:
    """Reduce `tensor` over the group into `dst`'s tensor (the others keep theirs)."""
    pg = resolve(group)
    if pg is None:
        return None
    root = peer_rank(pg, dst, group_dst, "dst")
    check_same_across_ranks(pg, "reduce", tensor)
    mop = mpi_op(op, tensor._data.dtype, "reduce")
    buf = Buffer(tensor, reduce=True)
    if pg.rank() == root:
        req = pg.comm.Ireduce(_mpi_in_place(), buf.flat, mop, root=root)

        def finish() -> None:
            _divide(buf, op, pg.size())
            buf.write_back()
    else:
        req = pg.comm.Ireduce(buf.flat, None, mop, root=root)
        finish = None
    return run([req], finish, async_op, [tensor])


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
              async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Copy `src`'s tensor into every process's tensor."""
    pg = resolve(group)
    if pg is None:
        return None
    root = peer_rank(pg, src, group_src, "src")
    check_same_across_ranks(pg, "broadcast", tensor)
    sending = pg.rank() == root
    buf = Buffer(tensor, load=sending)
    req = pg.comm.Ibcast(buf.bytes, root=root)
    return run([req], None if sending else buf.write_back, async_op, [tensor])


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Every process's `tensor` into `tensor_list[rank]` on every process (sizes may differ
    between ranks: tensor_list gives them)."""
    pg = resolve(group)
    if pg is None:
        return None
    outs = _list_of("all_gather", tensor_list, pg.size(), "tensor_list")
    for i, t in enumerate(outs):
        _same_layout("all_gather", f"tensor_list[{i}]", t, tensor,
                     numel=None if i == pg.rank() else t.numel())
    send = Buffer(tensor)
    recvs = [Buffer(t, load=False) for t in outs]
    counts, displs = _counts([b.array for b in recvs])
    block = numpy.empty(sum(counts), dtype=numpy.uint8)
    req = pg.comm.Iallgatherv(send.bytes, [block, counts, displs, _mpi_byte()])
    return run([req], lambda: _spread(block, recvs), async_op, outs)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None, async_op: bool = False
                           ) -> Work | None:
    """Every process's input laid end to end (concatenated or stacked along dim 0) in
    `output_tensor`."""
    pg = resolve(group)
    if pg is None:
        return None
    _same_layout("all_gather_into_tensor", "output_tensor", output_tensor, input_tensor,
                 numel=input_tensor.numel() * pg.size())
    check_same_across_ranks(pg, "all_gather_into_tensor", input_tensor)
    send, out = Buffer(input_tensor), Buffer(output_tensor, load=False)
    req = pg.comm.Iallgather(send.bytes, out.bytes)
    return run([req], out.write_back, async_op, [output_tensor])


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:
    """Every process's `tensor` into `gather_list[rank]` on `dst`."""
    pg = resolve(group)
    if pg is None:
        return None
    root = peer_rank(pg, dst, group_dst, "dst")
    send = Buffer(tensor)
    if pg.rank() != root:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on "
                             "non-destination ranks.")
        req = pg.comm.Igatherv(send.bytes, None, root=root)
        return run([req], None, async_op)
    outs = _list_of("gather", gather_list, pg.size(), "gather_list")
    for i, t in enumerate(outs):
        _same_layout("gather", f"gather_list[{i}]", t, tensor,
                     numel=None if i == root else t.numel())
    recvs = [Buffer(t, load=False) for t in outs]
    counts, displs = _counts([b.array for b in recvs])
    block = numpy.empty(sum(counts), dtype=numpy.uint8)
    req = pg.comm.Igatherv(send.bytes, [block, counts, displs, _mpi_byte()], root=root)
    return run([req], lambda: _spread(block, recvs), async_op, outs)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False,
            group_src: int | None = None) -> Work | None:
    """`src`'s `scatter_list[rank]` into each process's `tensor`."""
    pg = resolve(group)
    if pg is None:
        return None
    root = peer_rank(pg, src, group_src, "src")
    recv = Buffer(tensor, load=False)
    if pg.rank() != root:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on "
                             "non-source ranks.")
        req = pg.comm.Iscatterv(None, recv.bytes, root=root)
        return run([req], recv.write_back, async_op, [tensor])
    ins = _list_of("scatter", scatter_list, pg.size(), "scatter_list")
    for i, t in enumerate(ins):
        _same_layout("scatter", f"scatter_list[{i}]", t, tensor,
                     numel=None if i == root else t.numel())
    block = numpy.concatenate([Buffer(t).bytes for t in ins])
    counts, displs = _counts([t._data for t in ins])
    req = pg.comm.Iscatterv([block, counts, displs, _mpi_byte()], recv.bytes, root=root)
    return run([req], recv.write_back, async_op, [tensor])


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: Any = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce `input_list[i]` over the group into process i's `output`."""
    pg = resolve(group)
    if pg is None:
        return None
    ins = _list_of("reduce_scatter", input_list, pg.size(), "input_list")
    for i, t in enumerate(ins):
        _same_layout("reduce_scatter", f"input_list[{i}]", t, output,
                     numel=None if i == pg.rank() else t.numel())
    mop = mpi_op(op, output._data.dtype, "reduce_scatter")
    send = numpy.concatenate([Buffer(t, reduce=True).flat for t in ins])
    out = Buffer(output, reduce=True, load=False)
    counts = [t.numel() for t in ins]
    req = pg.comm.Ireduce_scatter(send, out.flat, counts, mop)

    def finish() -> None:
        _divide(out, op, pg.size())
        out.write_back()

    return run([req], finish, async_op, [output])


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False
                          ) -> Work | None:
    """Reduce `input` (group-size blocks along dim 0) and give block i to process i."""
    pg = resolve(group)
    if pg is None:
        return None
    _same_layout("reduce_scatter_tensor", "input", input, output,
                 numel=output.numel() * pg.size())
    check_same_across_ranks(pg, "reduce_scatter_tensor", input)
    mop = mpi_op(op, output._data.dtype, "reduce_scatter_tensor")
    send, out = Buffer(input, reduce=True), Buffer(output, reduce=True, load=False)
    req = pg.comm.Ireduce_scatter_block(send.flat, out.flat, mop)

    def finish() -> None:
        _divide(out, op, pg.size())
        out.write_back()

    return run([req], finish, async_op, [output])


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor],
               group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Process i's `input_tensor_list[j]` into process j's `output_tensor_list[i]`."""
    pg = resolve(group)
    if pg is None:
        return None
    outs = _list_of("all_to_all", output_tensor_list, pg.size(), "output_tensor_list")
    ins = _list_of("all_to_all", input_tensor_list, pg.size(), "input_tensor_list")
    for i, t in enumerate(outs):
        _same_layout("all_to_all", f"output_tensor_list[{i}]", t, ins[0], numel=t.numel())
    send = numpy.concatenate([Buffer(t).bytes for t in ins])
    recvs = [Buffer(t, load=False) for t in outs]
    scounts, sdispls = _counts([t._data for t in ins])
    rcounts, rdispls = _counts([b.array for b in recvs])
    block = numpy.empty(sum(rcounts), dtype=numpy.uint8)
    byte = _mpi_byte()
    req = pg.comm.Ialltoallv([send, scounts, sdispls, byte], [block, rcounts, rdispls, byte])
    return run([req], lambda: _spread(block, recvs), async_op, outs)


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None,
                      group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """all_to_all on one tensor: `input` split along dim 0 (evenly, or by
    input_split_sizes), block j to process j; received blocks concatenated in `output`."""
    pg = resolve(group)
    if pg is None:
        return None
    if output.dtype != input.dtype:
        raise RuntimeError(f"all_to_all_single: output has dtype {output.dtype} but the input "
                           f"has {input.dtype}")
    ins = _splits("all_to_all_single", "input", input, input_split_sizes, pg.size())
    outs = _splits("all_to_all_single", "output", output, output_split_sizes, pg.size())
    send, recv = Buffer(input), Buffer(output, load=False)
    row_in = input._data.itemsize * (input.numel() // max(input.shape[0], 1)) if input.dim() else 0
    row_out = (output._data.itemsize * (output.numel() // max(output.shape[0], 1))
               if output.dim() else 0)
    scounts = [n * row_in for n in ins]
    rcounts = [n * row_out for n in outs]
    sdispls = [sum(scounts[:i]) for i in range(len(scounts))]
    rdispls = [sum(rcounts[:i]) for i in range(len(rcounts))]
    byte = _mpi_byte()
    req = pg.comm.Ialltoallv([send.bytes, scounts, sdispls, byte],
                             [recv.bytes, rcounts, rdispls, byte])
    return run([req], recv.write_back, async_op, [output])


def _splits(opname: str, what: str, tensor: Tensor, sizes: list[int] | None,
            n: int) -> list[int]:
    rows = tensor.shape[0] if tensor.dim() else 1
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise RuntimeError(f"{opname}: {what} has {rows} rows along dim 0, which do not "
                               f"split evenly over {n} ranks; pass {what}_split_sizes")
        return [rows // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != rows:
        raise RuntimeError(f"{opname}: {what}_split_sizes {sizes} must have {n} entries summing "
                           f"to the {rows} rows of {what}")
    return sizes


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None,
            timeout: Any = None) -> Work | None:
    """Wait until every process of the group has reached this call."""
    pg = resolve(group)
    if pg is None:
        return None
    work = Work([pg.comm.Ibarrier()])
    if async_op:
        return work
    work.wait(timeout)
    return None


def _mpi_in_place() -> Any:
    from .process_group import _mpi  # noqa: PLC0415

    return _mpi().IN_PLACE


def _mpi_byte() -> Any:
    from .process_group import _mpi  # noqa: PLC0415

    return _mpi().BYTE
