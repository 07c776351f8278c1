"""torch.backends.mkldnn: Ember does not use oneDNN (its CPU products are numpy's BLAS)."""

from __future__ import annotations

enabled = False


def is_available() -> bool:
    return False
