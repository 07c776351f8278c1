"""Point-to-point messages: send/recv and their non-blocking forms, on the tensor's bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .process_group import ProcessGroup, peer_rank, resolve
from .staging import Buffer, Work


class _RecvWork(Work):
    """A receive's Work: knows who sent the message (source_rank, as a global rank)."""

    def __init__(self, request: Any, buf: Buffer, pg: ProcessGroup) -> None:
        from .process_group import _mpi  # noqa: PLC0415

        super().__init__([request], buf.write_back, [buf.tensor], status=_mpi().Status())
        self._pg = pg

    def source_rank(self) -> int:
        return self._pg.ranks[super().source_rank()]


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0, group_dst: int | None = None) -> Work | None:
    """Start sending `tensor` to `dst`; the returned Work's wait() says the buffer is free."""
    pg = resolve(group)
    if pg is None:
        return None
    peer = peer_rank(pg, dst, group_dst, "dst")
    buf = Buffer(tensor)
    return Work([pg.comm.Isend(buf.bytes, dest=peer, tag=tag)], None, [tensor])


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0, group_src: int | None = None) -> Work | None:
    """Start receiving into `tensor` from `src` (from anyone when src is None)."""
    pg = resolve(group)
    if pg is None:
        return None
    from .process_group import _mpi  # noqa: PLC0415

    if src is None and group_src is None:
        peer = _mpi().ANY_SOURCE
    else:
        peer = peer_rank(pg, src, group_src, "src")
    buf = Buffer(tensor, load=False)
    return _RecvWork(pg.comm.Irecv(buf.bytes, source=peer, tag=tag), buf, pg)


def send(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0, group_dst: int | None = None) -> None:
    """Send `tensor` to `dst` and wait until it has left this process's buffer."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0, group_src: int | None = None) -> int:
    """Receive into `tensor`; returns the sender's global rank (-1 if not in `group`)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank()


class P2POp:
    """One send or receive for batch_isend_irecv: `op` is isend or irecv."""

    def __init__(self, op: Callable, tensor: Tensor, peer: int | None = None,
                 group: ProcessGroup | None = None, tag: int = 0,
                 group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every send and receive of the list; wait on the returned Works."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    works = []
    for p in p2p_op_list:
        work = p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer)
        if work is not None:
            works.append(work)
    return works
