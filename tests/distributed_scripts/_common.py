"""Shared by the mpiexec test scripts: a failure on one rank must end every rank at once."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable


def abort_on_error(main: Callable[[], None]) -> None:
    """Run `main`; on an exception print it and abort the whole MPI job (so the other ranks do
    not wait forever in their next collective)."""
    try:
        main()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)
