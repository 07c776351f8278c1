"""Resizing images: interpolate (nearest, bilinear, ...), pixel_shuffle / pixel_unshuffle.

Interpolation is separable: along each spatial dim, every output position reads one (nearest)
or two (linear) input positions with fixed weights. It is written with index_select and
multiplications, so its gradient (adding each output's gradient back to the positions it read)
comes from autograd.
"""

from __future__ import annotations

import math
from typing import Any

from ...backend import module_of
from ...ops.indexing import index_select
from ...tensor import Tensor
from ..errors import LayerInputError
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2, "bicubic": 2,
          "trilinear": 3, "area": None}


def _source_scale(in_size: int, out_size: int, scale: float | None, align_corners: bool) -> float:
    """The step in input pixels per output pixel (torch's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None else in_size / out_size


def _nearest(x: Tensor, dim: int, out_size: int, scale: float | None, exact: bool) -> Tensor:
    xp = module_of(x._data)
    in_size = x.shape[dim]
    step = _source_scale(in_size, out_size, scale, False)
    dst = xp.arange(out_size, dtype="float64")
    src = xp.floor((dst + 0.5) * step) if exact else xp.floor(dst * step)
    src = xp.minimum(src, in_size - 1).astype("int64")
    return index_select(x, dim, Tensor._make(src))


def _linear(x: Tensor, dim: int, out_size: int, scale: float | None,
            align_corners: bool) -> Tensor:
    xp = module_of(x._data)
    in_size = x.shape[dim]
    step = _source_scale(in_size, out_size, scale, align_corners)
    dst = xp.arange(out_size, dtype="float64")
    src = dst * step if align_corners else xp.maximum((dst + 0.5) * step - 0.5, 0.0)
    lo = xp.minimum(xp.floor(src), in_size - 1).astype("int64")
    hi = xp.minimum(lo + 1, in_size - 1)
    frac = (src - lo).astype(x._data.dtype)
    shape = [1] * x.ndim
    shape[dim] = out_size
    w_hi = Tensor._make(frac.reshape(shape))
    w_lo = Tensor._make((1 - frac).reshape(shape))
    return index_select(x, dim, Tensor._make(lo)) * w_lo + \
        index_select(x, dim, Tensor._make(hi)) * w_hi


def _cubic_weights(xp: Any, t: Any, a: float = -0.75) -> list:
    """Keys' cubic convolution weights for the 4 taps around a point at fraction t."""
    def near(d: Any) -> Any:
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: Any) -> Any:
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic(x: Tensor, dim: int, out_size: int, scale: float | None, align_corners: bool) -> Tensor:
    xp = module_of(x._data)
    in_size = x.shape[dim]
    step = _source_scale(in_size, out_size, scale, align_corners)
    dst = xp.arange(out_size, dtype="float64")
    src = dst * step if align_corners else (dst + 0.5) * step - 0.5
    base = xp.floor(src)
    weights = _cubic_weights(xp, src - base)
    shape = [1] * x.ndim
    shape[dim] = out_size
    out = None
    for k, w in enumerate(weights):
        idx = xp.clip(base - 1 + k, 0, in_size - 1).astype("int64")
        term = index_select(x, dim, Tensor._make(idx)) * Tensor._make(
            w.astype(x._data.dtype).reshape(shape))
        out = term if out is None else out + term
    return out


def _output_sizes(x: Tensor, spatial: int, size: Any, scale_factor: Any) -> tuple:
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = tuple(x.shape[2:])
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        if len(sizes) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(in_sizes)} and output size of {list(sizes)}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        return sizes, (None,) * spatial
    scales = (float(scale_factor),) * spatial if isinstance(scale_factor, (int, float)) else \
        tuple(float(s) for s in scale_factor)
    if len(scales) != spatial:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {list(in_sizes)} "
                         f"and scale_factor of shape {list(scales)}.")
    return tuple(int(math.floor(i * s)) for i, s in zip(in_sizes, scales)), scales


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize (N, C, *spatial) input to `size`, or by `scale_factor`, with torch's modes."""
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: interpolate mode '{mode}' is not supported; "
                                  f"choose one of {', '.join(_MODES)}")
    spatial = input.ndim - 2
    if spatial < 1:
        raise LayerInputError(f"expected (N, C, *spatial) input, got {tuple(input.shape)}",
                              "interpolate")
    need = _MODES[mode]
    if need is not None and need != spatial and mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {need + 2}D input")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported by Ember")
    sizes, scales = _output_sizes(input, spatial, size, scale_factor)
    if recompute_scale_factor:
        scales = (None,) * spatial
    if mode == "area":
        if spatial == 1:
            return adaptive_avg_pool1d(input, sizes[0])
        return adaptive_avg_pool2d(input, sizes)
    out = input
    for i in range(spatial):
        dim = 2 + i
        if mode in ("nearest", "nearest-exact"):
            out = _nearest(out, dim, sizes[i], scales[i], mode == "nearest-exact")
        elif mode == "bicubic":
            out = _cubic(out, dim, sizes[i], scales[i], bool(align_corners))
        else:
            out = _linear(out, dim, sizes[i], scales[i], bool(align_corners))
    return out


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channels become sub-pixel positions."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise LayerInputError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                              f"divisible by the square of upscale_factor, but input.size(-3)="
                              f"{c} is not divisible by {r * r}", "pixel_shuffle")
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise LayerInputError(f"pixel_unshuffle expects height and width to be divisible by "
                              f"downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                              f"with downscale_factor={r}", "pixel_unshuffle")
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)

