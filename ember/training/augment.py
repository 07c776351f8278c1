"""Data augmentation on whole batches: random crops (after zero padding) and horizontal flips.

Done on the batch array at once (one gather), so it costs a fraction of a training step, and it
draws from ember's RNG, so seeded runs (and resumed runs) repeat exactly.
"""

from __future__ import annotations

from ..backend import module_of
from ..random import _generator_for
from ..tensor import Tensor


def random_crop_flip(images: Tensor, padding: int, flip: bool = True) -> Tensor:
    """Each (C, H, W) image shifted by up to `padding` pixels (zeros enter) and, with
    probability 1/2, mirrored left-right."""
    x = images._data
    xp = module_of(x)
    n, c, h, w = x.shape
    rng = _generator_for(images.device, None).rng
    padded = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    padded[:, :, padding:padding + h, padding:padding + w] = x
    top = rng.integers(0, 2 * padding + 1, size=n)
    left = rng.integers(0, 2 * padding + 1, size=n)
    rows = top[:, None] + xp.arange(h)[None, :]  # (N, H)
    cols = left[:, None] + xp.arange(w)[None, :]  # (N, W)
    if flip:
        mirrored = rng.random(n) < 0.5
        cols = xp.where(mirrored[:, None], cols[:, ::-1], cols)
    batch = xp.arange(n)[:, None, None]
    out = padded.transpose(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return Tensor._make(xp.ascontiguousarray(out.transpose(0, 3, 1, 2)))
