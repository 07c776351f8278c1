"""3-D pooling: max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d.

As in 2-D (pooling.py), every window is read through a strided view of the padded input and
reduced with one elementwise pass per kernel element (KD*KH*KW passes over the output, no
Python loop over positions); when the windows tile the input (2x2x2 stride 2 on even sizes)
they are a reshape of it instead. The max passes are branch-free (`maximum`, and the winner
updated with arithmetic: numpy's `where` on a random mask was 20x slower here). Max pooling
keeps, per output, which window element won (the first maximum, as torch); its gradient is
scattered back to exactly that element. Under create_graph the backward is rebuilt from
pad + unfold + gather/sum, which are differentiable.

Adaptive pooling has bins that may overlap and differ in size by one. Averages are separable:
one 1-D adaptive average per dim, a reshape-mean when the bins are even, else a product with
the (out, in) matrix of bin weights. Maxima are found one dim at a time too, following the
winner's position, and read with `gather`, which is differentiable.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from ...autograd.node import Op, composite_backward
from ...backend import module_of
from ...ops._util import shape_str
from ...ops.pad import pad as pad_op
from ...tensor import Tensor
from ..errors import LayerInputError
from .conv import _tuple
from .fold import Im2Col, out_size, pad_spatial, window_slices, windows
from .pooling import _batched, _check_nonempty, _check_pool, _lp_root, divide_sums

_EVERY = (slice(None), slice(None))


def _geometry(size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
              ceil_mode: bool) -> tuple:
    """Output size, and the (before, after) padding per dim that makes every window fit."""
    out, pads = [], ()
    for s, k, st, p, d in zip(size, kernel, stride, padding, dilation):
        o = out_size(s, k, st, p, d, ceil_mode)
        out.append(o)
        pads += (p, p + max((o - 1) * st + d * (k - 1) + 1 - s - 2 * p, 0))
    return tuple(out), pads


def _reversed_pairs(pads: tuple) -> tuple:
    """pad_spatial's (before, after) per dim, first dim first -> F.pad's, last dim first."""
    return tuple(v for i in reversed(range(0, len(pads), 2)) for v in pads[i:i + 2])


def _tiled(size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> bool:
    """Whether the windows tile the input exactly: then they are a reshape of it, and pooling is
    one reduction (avg) or a pass per element of a reshape (max), not of a strided view."""
    return (kernel == stride and not any(pads) and all(d == 1 for d in dilation)
            and all(s % k == 0 for s, k in zip(size, kernel)))


def _tiles(x: Any, kernel: tuple) -> Any:
    """(N, C, D, H, W) -> the view (N, C, OD, KD, OH, KH, OW, KW) (needs _tiled)."""
    shape = x.shape[:2]
    for s, k in zip(x.shape[2:], kernel):
        shape += (s // k, k)
    return x.reshape(shape)


def _tile_key(tap: tuple) -> tuple:
    """Kernel element `tap` of every tile: [:, :, :, i, :, j, :, l]."""
    return _EVERY + tuple(v for t in tap for v in (slice(None), t))


class MaxPool3d(Op):
    def name(self) -> str:  # torch's node name
        return "MaxPool3DWithIndicesBackward0"

    def forward(self, x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                ceil_mode: bool, indices_out: list | None) -> Any:
        xp = module_of(x)
        size = x.shape[2:]
        out, pads = _geometry(size, kernel, stride, padding, dilation, ceil_mode)
        tiled = _tiled(size, kernel, stride, pads, dilation)
        self.conf = (kernel, stride, dilation, out, pads, size, tiled)
        self.save_for_backward(x)
        if tiled:
            view = _tiles(x, kernel)
            element = lambda tap: view[_tile_key(tap)]  # noqa: E731
        else:
            fill = -xp.inf if x.dtype.kind in "fV" else xp.iinfo(x.dtype).min
            view = windows(pad_spatial(x, pads, fill), kernel, stride, dilation, out)
            element = lambda tap: view[_EVERY + tap]  # noqa: E731
        taps = list(itertools.product(*map(range, kernel)))
        nan_aware = x.dtype.kind in "fV" and bool(xp.isnan(x).any())
        best = element(taps[0])
        winner = xp.zeros(best.shape, dtype="int8" if len(taps) < 128 else "int32")
        for k, tap in enumerate(taps[1:], 1):
            candidate = element(tap)
            better = candidate > best  # strict: the first maximum wins, as in torch
            if nan_aware:  # a NaN wins and stays (torch propagates it)
                better |= xp.isnan(candidate) & ~xp.isnan(best)
            best = xp.maximum(best, candidate)  # NaN-propagating, like the rule above
            winner += better * (k - winner)  # where(better, k, winner) without branches
        self.winner = winner
        if indices_out is not None:
            indices_out.append(self.indices())
        return best if best.base is None else best.copy()

    def indices(self, padded: bool = False) -> Any:
        """Flat positions ((d * H) + h) * W + w of the winners in each input volume (of the
        padded one if `padded`)."""
        xp = module_of(self.winner)
        kernel, stride, dilation, out, pads, size, _ = self.conf
        taps = xp.unravel_index(self.winner, kernel)
        flat = 0
        for dim, (t, o, s, d, length) in enumerate(zip(taps, out, stride, dilation, size)):
            shape = [1] * len(out)
            shape[dim] = o
            if padded:
                first, length = 0, length + pads[2 * dim] + pads[2 * dim + 1]
            else:
                first = -pads[2 * dim]
            start = xp.arange(o, dtype="int64") * s + first
            flat = flat * length + start.reshape(shape) + t.astype("int64") * d
        return flat

    def backward(self, grad: Any) -> tuple:
        (x,) = self.saved_tensors
        kernel, stride, dilation, out, pads, size, _ = self.conf
        if isinstance(grad, Tensor):
            winner = Tensor._make(self.winner)

            def compute(x_: Any) -> Any:
                n, c = x_.shape[:2]
                padded = pad_op(x_, _reversed_pairs(pads), value=-math.inf)
                cols = Im2Col.apply(padded, kernel, dilation, (0,) * len(kernel), stride)
                cols = cols.reshape(n, c, math.prod(kernel), math.prod(out))
                picked = cols.gather(2, winner.reshape(n, c, 1, math.prod(out)))
                return picked.reshape((n, c) + out)

            return composite_backward(compute, (x,), grad, self.next_edges[:1]) + (None,) * 6
        # every output's gradient goes to its winner: a scatter into the padded input, which
        # adds up where windows overlap (one winner can serve several outputs)
        xp = module_of(grad)
        n, c = grad.shape[:2]
        padded = tuple(s + pads[2 * i] + pads[2 * i + 1] for i, s in enumerate(size))
        volume = math.prod(padded)
        where = (self.indices(padded=True).reshape(n * c, -1)
                 + xp.arange(n * c, dtype="int64")[:, None] * volume).ravel()
        if all(d * (k - 1) + 1 <= s for k, d, s in zip(kernel, dilation, stride)):  # disjoint
            gpad = xp.zeros(n * c * volume, dtype=grad.dtype)
            gpad[where] = grad.ravel()
        else:
            gpad = xp.bincount(where, weights=grad.ravel(), minlength=n * c * volume)
            gpad = gpad.astype(grad.dtype, copy=False)
        return (_crop(gpad.reshape((n, c) + padded), pads, size),) + (None,) * 6


def _crop(padded: Any, pads: tuple, size: tuple) -> Any:
    return padded[_EVERY + tuple(slice(pads[2 * i], pads[2 * i] + s) for i, s in enumerate(size))]


class AvgPool3d(Op):
    def name(self) -> str:  # torch's node name
        return "AvgPool3DBackward0"

    def forward(self, x: Any, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
                count_include_pad: bool, divisor_override: int | None) -> Any:
        xp = module_of(x)
        size, ones = x.shape[2:], (1,) * len(kernel)
        out, pads = _geometry(size, kernel, stride, padding, ones, ceil_mode)
        tiled = _tiled(size, kernel, stride, pads, ones)
        self.conf = (kernel, stride, out, pads, size, tiled)
        self.divisor = _divisors(xp, size, kernel, stride, padding, out, pads, count_include_pad,
                                 divisor_override, x.dtype)
        if tiled:
            return divide_sums(_tiles(x, kernel).sum(axis=(3, 5, 7)), self.divisor)
        view = windows(pad_spatial(x, pads), kernel, stride, ones, out)
        taps = itertools.product(*map(range, kernel))
        total = view[_EVERY + next(taps)].copy()
        for tap in taps:
            total += view[_EVERY + tap]
        return divide_sums(total, self.divisor)

    def backward(self, grad: Any) -> tuple:
        kernel, stride, out, pads, size, tiled = self.conf
        ones = (1,) * len(kernel)
        if isinstance(grad, Tensor):  # linear in x: differentiate the composite at x = 0
            divisor = Tensor._make(self.divisor)

            def compute(x_: Any) -> Any:
                n, c = x_.shape[:2]
                padded = pad_op(x_, _reversed_pairs(pads))
                cols = Im2Col.apply(padded, kernel, ones, (0,) * len(kernel), stride)
                summed = cols.reshape(n, c, math.prod(kernel), -1).sum(2)
                return summed.reshape((n, c) + out) / divisor

            x = Tensor._make(module_of(grad._data).zeros(
                tuple(grad.shape[:2]) + size, dtype=grad._data.dtype), True)
            return composite_backward(compute, (x,), grad, (True,)) + (None,) * 6
        xp = module_of(grad)
        share = grad / self.divisor
        if tiled:  # every input element gets its tile's share
            n, c = share.shape[:2]
            spread = share.reshape((n, c) + tuple(v for o in out for v in (o, 1)))
            spread = xp.broadcast_to(spread, (n, c) + tuple(v for o, k in zip(out, kernel)
                                                            for v in (o, k)))
            return (spread.reshape((n, c) + size),) + (None,) * 6
        gpad = xp.zeros(grad.shape[:2] + tuple(s + pads[2 * i] + pads[2 * i + 1]
                                               for i, s in enumerate(size)), dtype=grad.dtype)
        for tap in itertools.product(*map(range, kernel)):
            gpad[_EVERY + window_slices(tap, out, stride, ones)] += share
        return (_crop(gpad, pads, size),) + (None,) * 6


def _divisors(xp: Any, size: tuple, kernel: tuple, stride: tuple, padding: tuple, out: tuple,
              pads: tuple, count_include_pad: bool, override: int | None, dtype: Any) -> Any:
    """How many elements each window averages: torch counts the padding (count_include_pad)
    but never the extra cells ceil_mode adds past it."""
    if override:
        return xp.full(out, override, dtype=dtype)
    padded = tuple(s + pads[2 * i] + pads[2 * i + 1] for i, s in enumerate(size))
    inside = xp.zeros((1, 1) + padded, dtype=dtype)
    if count_include_pad:
        inside[_EVERY + tuple(slice(0, s + 2 * p) for s, p in zip(size, padding))] = 1
    else:
        inside[_EVERY + tuple(slice(pads[2 * i], pads[2 * i] + s)
                              for i, s in enumerate(size))] = 1
    view = windows(inside, kernel, stride, (1,) * len(kernel), out)
    return view.sum(axis=tuple(range(2, 2 + len(kernel))))[0, 0]


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _pool_args(kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
    k = _tuple(kernel_size, 3, "kernel_size")
    empty = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    s = k if empty else _tuple(stride, 3, "stride")
    return k, s, _tuple(padding, 3, "padding"), _tuple(dilation, 3, "dilation")


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Maximum over each window of a (N, C, D, H, W) volume; with return_indices also where
    it was (flat positions (d * H + h) * W + w, what max_unpool3d takes)."""
    x, unbatched = _batched(input, 3)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    _check_pool("max_pool3d", x, k, s, p, d, ceil_mode)
    found: list | None = [] if return_indices else None
    values = MaxPool3d.apply(x, k, s, p, d, ceil_mode, found)
    if unbatched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    index = Tensor._make(found[0][0] if unbatched else found[0])
    return values, index


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window of a (N, C, D, H, W) volume (counting zero padding unless
    count_include_pad=False; divided by divisor_override when given)."""
    x, unbatched = _batched(input, 3)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1)
    _check_pool("avg_pool3d", x, k, s, p, (1, 1, 1), ceil_mode)
    size = tuple(x.shape[2:])
    if any(i < j for i, j in zip(size, k)):  # torch's avg_pool3d ignores the padding here
        raise LayerInputError(f"input of shape ({shape_str(x.shape)}) is smaller than the "
                              f"{'x'.join(map(str, k))} kernel: D, H, W = "
                              f"{', '.join(map(str, size))} (padding does not count)",
                              "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool3d: divisor must be not zero")
    out = AvgPool3d.apply(x, k, s, p, ceil_mode, count_include_pad, divisor_override)
    return out.squeeze(0) if unbatched else out


def _adaptive_input(input: Tensor, output_size: Any, op: str) -> tuple:
    """(batched input, unbatched?, output size with None replaced by the input's size)."""
    if input.ndim not in (4, 5):
        raise LayerInputError(f"expected 4D (C, D, H, W) or 5D (N, C, D, H, W) input, got "
                              f"({shape_str(input.shape)})", op)
    x, unbatched = _batched(input, 3)
    _check_nonempty(input, unbatched, op)
    sizes = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 3:
        raise ValueError(f"{op}: output_size must be an int or 3 values, got {output_size!r}")
    out = tuple(x.shape[2 + i] if v is None else int(v) for i, v in enumerate(sizes))
    if min(out) < 0:
        raise LayerInputError(f"output_size must be non-negative, got {out}", op)
    return x, unbatched, out


def _empty_output(x: Tensor, out: tuple, unbatched: bool) -> Tensor:
    """The output of adaptive pooling to a size with a 0 in it: empty, as torch's."""
    empty = (x.reshape(-1)[:0] * 0).reshape(tuple(x.shape[:2]) + out)
    return empty.squeeze(0) if unbatched else empty


def _bin_bounds(xp: Any, size: int, out: int) -> tuple:
    """torch's bins along one dim: [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = xp.arange(out, dtype="int64")
    return i * size // out, -(-(i + 1) * size // out)


def _adaptive_mean_along(x: Tensor, dim: int, out: int) -> Tensor:
    size = x.shape[dim]
    if size == out:
        return x
    if size % out == 0:  # even bins: a reshape and a mean
        shape = tuple(x.shape)
        return x.reshape(shape[:dim] + (out, size // out) + shape[dim + 1:]).mean(dim + 1)
    xp = module_of(x._data)
    start, end = _bin_bounds(xp, size, out)
    j = xp.arange(size)[None, :]
    inside = (j >= start[:, None]) & (j < end[:, None])
    weights = Tensor._make((inside / (end - start)[:, None]).astype(x._data.dtype))  # (out, in)
    return (x.movedim(dim, -1) @ weights.transpose(0, 1)).movedim(-1, dim)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, D, H, W) to a fixed (OD, OH, OW) (None keeps that size)."""
    x, unbatched, out = _adaptive_input(input, output_size, "adaptive_avg_pool3d")
    if not x.dtype.is_floating_point:  # a mean of integers: torch refuses too
        raise NotImplementedError(f'"adaptive_avg_pool3d" not implemented for {x.dtype} input; '
                                  "convert it with .float() first")
    if 0 in out:
        return _empty_output(x, out, unbatched)
    for dim in range(3):
        x = _adaptive_mean_along(x, 2 + dim, out[dim])
    return x.squeeze(0) if unbatched else x


def _bin_max_along(values: Any, dim: int, out: int) -> tuple:
    """1-D adaptive max pooling along `dim`: (maxima, the input position of each first
    maximum). A pass per bin element j over the j-th position of every bin (a short bin repeats
    its last one, which never changes a maximum nor which one comes first), with `dim` moved
    first so that every read is a run of whole contiguous rows."""
    xp = module_of(values)
    start, end = _bin_bounds(xp, values.shape[dim], out)
    positions = xp.minimum(start[:, None] + xp.arange(int((end - start).max())),
                           end[:, None] - 1)  # (out, longest bin)
    rows = xp.ascontiguousarray(xp.moveaxis(values, dim, 0))
    nan_aware = values.dtype.kind in "fV" and bool(xp.isnan(rows).any())
    best = rows[positions[:, 0]]
    first = xp.zeros(best.shape, dtype="int8" if positions.shape[1] < 128 else "int64")
    for j in range(1, positions.shape[1]):
        candidate = rows[positions[:, j]]
        better = candidate > best  # strict: the first maximum wins
        if nan_aware:  # a NaN wins and stays
            better |= xp.isnan(candidate) & ~xp.isnan(best)
        best = xp.maximum(best, candidate)
        first += better * (j - first)
    where = positions[xp.arange(out).reshape((out,) + (1,) * (first.ndim - 1)), first]
    return xp.moveaxis(best, 0, dim), xp.moveaxis(where, 0, dim)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, D, H, W) to a fixed (OD, OH, OW); indices are flat positions
    (d * H + h) * W + w.

    One dim at a time (W, then H, then D), each time following the winner's position in the
    dims already reduced: the maximum found first along D, then H, then W is the first maximum
    in (d, h, w) order, torch's choice."""
    x, unbatched, out = _adaptive_input(input, output_size, "adaptive_max_pool3d")
    xp = module_of(x._data)
    if 0 in out:
        values = _empty_output(x, out, unbatched)
        flat = Tensor._make(xp.zeros(tuple(values.shape), dtype="int64"))
        return (values, flat) if return_indices else values
    n, c, _, h, w = x.shape
    best, w_at = _bin_max_along(x._data, 4, out[2])  # (N, C, D, H, OW)
    best, h_at = _bin_max_along(best, 3, out[1])  # (N, C, D, OH, OW)
    w_at = xp.take_along_axis(w_at, h_at, axis=3)
    _, d_at = _bin_max_along(best, 2, out[0])  # (N, C, OD, OH, OW)
    h_at = xp.take_along_axis(h_at, d_at, axis=2)
    w_at = xp.take_along_axis(w_at, d_at, axis=2)
    flat = (d_at * h + h_at) * w + w_at
    values = x.reshape(n, c, -1).gather(2, Tensor._make(flat.reshape(n, c, -1)))
    values = values.reshape((n, c) + out)
    if unbatched:
        values, flat = values.squeeze(0), flat[0]
    return (values, Tensor._make(flat)) if return_indices else values


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W): (sum over each window of x^p)^(1/p)."""
    k = _tuple(kernel_size, 3, "kernel_size")
    out = avg_pool3d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp_root(out, norm_type, math.prod(k))


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> Any:
    return adaptive_max_pool3d(input, output_size, True)
