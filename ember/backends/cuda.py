"""torch.backends.cuda: TF32 switches; Ember's float32 GPU products are always full float32."""

from __future__ import annotations

from .. import cuda as _cuda


class _MatmulFlags:
    """`torch.backends.cuda.matmul.allow_tf32 = True` and friends."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self) -> str:
        return f"matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether Ember can run on CUDA here (cupy installed with a GPU)."""
    return _cuda.is_available()


def flash_sdp_enabled() -> bool:
    return False


def enable_flash_sdp(enabled: bool) -> None:
    """Ember's attention is one kernel on every device; the switch changes nothing."""


def mem_efficient_sdp_enabled() -> bool:
    return False


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """See enable_flash_sdp."""


def math_sdp_enabled() -> bool:
    return True


def enable_math_sdp(enabled: bool) -> None:
    """See enable_flash_sdp."""
