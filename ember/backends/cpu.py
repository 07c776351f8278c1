"""torch.backends.cpu: which SIMD level numpy's kernels were built to use on this CPU."""

from __future__ import annotations

from .. import backend


def get_cpu_capability() -> str:
    """'AVX512', 'AVX2' or 'DEFAULT', as numpy found this CPU (torch's names)."""
    try:
        features = backend.module_for(backend.CPU)._core._multiarray_umath.__cpu_features__
    except AttributeError:
        return "DEFAULT"
    if features.get("AVX512F") and features.get("AVX512BW"):
        return "AVX512"
    if features.get("AVX2"):
        return "AVX2"
    return "DEFAULT"
