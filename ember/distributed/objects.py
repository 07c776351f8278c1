"""Collectives on picklable Python objects (torch's *_object functions): mpi4py's lowercase
calls, which pickle, as torch does for these."""

from __future__ import annotations

from typing import Any

from .process_group import ProcessGroup, peer_rank, resolve


def all_gather_object(object_list: list[Any], obj: Any, group: ProcessGroup | None = None
                      ) -> None:
    """Fill `object_list` (one slot per rank) with every process's `obj`."""
    pg = resolve(group)
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list must have one slot per rank "
                         f"({pg.size()}), got {len(object_list)}")
    object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list: list[Any], src: int | None = None,
                          group: ProcessGroup | None = None, device: Any = None,
                          group_src: int | None = None) -> None:
    """Replace every process's `object_list` contents with `src`'s (same length everywhere)."""
    pg = resolve(group)
    if pg is None:
        return
    root = peer_rank(pg, src, group_src, "src")
    received = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: the source sent {len(received)} objects "
                         f"but this process's object_list has {len(object_list)} slots")
    object_list[:] = received


def gather_object(obj: Any, object_gather_list: list[Any] | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Every process's `obj` into `object_gather_list` on `dst` (None elsewhere)."""
    pg = resolve(group)
    if pg is None:
        return
    root = peer_rank(pg, dst, group_dst, "dst")
    if pg.rank() == root and (object_gather_list is None
                              or len(object_gather_list) != pg.size()):
        raise ValueError(f"gather_object: object_gather_list on the destination must have one "
                         f"slot per rank ({pg.size()})")
    gathered = pg.comm.gather(obj, root=root)
    if pg.rank() == root:
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list: list[Any],
                        scatter_object_input_list: list[Any] | None = None,
                        src: int | None = None, group: ProcessGroup | None = None,
                        group_src: int | None = None) -> None:
    """`src`'s `scatter_object_input_list[rank]` into each process's output_list[0]."""
    pg = resolve(group)
    if pg is None:
        return
    root = peer_rank(pg, src, group_src, "src")
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    items = None
    if pg.rank() == root:
        items = list(scatter_object_input_list or [])
        if len(items) != pg.size():
            raise ValueError(f"scatter_object_list: the source's input list must have one "
                             f"object per rank ({pg.size()}), got {len(items)}")
    scatter_object_output_list[0] = pg.comm.scatter(items, root=root)
