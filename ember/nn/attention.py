"""torch.nn.attention: choosing the kernel behind `F.scaled_dot_product_attention`.

torch has several (math, FlashAttention, memory-efficient, cuDNN); Ember has one, a blocked
softmax(QK^T/sqrt(d))V that never stores the scores twice (nn/functional/attention.py), so
`sdpa_kernel` accepts any choice and every choice runs that kernel.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_selected: list[list[SDPBackend]] = []


@contextlib.contextmanager
def sdpa_kernel(backends: SDPBackend | Iterable[SDPBackend],
                set_priority: bool = False) -> Iterator[None]:
    """`with sdpa_kernel(SDPBackend.MATH):` (or a list of backends)."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend")
    _selected.append(chosen)
    try:
        yield
    finally:
        _selected.pop()


__all__ = ["SDPBackend", "sdpa_kernel"]
