"""torch.backends.cudnn: Ember does not call cuDNN (its GPU convolutions are CuPy GEMMs)."""

from __future__ import annotations

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: no Ember op runs through cuDNN."""
    return False


def version() -> None:
    return None
