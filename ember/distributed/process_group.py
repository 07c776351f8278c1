"""Process groups on MPI: who takes part in a collective, and through which communicator.

torch's c10d keeps a default process group plus the groups made by `new_group`; here each
group is an MPI communicator (the default one a duplicate of MPI_COMM_WORLD, so Ember's traffic
never mixes with a script's own mpi4py calls). Rendezvous is MPI's: `mpiexec -n N` starts the
processes and tells each its rank, so `init_method`, `store` and torchrun's MASTER_ADDR are not
needed (they are accepted so torch scripts run unchanged).

mpi4py is an optional dependency, imported only when a group is made: `import ember` never
starts MPI.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
from typing import Any

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")

# The backend names torch scripts pass. All run on MPI: "gloo" is the CPU spelling, "nccl" the
# GPU one (GPU tensors are staged through host memory, see staging.py).
_BACKENDS = ("mpi", "gloo", "nccl")


def _mpi() -> Any:
    """The mpi4py.MPI module (importing it initialises MPI); a clear error without mpi4py."""
    try:
        from mpi4py import MPI  # noqa: PLC0415 (optional dependency, starts MPI)
    except ImportError as e:
        raise RuntimeError("ember.distributed runs on MPI through mpi4py, which is not installed:"
                           " pip install 'ember[distributed]' (mpi4py and an MPI such as the "
                           "mpich wheel), then launch with `mpiexec -n N python script.py`"
                           ) from e
    return MPI


def is_available() -> bool:
    """Whether the distributed package can run here: mpi4py is installed (MPI is not started)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    """The name "gloo" is accepted and runs on MPI, so scripts that choose it keep working."""
    return is_available()


def is_nccl_available() -> bool:
    """False: Ember has no NCCL engine (the name "nccl" is accepted and runs on MPI)."""
    return False


class Backend(str):
    """A backend name, lower-cased as torch's (`Backend("GLOO") == "gloo"`)."""

    UNDEFINED = "undefined"
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name}")
        value = name.lower()
        if ":" in value:  # torch's "cpu:gloo,cuda:nccl" device-to-backend form
            names = {part.split(":")[-1].strip() for part in value.split(",")}
            if not names <= set(_BACKENDS):
                raise ValueError(f"Invalid backend: '{name}'")
            return super().__new__(cls, value)
        if value not in _BACKENDS and value != cls.UNDEFINED:
            raise ValueError(f"Invalid backend: '{name}'")
        return super().__new__(cls, value)


class ProcessGroup:
    """A set of processes that run collectives together: an MPI communicator plus the global
    ranks of its members (in group-rank order)."""

    def __init__(self, comm: Any, ranks: list[int], backend: str, name: str = "") -> None:
        self.comm = comm
        self.ranks = list(ranks)
        self.backend = Backend(backend)
        self.group_name = name
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()

    def rank(self) -> int:
        """This process's rank inside the group."""
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return self.backend

    def group_rank(self, global_rank: int) -> int:
        try:
            return self.ranks.index(global_rank)
        except ValueError:
            raise ValueError(f"Global rank {global_rank} is not part of group {self}") from None

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class _WorldMeta(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802 (torch's spelling)
        return _world.default_pg


class GroupMember(metaclass=_WorldMeta):
    """torch's markers: WORLD is the default group (None before init_process_group);
    NON_GROUP_MEMBER is what `new_group` returns to processes left out of the group."""

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):  # noqa: N801 (torch's spelling: dist.group.WORLD)
    """`dist.group.WORLD`: the default process group."""


class _World:
    """Everything init_process_group sets up, and destroy_process_group takes down."""

    def __init__(self) -> None:
        self.default_pg: ProcessGroup | None = None
        self.groups: list[ProcessGroup] = []
        self.timeout: datetime.timedelta | None = None


_world = _World()


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job that `mpiexec` started: rank and world size come from MPI.

    torchrun's RANK / WORLD_SIZE (or the `rank` / `world_size` arguments) are checked against
    MPI's; they cannot replace it, because MPI is what connects the processes.
    """
    if _world.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend if backend is not None else Backend.MPI)
    MPI = _mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    wanted_size = world_size if world_size != -1 else _env_int("WORLD_SIZE")
    wanted_rank = rank if rank != -1 else _env_int("RANK")
    if wanted_size is not None and wanted_size != size:
        hint = (" Each process was started on its own (by torchrun or by hand), so MPI sees a "
                "world of 1; Ember connects processes through MPI: launch with "
                f"`mpiexec -n {wanted_size} python script.py`." if size == 1 else "")
        raise RuntimeError(f"init_process_group: world_size {wanted_size} was asked for but MPI "
                           f"started {size} process(es).{hint}")
    if wanted_rank is not None and wanted_rank != me:
        raise RuntimeError(f"init_process_group: rank {wanted_rank} was asked for but MPI gave "
                           f"this process rank {me}; let mpiexec assign the ranks")
    _world.default_pg = ProcessGroup(world.Dup(), list(range(size)), name, group_name)
    _world.timeout = timeout


def is_initialized() -> bool:
    return _world.default_pg is not None


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free `group`'s communicator, or every group (default included) when group is None."""
    if _world.default_pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    if group is None or group is _world.default_pg:
        for pg in [*_world.groups, _world.default_pg]:
            pg.comm.Free()
        _world.groups, _world.default_pg = [], None
        return
    if group not in _world.groups:
        raise ValueError("Invalid process group specified")
    group.comm.Free()
    _world.groups.remove(group)


def default_group() -> ProcessGroup:
    if _world.default_pg is None:
        raise ValueError(_NOT_INITIALIZED)
    return _world.default_pg


def resolve(group: Any) -> ProcessGroup | None:
    """The group a call runs on: the default one for None, None when this process is not a
    member (torch's collectives then return without doing anything)."""
    pg = default_group()
    if group is None or group is pg:
        return pg
    if group == GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group).__name__}")
    return group


def peer_rank(pg: ProcessGroup, global_rank: int | None, group_rank: int | None,
              what: str) -> int:
    """A src/dst given as a global rank (torch's `src=`) or a group rank (`group_src=`), as the
    group rank MPI wants."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"group_{what} {group_rank} is out of range for a group of "
                             f"{pg.size()}")
        return group_rank
    return pg.group_rank(0 if global_rank is None else global_rank)


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in `group` (the default group: its global rank); -1 if not a member."""
    pg = resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    pg = resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> Backend:
    pg = resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks of `group`'s members, in group-rank order."""
    pg = resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return list(pg.ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    return get_process_group_ranks(group)[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.group_rank(global_rank)


def new_group(ranks: list[int] | None = None, timeout: datetime.timedelta | None = None,
              backend: str | None = None, pg_options: Any = None,
              use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None, sort_ranks: bool = True) -> ProcessGroup | int:
    """A sub-communicator over `ranks` (global ranks). Every process of the default group must
    call it (MPI_Comm_create), unless use_local_synchronization=True, where only the members
    do (MPI_Comm_create_group). Non-members get GroupMember.NON_GROUP_MEMBER."""
    world = default_group()
    members = list(range(world.size())) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        members = sorted(members)
    if len(set(members)) != len(members):
        raise ValueError(f"new_group: ranks {members} contain duplicates")
    for r in members:
        if not 0 <= r < world.size():
            raise ValueError(f"new_group: rank {r} is out of range for a world of "
                             f"{world.size()} processes")
    mpi_group = world.comm.Get_group().Incl(members)
    if use_local_synchronization:
        if world.rank() not in members:
            mpi_group.Free()
            return GroupMember.NON_GROUP_MEMBER
        comm = world.comm.Create_group(mpi_group)
    else:
        comm = world.comm.Create(mpi_group)
    mpi_group.Free()
    if comm == _mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members, backend or world.backend, group_desc or "")
    _world.groups.append(pg)
    return pg
