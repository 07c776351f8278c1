"""Pooling: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d.

Pooling reads every window through a strided view of the padded input and reduces it with
KH*KW elementwise passes over the output (no Python loop over positions). Max pooling keeps,
per output, which window element won (the first maximum, as torch); its gradient goes back to
exactly that element. Under create_graph the backward is rebuilt from pad + unfold + gather/sum,
which are differentiable, so higher-order gradients work.
"""

from __future__ import annotations

import math
from typing import Any

from ... import kernels
from ...autograd.node import Op, composite_backward
from ...backend import module_of
from ...ops._util import shape_str, torch_named
from ...ops.pad import pad as pad_op
from ...tensor import Tensor
from ..errors import LayerInputError
from .fold import DIM_NAMES, Im2Col, out_size, pad_spatial, pair, size_formula, windows


def _geometry(h: int, w: int, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
              ceil_mode: bool) -> tuple:
    """Output size and the (top, bottom, left, right) padding that makes every window fit."""
    oh = out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    extra_h = max((oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - h - 2 * padding[0],
                  0)
    extra_w = max((ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - w - 2 * padding[1],
                  0)
    return (oh, ow), (padding[0], padding[0] + extra_h, padding[1], padding[1] + extra_w)


def _slices(i: int, j: int, out: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Where window element (i, j) of every output sits in the padded input."""
    top, left = i * dilation[0], j * dilation[1]
    return (slice(None), slice(None),
            slice(top, top + stride[0] * (out[0] - 1) + 1, stride[0]),
            slice(left, left + stride[1] * (out[1] - 1) + 1, stride[1]))


def _tiles(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, h: int,
           w: int) -> bool:
    """Whether the windows tile the input exactly (2x2 stride 2 on even sizes, ...): then they
    are a reshape of it, and pooling is one reduction instead of a pass per window element."""
    return (kernel == stride and padding == (0, 0) and dilation == (1, 1)
            and h % kernel[0] == 0 and w % kernel[1] == 0)


def _blocks(x: Any, kernel: tuple) -> Any:
    """(N, C, H, W) -> (N, C, OH, OW, KH*KW) copy of the tiles (needs _tiles)."""
    n, c, h, w = x.shape
    oh, ow = h // kernel[0], w // kernel[1]
    tiles = x.reshape(n, c, oh, kernel[0], ow, kernel[1]).transpose(0, 1, 2, 4, 3, 5)
    return tiles.reshape(n, c, oh, ow, kernel[0] * kernel[1])


def _untile(values: Any, kernel: tuple) -> Any:
    """(N, C, OH, OW, KH, KW) -> (N, C, H, W), the inverse arrangement of _blocks."""
    n, c, oh, ow = values.shape[:4]
    return values.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh * kernel[0], ow * kernel[1])


def _first_inside_wins(winner: Any, best: Any, conf: tuple, xp: Any) -> None:
    """A window whose values inside the input are all -inf kept its first tap, which may lie
    in the -inf padding: torch's winner there is the first tap inside the input."""
    kernel, stride, _, dilation, _, out, pads, (h, w) = conf
    stuck = best == -xp.inf
    if not stuck.any():
        return
    rows = xp.arange(out[0])[:, None] * stride[0] - pads[0]
    cols = xp.arange(out[1])[None, :] * stride[1] - pads[2]
    for k in range(kernel[0] * kernel[1]):
        i, j = divmod(k, kernel[1])
        inside = ((rows + i * dilation[0] >= 0) & (rows + i * dilation[0] < h)
                  & (cols + j * dilation[1] >= 0) & (cols + j * dilation[1] < w))
        take = stuck & inside
        winner[take] = k
        stuck &= ~take


class MaxPool2d(Op):
    def name(self) -> str:  # torch's node name
        return "MaxPool2DWithIndicesBackward0"

    def forward(self, x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                ceil_mode: bool) -> Any:
        xp = module_of(x)
        n, c, h, w = x.shape
        out, pads = _geometry(h, w, kernel, stride, padding, dilation, ceil_mode)
        self.conf = (kernel, stride, padding, dilation, ceil_mode, out, pads, (h, w))
        self.save_for_backward(x)
        tiles = _tiles(kernel, stride, padding, dilation, h, w)
        winner_dtype = "int8" if kernel[0] * kernel[1] < 128 else "int32"
        if tiles and kernels.usable_float(x):
            best, self.winner = kernels.load("max_pool").forward_tiles(x, kernel, winner_dtype)
            return best
        if tiles:  # a view: (N, C, OH, KH, OW, KW)
            tiles = x.reshape(n, c, out[0], kernel[0], out[1], kernel[1])
            element = lambda i, j: tiles[:, :, :, i, :, j]  # noqa: E731
        else:
            fill = -xp.inf if x.dtype.kind in "fV" else xp.iinfo(x.dtype).min
            view = windows(pad_spatial(x, pads, fill), kernel, stride, dilation, out)
            element = lambda i, j: view[:, :, i, j]  # noqa: E731
        nan_aware = x.dtype.kind in "fV" and bool(xp.isnan(x).any())
        best = element(0, 0)
        winner = xp.zeros(best.shape, dtype=winner_dtype)
        for k in range(1, kernel[0] * kernel[1]):
            candidate = element(*divmod(k, kernel[1]))
            better = candidate > best  # strict: the first maximum wins, as in torch
            if nan_aware:  # a NaN wins, a later one too (torch's rule)
                better |= xp.isnan(candidate)
            best = xp.maximum(best, candidate)  # NaN-propagating, like the rule above
            winner += better * (k - winner)  # where(better, k, winner) without branches
        if any(pads) and x.dtype.kind in "fV":
            _first_inside_wins(winner, best, self.conf, xp)
        self.winner = winner
        return best if best.base is None else best.copy()

    def indices(self) -> Any:
        """Flat positions (h * W + w) of the winners in each unpadded input plane."""
        xp = module_of(self.winner)
        kernel, stride, _, dilation, _, out, pads, (_, w) = self.conf
        i, j = self.winner // kernel[1], self.winner % kernel[1]
        rows = xp.arange(out[0])[:, None] * stride[0] + i * dilation[0] - pads[0]
        cols = xp.arange(out[1])[None, :] * stride[1] + j * dilation[1] - pads[2]
        return rows * w + cols

    def backward(self, grad: Any) -> tuple:
        (x,) = self.saved_tensors
        kernel, stride, padding, dilation, ceil_mode, out, pads, (h, w) = self.conf
        if isinstance(grad, Tensor):
            winner = Tensor._make(self.winner)

            def compute(x_: Any) -> Any:
                return _max_pool_composite(x_, winner, kernel, stride, dilation, out, pads)

            return composite_backward(compute, (x,), grad, self.next_edges[:1]) + (None,) * 5
        xp = module_of(grad)
        if kernels.usable_float(x) and grad.__class__ is x.__class__ and grad.dtype == x.dtype:
            geometry = kernel + stride + dilation + (pads[0], pads[2])
            gx = kernels.load("max_pool").backward(xp.ascontiguousarray(grad), self.winner,
                                                   geometry, x.shape)
            return gx, None, None, None, None, None
        n, c = grad.shape[:2]
        # grad where the tap won, else 0: a product with the mask is 5x faster than a masked
        # copy, but inf * 0 is nan, so non-finite gradients take the masked copy
        finite = bool(xp.isfinite(grad).all()) if grad.dtype.kind in "fV" else True
        if _tiles(kernel, stride, padding, dilation, h, w):
            gx = xp.empty((n, c, out[0], kernel[0], out[1], kernel[1]), dtype=grad.dtype)
            for k in range(kernel[0] * kernel[1]):
                i, j = divmod(k, kernel[1])
                if finite:
                    xp.multiply(grad, self.winner == k, out=gx[:, :, :, i, :, j])
                else:
                    gx[:, :, :, i, :, j] = 0
                    xp.copyto(gx[:, :, :, i, :, j], grad, where=self.winner == k)
            return gx.reshape(n, c, h, w), None, None, None, None, None
        gpad = xp.zeros((n, c, h + pads[0] + pads[1], w + pads[2] + pads[3]), dtype=grad.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                won = self.winner == i * kernel[1] + j
                gpad[_slices(i, j, out, stride, dilation)] += \
                    grad * won if finite else xp.where(won, grad, 0)
        return gpad[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + w], None, None, None, None, None


def _max_pool_composite(x: Tensor, winner: Tensor, kernel: tuple, stride: tuple,
                        dilation: tuple, out: tuple, pads: tuple) -> Tensor:
    n, c = x.shape[:2]
    padded = pad_op(x, (pads[2], pads[3], pads[0], pads[1]), value=-math.inf)
    cols = Im2Col.apply(padded, kernel, dilation, (0, 0), stride)  # (N, C*KK, L)
    cols = cols.reshape(n, c, kernel[0] * kernel[1], out[0] * out[1])
    picked = cols.gather(2, winner.reshape(n, c, 1, out[0] * out[1]))
    return picked.reshape(n, c, out[0], out[1])


class AvgPool2d(Op):
    def name(self) -> str:  # torch's node name
        return "AvgPool2DBackward0"

    def forward(self, x: Any, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
                count_include_pad: bool, divisor_override: int | None) -> Any:
        xp = module_of(x)
        n, c, h, w = x.shape
        out, pads = _geometry(h, w, kernel, stride, padding, (1, 1), ceil_mode)
        self.conf = (kernel, stride, out, pads, (h, w))
        self.divisor = _divisors(xp, h, w, kernel, stride, padding, out, pads, count_include_pad,
                                 divisor_override, x.dtype)
        if _tiles(kernel, stride, padding, (1, 1), h, w) and not ceil_mode:
            return divide_sums(_blocks(x, kernel).sum(axis=-1), self.divisor)
        view = windows(pad_spatial(x, pads), kernel, stride, (1, 1), out)
        total = view[:, :, 0, 0].copy()
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                if i or j:
                    total += view[:, :, i, j]
        return divide_sums(total, self.divisor)

    def backward(self, grad: Any) -> tuple:
        kernel, stride, out, pads, (h, w) = self.conf
        if isinstance(grad, Tensor):
            divisor = Tensor._make(self.divisor)

            def compute(x_: Any) -> Any:
                padded = pad_op(x_, (pads[2], pads[3], pads[0], pads[1]))
                cols = Im2Col.apply(padded, kernel, (1, 1), (0, 0), stride)
                n, c = x_.shape[:2]
                summed = cols.reshape(n, c, kernel[0] * kernel[1], -1).sum(2)
                return summed.reshape(n, c, out[0], out[1]) / divisor

            x = Tensor._make(module_of(grad._data).zeros(
                tuple(grad.shape[:2]) + (h, w), dtype=grad._data.dtype), True)
            return composite_backward(compute, (x,), grad, (True,)) + (None,) * 6
        xp = module_of(grad)
        n, c = grad.shape[:2]
        share = grad / self.divisor
        if _tiles(kernel, stride, (0, 0), (1, 1), h, w) and pads == (0, 0, 0, 0):
            spread = xp.broadcast_to(share[..., None, None], share.shape + tuple(kernel))
            return _untile(spread, kernel), None, None, None, None, None, None
        gpad = xp.zeros((n, c, h + pads[0] + pads[1], w + pads[2] + pads[3]), dtype=grad.dtype)
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                gpad[_slices(i, j, out, stride, (1, 1))] += share
        return gpad[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + w], None, None, None, None, \
            None, None


def divide_sums(total: Any, divisor: Any) -> Any:
    """Window sums / counts; integer inputs keep their dtype, rounding toward zero (torch)."""
    if total.dtype.kind not in "iu":
        return total / divisor
    xp = module_of(total)
    return (xp.sign(total) * (xp.abs(total) // divisor)).astype(total.dtype)


def _divisors(xp: Any, h: int, w: int, kernel: tuple, stride: tuple, padding: tuple, out: tuple,
              pads: tuple, count_include_pad: bool, override: int | None, dtype: Any) -> Any:
    """How many elements each window averages: torch counts the padding (count_include_pad)
    but never the extra cells ceil_mode adds past it."""
    if override:
        return xp.full(out, override, dtype=dtype)
    inside = xp.zeros((1, 1, h + pads[0] + pads[1], w + pads[2] + pads[3]), dtype=dtype)
    if count_include_pad:
        inside[:, :, :h + 2 * padding[0], :w + 2 * padding[1]] = 1
    else:
        inside[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + w] = 1
    view = windows(inside, kernel, stride, (1, 1), out)
    return view.sum(axis=(2, 3))[0, 0]


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _pool_args(kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else pair(
        stride, "stride")
    return k, s, pair(padding, "padding"), pair(dilation, "dilation")


def _check_pool(op: str, x: Tensor, kernel: tuple, stride: tuple, padding: tuple,
                dilation: tuple, ceil_mode: bool) -> None:
    nd = len(kernel)
    if x.ndim != nd + 2:
        dims = {2: "H, W", 3: "D, H, W"}[nd]
        raise LayerInputError(f"expected {nd + 1}D (C, {dims}) or {nd + 2}D (N, C, {dims}) input, "
                              f"got ({shape_str(x.shape)})", op)
    for i, name in enumerate(("kernel_size", "stride")):
        if min((kernel, stride)[i]) <= 0:
            raise ValueError(f"{op}: {name} must be greater than zero, got {(kernel, stride)[i]}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: pad must be non-negative, got padding={padding}")
    for i in range(nd):
        if padding[i] * 2 > kernel[i]:  # torch compares with the kernel, not the dilated one
            raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got "
                               f"pad={padding[i]} and kernel_size={kernel[i]}")
        size = x.shape[2 + i]
        if out_size(size, kernel[i], stride[i], padding[i], dilation[i], ceil_mode) <= 0:
            kernel_text = "x".join(map(str, kernel))
            raise LayerInputError(
                f"input of shape ({shape_str(x.shape)}) is too small for a {kernel_text} "
                f"pooling window along its {DIM_NAMES[nd][i]}: "
                + size_formula(size, kernel[i], stride[i], padding[i], dilation[i]), op)


def _batched(input: Tensor, spatial: int) -> tuple:
    if input.ndim == spatial + 1:
        return input.unsqueeze(0), True
    return input, False


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Maximum over each window; with return_indices also where it was (h * W + w)."""
    x, unbatched = _batched(input, 2)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    _check_pool("max_pool2d", x, k, s, p, d, ceil_mode)
    node_out = MaxPool2d.apply(x, k, s, p, d, ceil_mode)
    values = node_out.squeeze(0) if unbatched else node_out
    if not return_indices:
        return values
    node = node_out.grad_fn if node_out.grad_fn is not None else None
    idx = _indices(x, k, s, p, d, ceil_mode) if node is None else Tensor._make(node.indices())
    return values, (idx.squeeze(0) if unbatched else idx)


def _indices(x: Tensor, k: tuple, s: tuple, p: tuple, d: tuple, ceil_mode: bool) -> Tensor:
    op = object.__new__(MaxPool2d)
    op.forward(x._data, k, s, p, d, ceil_mode)
    return Tensor._make(op.indices())


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    if input.ndim not in (2, 3):
        raise LayerInputError(f"expected 2D (C, L) or 3D (N, C, L) input, got "
                              f"({shape_str(input.shape)})", "max_pool1d")
    first = (lambda v: v if isinstance(v, int) else v[0])
    result = max_pool2d(input.unsqueeze(-2), (1, first(kernel_size)),
                        (1, first(stride)) if stride is not None and stride != () else None,
                        (0, first(padding)), (1, first(dilation)), ceil_mode, return_indices)
    if return_indices:
        values, idx = result
        return values.squeeze(-2), idx.squeeze(-2)
    return result.squeeze(-2)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window (counting zero padding unless count_include_pad=False)."""
    x, unbatched = _batched(input, 2)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1)
    _check_pool("avg_pool2d", x, k, s, p, (1, 1), ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    out = AvgPool2d.apply(x, k, s, p, ceil_mode, count_include_pad, divisor_override)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    if input.ndim not in (2, 3):
        raise LayerInputError(f"expected 2D (C, L) or 3D (N, C, L) input, got "
                              f"({shape_str(input.shape)})", "avg_pool1d")
    first = (lambda v: v if isinstance(v, int) else v[0])
    return avg_pool2d(input.unsqueeze(-2), (1, first(kernel_size)),
                      (1, first(stride)) if stride is not None and stride != () else None,
                      (0, first(padding)), ceil_mode, count_include_pad).squeeze(-2)


def _adaptive_bins(size: int, out: int) -> list:
    """torch's bins: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _check_nonempty(input: Tensor, unbatched: bool, op: str) -> None:
    """Adaptive pooling has no bins to average or maximize over an empty dim (torch's error)."""
    shape = tuple(input.shape)
    for d in range(0 if unbatched else 1, len(shape)):
        if shape[d] == 0:
            raise LayerInputError(f"Expected input to have non-zero size for non-batch "
                                  f"dimensions, but input has sizes {list(shape)} with dimension "
                                  f"{d} being empty", op)


def _adaptive(input: Tensor, output_size: Any, largest: bool, op: str) -> tuple:
    """(values, flat indices or None) of adaptive pooling to `output_size`."""
    x, unbatched = _batched(input, 2)
    if x.ndim != 4:
        raise LayerInputError(f"expected 3D or 4D input, got ({shape_str(input.shape)})", op)
    n, c, h, w = x.shape
    _check_nonempty(input, unbatched, op)
    if not largest and not x.dtype.is_floating_point:  # a mean of integers: torch refuses too
        raise NotImplementedError(f'"{op}" not implemented for {x.dtype} input; convert it '
                                  "with .float() first")
    if isinstance(output_size, int):
        oh = ow = output_size
    else:
        oh, ow = output_size  # None keeps that dim's input size
        oh, ow = (h if oh is None else oh), (w if ow is None else ow)
    if oh < 0 or ow < 0:
        raise LayerInputError(f"output_size must be non-negative, got {(oh, ow)}", op)
    index = None
    if oh == 0 or ow == 0:  # an empty output, as torch
        out = (x.reshape(-1)[:0] * 0).reshape(n, c, oh, ow)
        index = module_of(x._data).zeros(tuple(out.shape), dtype="int64") if largest else None
    elif h % oh == 0 and w % ow == 0:  # regular windows: an ordinary pooling
        k = (h // oh, w // ow)
        if largest:
            out = MaxPool2d.apply(x, k, k, (0, 0), (1, 1), False)
            node = out.grad_fn if out.grad_fn is not None else None
            index = node.indices() if node is not None else \
                _indices(x, k, k, (0, 0), (1, 1), False)._data
        else:
            out = AvgPool2d.apply(x, k, k, (0, 0), False, True, None)
    else:  # uneven bins: one reduction per bin (small output sizes in practice)
        from ...ops.join import stack  # noqa: PLC0415

        xp = module_of(x._data)
        rows, where = [], []
        for top, bottom in _adaptive_bins(h, oh):
            cells, cell_idx = [], []
            for left, right in _adaptive_bins(w, ow):
                window = x[:, :, top:bottom, left:right].reshape(n, c, -1)
                if largest:  # the first maximum wins and gets the gradient, as in torch
                    arg = Tensor._make(xp.argmax(window._data, axis=-1)[..., None])
                    cells.append(window.gather(-1, arg).squeeze(-1))
                    r = arg._data[..., 0]
                    cell_idx.append((top + r // (right - left)) * w + left + r % (right - left))
                else:
                    cells.append(window.mean(-1))
            rows.append(stack(cells, -1))
            if largest:
                where.append(xp.stack(cell_idx, -1))
        out = stack(rows, -2)
        if largest:
            index = xp.stack(where, -2)
    if unbatched:
        out = out.squeeze(0)
        index = index[0] if index is not None else None
    return out, (Tensor._make(index.astype("int64")) if index is not None else None)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size, whatever the input size."""
    out = _adaptive(input, output_size, False, "adaptive_avg_pool2d")[0]
    if input.ndim != 4:
        return out
    return torch_named(out, "MeanBackward1" if out.shape[-2:] == (1, 1) else "AdaptiveAvgPool2D")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed output size; indices are flat positions h * W + w."""
    out, index = _adaptive(input, output_size, True, "adaptive_max_pool2d")
    if input.ndim == 4:
        out = torch_named(out, "AdaptiveMaxPool2D")
    return (out, index) if return_indices else out


def adaptive_avg_pool1d(input: Tensor, output_size: int) -> Tensor:
    size = output_size if isinstance(output_size, int) else output_size[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: int, return_indices: bool = False) -> Any:
    size = output_size if isinstance(output_size, int) else output_size[0]
    out, index = _adaptive(input.unsqueeze(-2), (1, size), True, "adaptive_max_pool1d")
    out, index = out.squeeze(-2), index.squeeze(-2)
    return (out, index) if return_indices else out


def _lp_root(mean_of_powers: Tensor, norm_type: float, window: int) -> Tensor:
    """(window * mean(x^p))^(1/p), with negative sums clamped to 0 as torch does."""
    total = mean_of_powers.sign() * mean_of_powers.abs().relu() * window
    return total.pow(1.0 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: (sum over each window of x^p)^(1/p); p = inf is max pooling,
    p = 1 sum pooling."""
    k = pair(kernel_size, "kernel_size")
    out = avg_pool2d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp_root(out, norm_type, k[0] * k[1])


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, L): (sum over each window of x^p)^(1/p)."""
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp_root(out, norm_type, k)


# torch's explicit spellings of the pools with return_indices=True
def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = True) -> Any:
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> Any:
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = True) -> Any:
    return adaptive_max_pool2d(input, output_size, True)
