"""torch.backends.openmp: Ember has no OpenMP kernels of its own (BLAS has its own threads)."""

from __future__ import annotations


def is_available() -> bool:
    return False
