"""Fractional max pooling (Graham 2014): max over kernel-sized windows whose starts advance by a
pseudo-random, non-integer stride, so that the output is a chosen size (or ratio) of the input.

Along one dim of input size n, output size m and kernel k, with one sample u in [0, 1) per
(batch, channel) plane and alpha = (n - k) / (m - 1) (torch's formula, in the input's dtype):

    start[i] = int((i + u) * alpha) - int(u * alpha)   for i < m - 1,    start[m - 1] = n - k

The window maxima are picked with numpy (first maximum in scan order, NaN wins as in torch);
the output is then a differentiable gather of the input at those flat indices, so the backward
(a scatter-add, windows may overlap) and double backward come from `gather`.
`_random_samples` (N, C, 2 or 3) lets tests feed torch and Ember the same samples; the samples
of 2-D pooling are (width, height), those of 3-D pooling (time, height, width), as in torch.
"""

from __future__ import annotations

import math
from typing import Any

from ... import random
from ...backend import module_of
from ...tensor import Tensor


def _size_tuple(value: Any, n: int, op: str, what: str) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value,) * n
    out = tuple(value)
    if len(out) == 1:
        out = out * n
    if len(out) != n:
        raise RuntimeError(f"{op}: {what} must either be a single Int or tuple of Ints "
                           f"({n} of them), got {value!r}")
    return out


def _window_starts(xp: Any, samples: Any, n: int, m: int, k: int) -> Any:
    """(planes, m) int64 window starts along one dim for (planes,) samples."""
    if m == 0:
        return xp.zeros(samples.shape + (0,), dtype=xp.int64)
    ftype = samples.dtype  # every step rounded to the input's dtype, as torch's scalar_t
    u = samples[:, None]
    starts = xp.empty(samples.shape + (m,), dtype=xp.int64)
    if m > 1:
        alpha = xp.asarray(n - k, dtype=ftype) / xp.asarray(m - 1, dtype=ftype)
        i = xp.arange(m - 1, dtype=ftype)[None, :]
        starts[:, :-1] = ((i + u) * alpha).astype(xp.int64) - (u * alpha).astype(xp.int64)
    starts[:, -1] = n - k
    return starts


def _window_argmax(x: Any, samples: Any, kernel: tuple, out_size: tuple) -> Any:
    """Flat spatial index of each window's maximum: (planes, *out_size) int64.

    x: (planes, *spatial); samples: (planes, nd) ordered as torch orders them."""
    xp = module_of(x)
    nd = len(kernel)
    planes, spatial = x.shape[0], x.shape[1:]
    if 0 in out_size:
        return xp.zeros((planes,) + tuple(out_size), dtype=xp.int64)
    order = (1, 0) if nd == 2 else (0, 1, 2)  # which sample drives which spatial dim
    flat = xp.zeros((planes,) + (1,) * (2 * nd), dtype=xp.int64)
    stride = 1
    for d in reversed(range(nd)):
        starts = _window_starts(xp, samples[:, order[d]], spatial[d], out_size[d], kernel[d])
        pos = starts[:, :, None] + xp.arange(kernel[d])[None, None, :]  # (planes, m, k)
        shape = [planes] + [1] * (2 * nd)
        shape[1 + d], shape[1 + nd + d] = out_size[d], kernel[d]
        flat = flat + pos.reshape(shape) * stride
        stride *= spatial[d]
    flat = xp.broadcast_to(flat, (planes,) + tuple(out_size) + tuple(kernel))
    windows = flat.reshape(planes, math.prod(out_size), math.prod(kernel))
    values = xp.take_along_axis(x.reshape(planes, 1, -1), windows.reshape(planes, 1, -1),
                                axis=2).reshape(windows.shape)
    pick = xp.argmax(values, axis=-1)  # first maximum in scan order
    if values.dtype.kind in "fV":
        nan = xp.isnan(values)
        if nan.any():  # torch's `val > max || isnan(val)`: the last NaN wins
            last_nan = values.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
            pick = xp.where(nan.any(axis=-1), last_nan, pick)
    index = xp.take_along_axis(windows, pick[..., None], axis=-1)[..., 0]
    return index.reshape((planes,) + tuple(out_size))


def _fractional_max_pool(input: Tensor, kernel_size: Any, output_size: Any, output_ratio: Any,
                         return_indices: bool, _random_samples: Tensor | None,
                         nd: int) -> Any:
    op = f"fractional_max_pool{nd}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.ndim < nd + 1 and _random_samples is None:  # torch fails on input.size(-3)
        raise IndexError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got input of "
                         f"shape {list(input.shape)}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got input of "
                           f"shape {list(input.shape)}")
    kernel = tuple(int(k) for k in _size_tuple(kernel_size, nd, op, "kernel_size"))
    spatial = tuple(input.shape[-nd:])
    if output_size is None:
        try:
            ratio = _size_tuple(output_ratio, nd, op, "output_ratio")
        except RuntimeError:
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple "
                             f"of Ints ({nd} of them), got {output_ratio!r}") from None
        out_size = tuple(int(n * r) for n, r in zip(spatial, ratio))
    else:
        out_size = tuple(int(m) for m in _size_tuple(output_size, nd, op, "output_size"))
    unbatched = input.ndim == nd + 1
    batch = 1 if unbatched else input.shape[0]
    channels = input.shape[-nd - 1]
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"{op}(): not implemented for {input.dtype} input (a "
                                  "floating-point input is expected)")
    if _random_samples is None:
        _random_samples = random.rand(batch, channels, nd, dtype=input.dtype,
                                      device=input.device)
    samples = _random_samples
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to be 3D (N, C, {nd}), got shape "
                           f"{list(samples.shape)}")
    if samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                           f"{samples.shape[2]}.")
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for name, k, m, n in zip(names, kernel, out_size, spatial):
        if k <= 0 or m < 0:
            raise RuntimeError(f"{op}(): kernel_size must be positive and output_size "
                               f"non-negative, got kernel_size {kernel} and output_size "
                               f"{out_size}")
        # torch's bound: the last window ends inside the input (strictly, in 3-D)
        if m + k - 1 > n or (nd == 3 and m + k - 1 == n):
            where = f"{op}()" if nd == 2 else f"{op}_out()"
            raise RuntimeError(f"{where}: pool {name} {k} too large relative to input "
                               f"{name} {n}")
    x = input.unsqueeze(0) if unbatched else input
    planes = batch * channels
    data = x._data.reshape((planes,) + spatial)
    sample_data = samples._data[:batch].reshape(planes, nd)
    index = _window_argmax(data, sample_data, kernel, out_size)
    index_t = Tensor._make(index.reshape(batch, channels, -1))
    out = x.flatten(2).gather(2, index_t).reshape((batch, channels) + out_size)
    indices = index_t.reshape((batch, channels) + out_size)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None
                                       ) -> tuple[Tensor, Tensor]:
    """fractional_max_pool2d that always returns (output, indices)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, True,
                                _random_samples, 2)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Tensor | None = None) -> Any:
    """2-D fractional max pooling over (N, C, H, W) or (C, H, W) input (torch's signature)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 2)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None
                                       ) -> tuple[Tensor, Tensor]:
    """fractional_max_pool3d that always returns (output, indices)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, True,
                                _random_samples, 3)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Tensor | None = None) -> Any:
    """3-D fractional max pooling over (N, C, T, H, W) or (C, T, H, W) input."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 3)


__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]
