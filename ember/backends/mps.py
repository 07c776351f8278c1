"""torch.backends.mps: Ember has no Apple-GPU path."""

from __future__ import annotations


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
