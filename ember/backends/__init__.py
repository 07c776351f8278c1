"""torch.backends: flags scripts set for cuDNN, TF32, MPS and the CPU.

Ember's GPU path is CuPy (no cuDNN calls, no TF32 products) and there is no MPS path, so the
flags are plain attributes that scripts can set and read; the `is_available` functions answer
truthfully for Ember.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mha, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mha", "mkldnn", "mps", "openmp"]
