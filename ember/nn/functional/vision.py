"""Resizing images: interpolate (nearest, bilinear, ...), pixel_shuffle / pixel_unshuffle.

Interpolation is separable: along each spatial dim, every output position reads one (nearest)
or two (linear) input positions with fixed weights. It is written with index_select and
multiplications, so its gradient (adding each output's gradient back to the positions it read)
comes from autograd.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from ...backend import module_of
from ...ops._util import torch_named
from ...ops.indexing import index_select
from ...tensor import Tensor
from ..errors import LayerInputError
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .pooling3d import adaptive_avg_pool3d

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2, "bicubic": 2,
          "trilinear": 3, "area": None}


def _source_scale(in_size: int, out_size: int, scale: float | None, align_corners: bool) -> float:
    """The step in input pixels per output pixel (torch's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None else in_size / out_size


def _nearest(x: Tensor, dim: int, out_size: int, scale: float | None, exact: bool,
             shortcuts: bool) -> Tensor:
    """The source index is computed in float32 unless the input is float64, as torch's kernel
    does (so that rounding picks the same pixel). Torch's 2-D 'nearest' kernel (`shortcuts`)
    also copies when the size is unchanged and halves the index when it doubles, whatever the
    scale_factor."""
    xp = module_of(x._data)
    in_size = x.shape[dim]
    if shortcuts and out_size == in_size:
        src = xp.arange(out_size)
    elif shortcuts and out_size == 2 * in_size:
        src = xp.arange(out_size) // 2
    else:
        real = xp.dtype("float64" if x._data.dtype == xp.float64 else "float32").type
        step = real(_source_scale(in_size, out_size, scale, False))
        dst = xp.arange(out_size, dtype=real)
        src = xp.floor((dst + real(0.5)) * step) if exact else xp.floor(dst * step)
        src = xp.minimum(src, in_size - 1)
    return index_select(x, dim, Tensor._make(src.astype("int64")))


def _linear(x: Tensor, dim: int, out_size: int, scale: float | None,
            align_corners: bool) -> Tensor:
    """A dim whose size is unchanged is copied, as torch does whatever the scale_factor."""
    xp = module_of(x._data)
    in_size = x.shape[dim]
    if out_size == in_size:
        return x
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
    """Keys' cubic convolution weights for the 4 taps around a point at fraction t (arrays, or
    Tensors when the weights must be differentiable, as in grid_sample)."""
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


def _filter_weights(xp: Any, in_size: int, out_size: int, scale: float | None,
                    align_corners: bool, cubic: bool) -> Any:
    """(out, in) resampling matrix of an antialiased resize (the Pillow-style filter torch
    uses): when shrinking, the filter widens by the scale so every input pixel contributes;
    each row is normalized to sum to 1."""
    step = _source_scale(in_size, out_size, scale, align_corners)
    support = (2.0 if cubic else 1.0) * (step if step >= 1.0 else 1.0)
    invscale = 1.0 / step if step >= 1.0 else 1.0
    centers = step * (xp.arange(out_size, dtype="float64") + 0.5)
    lo = xp.maximum((centers - support + 0.5).astype("int64"), 0)
    hi = xp.minimum((centers + support + 0.5).astype("int64"), in_size)
    j = xp.arange(in_size, dtype="float64")[None, :]
    d = xp.abs((j - centers[:, None] + 0.5) * invscale)
    if cubic:  # Keys' kernel with a = -0.5 (torch's choice for antialiasing)
        a = -0.5
        weights = xp.where(d < 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                           xp.where(d < 2, (((d - 5) * d + 8) * d - 4) * a, 0.0))
    else:
        weights = xp.maximum(1.0 - d, 0.0)
    weights = weights * ((j >= lo[:, None]) & (j < hi[:, None]))
    total = weights.sum(axis=1, keepdims=True)
    return weights / xp.where(total == 0, 1.0, total)


def _antialiased(x: Tensor, dim: int, out_size: int, scale: float | None,
                 align_corners: bool, cubic: bool) -> Tensor:
    """A dim whose size is unchanged is copied, as torch's forward does whatever the
    scale_factor (its backward filters by the scale: here the gradient is the forward's).

    Torch's CPU forward also goes wrong when the output is 1 wide and the height changes (its
    vertical pass reuses the first output row's weights and source for every row: each image
    comes out constant, while its backward is the true filter's). Here every row is filtered,
    which is torch's result on the same image two pixels wide, and torch's gradient."""
    if out_size == x.shape[dim]:
        return x
    xp = module_of(x._data)
    matrix = _filter_weights(xp, x.shape[dim], out_size, scale, align_corners, cubic)
    moved = x.movedim(dim, -1)  # (..., in) @ (in, out)
    return (moved @ Tensor._make(matrix.T.astype(x._data.dtype))).movedim(-1, dim)


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
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"Anti-alias option is restricted to bilinear and bicubic modes and "
                         f"requires a 4-D tensor as input, got mode '{mode}'")
    sizes, scales = _output_sizes(input, spatial, size, scale_factor)
    if recompute_scale_factor:
        scales = (None,) * spatial
    if mode != "area" and (min(sizes) <= 0 or min(input.shape[2:]) <= 0):
        names = "DHW"[3 - spatial:] if spatial <= 3 else range(spatial)
        raise LayerInputError(
            "Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{d}: {s}" for d, s in zip(names, input.shape[2:])) + ") output ("
            + ", ".join(f"{d}: {s}" for d, s in zip(names, sizes)) + ")", "interpolate")
    if mode == "area":
        area = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}[spatial]
        return area(input, sizes[0] if spatial == 1 else sizes)
    out = input
    for i in range(spatial):
        dim = 2 + i
        if mode in ("nearest", "nearest-exact"):
            out = _nearest(out, dim, sizes[i], scales[i], mode == "nearest-exact",
                           shortcuts=mode == "nearest" and spatial == 2)
        elif antialias:
            out = _antialiased(out, dim, sizes[i], scales[i], bool(align_corners),
                               mode == "bicubic")
        elif mode == "bicubic":
            out = _cubic(out, dim, sizes[i], scales[i], bool(align_corners))
        else:
            out = _linear(out, dim, sizes[i], scales[i], bool(align_corners))
    return torch_named(out, f"Upsample{_KERNELS[mode]}{spatial}D{'Aa' if antialias else ''}")


# torch's upsample kernel for each mode, named in its grad_fn (UpsampleBilinear2DBackward0)
_KERNELS = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
            "bilinear": "Bilinear", "trilinear": "Trilinear", "bicubic": "Bicubic"}


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _check_int(op: str, value: Any, name: str) -> None:
    """torch's argument parser: an int, not a float or a bool."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


def _check_shuffle_input(op: str, input: Tensor, factor: int, name: str) -> None:
    _check_int(op, factor, name)
    if input.ndim < 3:
        raise LayerInputError(f"{op} expects input to have at least 3 dimensions, but got input "
                              f"with {input.ndim} dimension(s)", op)
    if factor <= 0:
        raise LayerInputError(f"{op} expects a positive {name}, but got {name}={factor}", op)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channels become sub-pixel positions."""
    r = upscale_factor
    _check_shuffle_input("pixel_shuffle", input, r, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise LayerInputError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                              f"divisible by the square of upscale_factor, but input.size(-3)="
                              f"{c} is not divisible by {r * r}", "pixel_shuffle")
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return torch_named(x.reshape(*lead, c // (r * r), h * r, w * r), "PixelShuffle")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = downscale_factor
    _check_shuffle_input("pixel_unshuffle", input, r, "downscale_factor")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise LayerInputError(f"pixel_unshuffle expects height and width to be divisible by "
                              f"downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                              f"with downscale_factor={r}", "pixel_unshuffle")
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return torch_named(x.reshape(*lead, c * r * r, h // r, w // r), "PixelUnshuffle")



def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, g*k, *) -> (N, k*g, *): channel j*k + i goes to i*g + j, so the next grouped
    convolution sees channels from every group (ShuffleNet)."""
    _check_int("channel_shuffle", groups, "groups")
    if input.ndim < 3:
        raise LayerInputError(f"channel_shuffle expects input to have at least 3 dimensions, "
                              f"but got input with {input.ndim} dimension(s)", "channel_shuffle")
    if groups <= 0:
        raise LayerInputError(f"Number of groups to divide channels in must be positive. Value "
                              f"of groups:{groups}", "channel_shuffle")
    n, c, *rest = input.shape
    if c % groups:
        raise LayerInputError(f"Number of channels must be divisible by groups. Got {c} "
                              f"channels and {groups} groups.", "channel_shuffle")
    x = input.reshape(n, groups, c // groups, *rest)
    return x.transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------------------------------------
# Spatial transformers: affine_grid makes sampling positions, grid_sample reads the input there
# ---------------------------------------------------------------------------------------------


def _base_coords(size: int, align_corners: bool, like: Tensor) -> Tensor:
    """Normalized positions in [-1, 1] of the corner pixels' centres (align_corners=True) or of
    the pixel centres (False), rounded as torch's: linspace(-1, 1, size), times (size - 1) /
    size for pixel centres."""
    from ...creation import linspace  # noqa: PLC0415

    if size <= 1:
        return Tensor._make(module_of(like._data).zeros(1, dtype=like._data.dtype))
    coords = linspace(-1, 1, size, dtype=like.dtype, device=like.device)
    return coords if align_corners else coords * (size - 1) / size


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """Sampling grid of an affine map: theta (N, 2, 3) and size (N, C, H, W) give (N, H, W, 2)
    (x, y) positions in [-1, 1]; theta (N, 3, 4) and (N, C, D, H, W) give (N, D, H, W, 3)."""
    size = tuple(int(s) for s in size)
    if theta.dtype.is_floating_point is False:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    spatial = len(size) - 2
    if spatial not in (2, 3):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    rows = spatial
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (rows, rows + 1):
        raise ValueError(f"Expected a batch of {spatial}D affine matrices of shape Nx{rows}x"
                         f"{rows + 1} for size {list(size)}. Got {list(theta.shape)}.")
    if theta.shape[0] != size[0]:  # torch: from its batched matrix product, a RuntimeError
        raise RuntimeError(f"affine_grid: theta holds {theta.shape[0]} matrices for a size "
                           f"{list(size)} of batch {size[0]}")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    # (x, y[, z]) of every output position, x running along the last dim: (1, (D,) H, W) each
    axes = [_base_coords(s, bool(align_corners), theta) for s in size[2:]]  # (D,) H, W
    base = []
    for d, axis in enumerate(reversed(axes)):
        shape = [1] * (spatial + 1)
        shape[spatial - d] = axis.shape[0]
        base.append(axis.reshape(shape))
    # row r of the grid: x * theta[r, 0] + y * theta[r, 1] (+ z * theta[r, 2]) + theta[r, -1],
    # summed in this order in the input's precision, as torch's bmm rounds it
    coef = theta.reshape(size[0], rows, rows + 1, *([1] * spatial))
    grid = []
    for r in range(rows):
        acc = base[0] * coef[:, r, 0]
        for k in range(1, rows):
            acc = acc + base[k] * coef[:, r, k]
        grid.append(acc + coef[:, r, rows])
    from ...ops.join import stack  # noqa: PLC0415

    return torch_named(stack(grid, -1), "AffineGridGenerator")  # (N, (D,) H, W, rows)


def _unnormalize(coord: Tensor, size: int, align_corners: bool, volume: bool = False) -> Tensor:
    """[-1, 1] -> pixel index space: corners' centres (True) or the outer edges (False).

    Rounded as torch's CPU kernels, so that floor() agrees where a point sits on a pixel (the
    identity grid does): images scale by a precomputed factor, volumes divide last."""
    if volume:
        if align_corners:
            return ((coord + 1) / 2) * (size - 1)
        return ((coord + 1) * size - 1) / 2
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    shifted = coord + 1
    x = shifted * (size / 2) - 0.5
    if x._data.dtype.itemsize != 4:
        return x
    # torch's float32 kernel fuses the multiply-subtract (one rounding): the identity grid then
    # lands exactly on the pixels; float64 does that rounding here, added as a constant
    fused = (shifted._data.astype("float64") * (size / 2) - 0.5).astype(x._data.dtype)
    return x + Tensor._make(fused - x._data)


def _reflect(coord: Tensor, low2: int, high2: int) -> Tensor:
    """Fold coordinates into [low2/2, high2/2] by mirroring at the borders."""
    if low2 == high2:
        return coord * 0
    low, span = low2 / 2, (high2 - low2) / 2
    folded = (coord - low).abs()
    extra = folded.fmod(span)
    flips = (folded._data // span).astype("int64")
    even = Tensor._make(flips % 2 == 0)
    from ...ops.indexing import where  # noqa: PLC0415

    return where(even, extra + low, span - extra + low)


def _source_coord(coord: Tensor, size: int, padding_mode: str, align_corners: bool,
                  volume: bool) -> Tensor:
    """Pixel-space coordinate, clipped or reflected as padding_mode says."""
    x = _unnormalize(coord, size, align_corners, volume)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        x = _clip_coordinates(x, size)
    return x


def _clip_coordinates(x: Tensor, size: int) -> Tensor:
    """x clamped to [0, size - 1]; as in torch, the borders count as outside for the
    gradient, which is 0 there (clamp's would be 1)."""
    from ...ops.indexing import where  # noqa: PLC0415

    inside = Tensor._make((x._data > 0) & (x._data < size - 1))
    return where(inside, x, x.detach().clamp(0, size - 1))


def _tap_index(index: Any, size: int, padding_mode: str, align_corners: bool) -> Any:
    """An integer tap coordinate moved inside by padding_mode (zeros: left as it is, so taps
    outside read 0)."""
    if padding_mode == "zeros":
        return index.astype("int64")
    coord = Tensor._make(index)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(
            coord, -1, 2 * size - 1)
    return coord.clamp(0, size - 1)._data.astype("int64")


def _tap_reader(input: Tensor, out_shape: tuple) -> Any:
    """read(indices): input (N, C, *spatial) at integer positions, one (N, *out) array per
    spatial dim (outermost first); zero where a position is outside. (N, C, *out)."""
    from ...ops.pad import pad  # noqa: PLC0415

    n, c, *sizes = input.shape
    xp = module_of(input._data)
    # one zero past the end of each (n, c) row: the value every outside tap reads, so that
    # neither an inf/NaN input at the border nor a NaN weight leaks in (as torch's masked
    # gather); the gradient sent there is dropped by pad's backward
    flat = pad(input.reshape(n, c, -1), (0, 1))
    past_end = flat.shape[2] - 1
    count = 1
    for o in out_shape:
        count *= o

    def read(indices: list) -> Tensor:
        inside = None
        where_ = 0
        for index, size in zip(indices, sizes, strict=True):
            ok = (index >= 0) & (index < size)
            inside = ok if inside is None else inside & ok
            where_ = where_ * size + xp.clip(index, 0, size - 1)
        where_ = xp.where(inside, where_, past_end).reshape(n, 1, -1)
        gather_at = Tensor._make(xp.ascontiguousarray(xp.broadcast_to(where_, (n, c, count))))
        return flat.gather(2, gather_at).reshape((n, c) + tuple(out_shape))

    return read


def _grid_sample_bicubic(input: Tensor, grid: Tensor, padding_mode: str,
                         align_corners: bool) -> Tensor:
    """Cubic convolution over the 4 x 4 pixels around each grid point (torch's bicubic): the
    point is unnormalised without clipping, and each tap is moved in by padding_mode."""
    n, c, h, w = input.shape
    xp = module_of(input._data)
    read = _tap_reader(input, tuple(grid.shape[1:3]))
    x = _unnormalize(grid[..., 0], w, align_corners)  # (N, Ho, Wo)
    y = _unnormalize(grid[..., 1], h, align_corners)
    x0, y0 = xp.floor(x._data), xp.floor(y._data)
    wx = _cubic_weights(xp, (x - Tensor._make(x0)).unsqueeze(1))  # Tensors: grid gradients
    wy = _cubic_weights(xp, (y - Tensor._make(y0)).unsqueeze(1))
    out = None
    for j in range(4):
        iy = _tap_index(y0 + (j - 1), h, padding_mode, align_corners)
        row = None
        for i in range(4):
            ix = _tap_index(x0 + (i - 1), w, padding_mode, align_corners)
            term = read([iy, ix]) * wx[i]
            row = term if row is None else row + term
        out = row * wy[j] if out is None else out + row * wy[j]
    return out


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Read input (N, C, H, W) at grid (N, Ho, Wo, 2) positions (x, y) in [-1, 1]:
    (N, C, Ho, Wo); or volumes (N, C, D, H, W) at (N, Do, Ho, Wo, 3) positions (x, y, z).
    Bilinear (trilinear for volumes), nearest, or bicubic (4-D); outside the input: zeros,
    the border value, or the reflection. Differentiable in the input and (bilinear, bicubic)
    in the grid."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)}")
    dims = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != dims or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample(): expected grid of shape (N, *out, {dims}) with "
                           f"N = {input.shape[0]} and {input.ndim} dims for an input of shape "
                           f"{list(input.shape)}, got grid of shape {list(grid.shape)}")
    if 0 in input.shape[2:]:
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)}")
    if not input.dtype.is_floating_point:  # torch: no integer kernel
        raise NotImplementedError(f"grid_sample(): not implemented for {input.dtype} input")
    if input._data.dtype != grid._data.dtype:
        raise RuntimeError(f"grid_sample(): expected input and grid to have the same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    ac = bool(align_corners)
    if mode == "bicubic":
        if dims != 2:
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
        return torch_named(_grid_sample_bicubic(input, grid, padding_mode, ac), "GridSampler2D")
    xp = module_of(input._data)
    sizes = input.shape[2:]
    # grid's last dim lists x (width) first; the input's dims run outermost first
    coords = [_source_coord(grid[..., dims - 1 - d], sizes[d], padding_mode, ac, dims == 3)
              for d in range(dims)]
    read = _tap_reader(input, tuple(grid.shape[1:-1]))
    if mode == "nearest":  # round half to even, as torch's nearbyint; the grid gets zeros
        out = read([xp.rint(q._data).astype("int64") for q in coords])
        if grid.requires_grad:  # a zero gradient, and no NaN from grid * 0 at a NaN point
            from ...ops.indexing import where  # noqa: PLC0415

            out = out + where(Tensor._make(xp.zeros((), dtype=bool)), grid, 0.0).sum()
        return torch_named(out, f"GridSampler{dims}D")
    lows = [xp.floor(q._data) for q in coords]  # NaN/inf: cast to int, outside (reads 0)
    taps = [lo.astype("int64") for lo in lows]
    if dims == 3 and not bool(xp.isfinite(grid._data).all()):
        # torch's 3-D kernel skips the (all outside) taps of a NaN/inf point: its output and
        # gradients are 0 there, where the weights would be NaN (2-D gives NaN, as 0 * NaN)
        from ...ops.indexing import where  # noqa: PLC0415

        finite = [xp.isfinite(lo) for lo in lows]
        coords = [where(Tensor._make(ok), q, 0.0) for q, ok in zip(coords, finite, strict=True)]
        lows = [xp.where(ok, lo, 0.0) for lo, ok in zip(lows, finite, strict=True)]
    upper = [(q - Tensor._make(lo)).unsqueeze(1) for q, lo in zip(coords, lows, strict=True)]
    out = None
    for corner in itertools.product((0, 1), repeat=dims):  # 4 or 8 neighbours
        weight = None
        for d, bit in enumerate(corner):
            wd = upper[d] if bit else 1 - upper[d]
            weight = wd if weight is None else weight * wd
        term = read([tap + bit for tap, bit in zip(taps, corner, strict=True)]) * weight
        out = term if out is None else out + term
    return torch_named(out, f"GridSampler{dims}D")
