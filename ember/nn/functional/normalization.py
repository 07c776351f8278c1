"""Normalization: batch_norm, layer_norm, group_norm, rms_norm, normalize.

BatchNorm and LayerNorm are one op each: x_hat = (x - mean) / sqrt(var + eps), then
y = x_hat * weight + bias. Their backward keeps only x (and the small per-group statistics)
and recomputes x_hat, so memory stays at one copy of the input, as in torch. Under
create_graph the statistics are recomputed from x as Tensors, so double backward is exact.
"""

from __future__ import annotations

from typing import Any, Sequence

from ... import dtypes, kernels
from ...autograd.grad_mode import no_grad
from ...autograd.node import Op, array_namespace
from ...backend import module_of
from ...ops._util import shape_str, sum_first, sum_last, torch_named
from ...tensor import Tensor


def _statistics(xp: Any, x: Any, axes: tuple, eps: float) -> tuple:
    mean = xp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    return mean, 1 / xp.sqrt(var + eps)


def _channel_statistics(xp: Any, x: Any, eps: float) -> tuple:
    """Per-channel (dim 1) mean and 1/std of x (N, C, *), shaped (1, C, 1, ...): the sums as
    BLAS matrix-vector products, the sum of squares without a squared temporary."""
    n, c = x.shape[0], x.shape[1]
    count = x.size // c
    x3 = x.reshape(n, c, -1)
    mean = _channel_sums(x3) / count
    centered = x3 - mean.reshape(1, c, 1)
    var = xp.einsum("nck,nck->c", centered, centered) / count
    shape = (1, c) + (1,) * (x.ndim - 2)
    return mean.reshape(shape), (1 / xp.sqrt(var + eps)).reshape(shape)


class BatchNorm(Op):
    """Per-channel (dim 1) normalization with given statistics (batch or running)."""

    def name(self) -> str:  # torch's node for batch_norm on the CPU
        return "NativeBatchNormBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, mean: Any, invstd: Any, axes: tuple,
                training: bool, eps: float) -> Any:
        self.mean, self.invstd, self.axes, self.training, self.eps = mean, invstd, axes, \
            training, eps
        self.count = x.size // mean.shape[1] if mean.shape[1] else 0  # values per channel
        self.save_for_backward(x, weight)
        if x.size and kernels.usable_float(x, weight, bias, mean, invstd):
            return kernels.load("batch_norm").normalize(_as_nck(x), mean, invstd, weight,
                                                        bias).reshape(x.shape)
        shape = mean.shape
        y = (x - mean) * invstd
        if weight is not None:
            y *= weight.reshape(shape)
        if bias is not None:
            y += bias.reshape(shape)
        return y

    def backward(self, grad: Any) -> tuple:
        x, weight = self.saved_tensors
        need_w, need_b = self.next_edges[1], self.next_edges[2]
        if not isinstance(x, Tensor) and x.dtype.kind in "fV" and x.dtype.itemsize >= 4 \
                and x.size:
            return self._backward_arrays(grad, x, weight, need_w, need_b)
        xp = array_namespace(grad)
        axes = self.axes
        mean, invstd = self.mean, self.invstd
        if self.training and isinstance(x, Tensor):  # create_graph: statistics depend on x
            mean, invstd = _statistics(xp, x, axes, self.eps)
        shape = self.mean.shape
        x_hat = (x - mean) * invstd
        g_bias = xp.sum(grad, axis=axes, keepdims=True)
        g_weight = xp.sum(grad * x_hat, axis=axes, keepdims=True)
        scale = invstd if weight is None else xp.reshape(weight, shape) * invstd
        if self.training:
            # dx = w / sigma / N * (N g - sum(g) - x_hat * sum(g x_hat))
            n = self.count
            gx = scale * (grad - g_bias / n - x_hat * (g_weight / n))
        else:
            gx = grad * scale
        channels = (shape[1],)
        return (gx, xp.reshape(g_weight, channels) if need_w else None,
                xp.reshape(g_bias, channels) if need_b else None)

    def _backward_arrays(self, grad: Any, x: Any, weight: Any, need_w: Any,
                         need_b: Any) -> tuple:
        """The same formula on (N, C, K) views, with the per-channel sums as BLAS products
        (3x numpy's reductions) and one temporary besides dx."""
        if kernels.usable_float(x, grad, weight, self.mean, self.invstd):
            gx, gw, gb = kernels.load("batch_norm").backward(
                _as_nck(grad), _as_nck(x), self.mean, self.invstd, weight, self.training)
            return gx.reshape(x.shape), gw if need_w else None, gb if need_b else None
        xp = module_of(x)
        n, c = x.shape[0], x.shape[1]
        x3, g3 = x.reshape(n, c, -1), grad.reshape(n, c, -1)
        invstd = self.invstd.reshape(1, c, 1)
        x_hat = x3 - self.mean.reshape(1, c, 1)
        x_hat *= invstd
        g_bias = _channel_sums(g3)
        g_weight = xp.einsum("nck,nck->c", g3, x_hat)
        scale = invstd if weight is None else weight.reshape(1, c, 1) * invstd
        if self.training:
            # dx = w / sigma / N * (N g - sum(g) - x_hat * sum(g x_hat))
            count = self.count
            gx = g3 - (g_bias / count).reshape(1, c, 1)
            x_hat *= (g_weight / count).reshape(1, c, 1)
            gx -= x_hat
            gx *= scale
        else:
            gx = g3 * scale
        return (gx.reshape(x.shape), g_weight if need_w else None,
                g_bias if need_b else None)


def _as_nck(a: Any) -> Any:
    """A C-contiguous (N, C, *) array as its (N, C, K) view."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _channel_sums(a3: Any) -> Any:
    """Sum of a (N, C, K) array over N and K, as two matrix-vector products."""
    return sum_first(sum_last(a3)[..., 0])  # (N, C) per sample, then over N


def _require_float(op: str, input: Tensor) -> None:
    """torch's normalization kernels exist for floating point only."""
    if not input.is_floating_point():
        raise NotImplementedError(f'"{op}" not implemented for {input.dtype} input of shape '
                                  f"({shape_str(input.shape)}); convert it with .float() first")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims.

    In training the batch statistics are used and the running statistics (if given) are
    updated: running = (1 - momentum) * running + momentum * batch (unbiased variance).
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (N, C, ...), got "
                         f"{input.ndim}D input of shape ({shape_str(input.shape)})")
    _require_float("batch_norm", input)
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"batch_norm: {name} should have {channels} elements (one per "
                               f"channel of the input ({shape_str(input.shape)})), got shape "
                               f"({shape_str(t.shape)})")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must either both be None or "
                         "neither be None")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    x = input._data
    xp = module_of(x)
    if training:
        n = x.size // channels if channels else 0
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        if n == 0:  # an empty batch: an empty output, the running statistics unchanged (torch)
            mean = xp.zeros(shape, dtype=x.dtype)
            return BatchNorm.apply(input, weight, bias, mean, mean + 1, axes, training, eps)
        if kernels.usable_float(x):  # one loop per channel (ember/kernels/batch_norm.py)
            mean, invstd = kernels.load("batch_norm").statistics(_as_nck(x), eps)
            mean, invstd = mean.reshape(shape), invstd.reshape(shape)
        elif x.dtype.kind in "fV" and x.dtype.itemsize >= 4:
            mean, invstd = _channel_statistics(xp, x, eps)
        else:
            mean, invstd = _statistics(xp, x, axes, eps)
        if running_mean is not None and running_var is not None:
            var = 1 / (invstd * invstd) - eps
            with no_grad():
                running_mean._data *= 1 - momentum
                running_mean._data += momentum * mean.reshape(channels)
                running_var._data *= 1 - momentum
                running_var._data += momentum * var.reshape(channels) * (n / (n - 1))
                running_mean._bump_version()
                running_var._bump_version()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when "
                               "training=False")
        mean = running_mean._data.reshape(shape).astype(x.dtype, copy=False)
        invstd = (1 / xp.sqrt(running_var._data + eps)).reshape(shape).astype(x.dtype, copy=False)
    return BatchNorm.apply(input, weight, bias, mean, invstd, axes, training, eps)


class LayerNorm(Op):
    """Normalization over the last dims, one set of statistics per leading index.

    On arrays the input is seen as (rows, C) and every per-row or per-column sum is a
    matrix-vector product (BLAS, multi-threaded) instead of a numpy reduction; the
    elementwise work is done in place on as few temporaries as possible.
    """

    def name(self) -> str:  # torch's node for layer_norm
        return "NativeLayerNormBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, axes: tuple, eps: float) -> Any:
        xp = module_of(x)
        self.axes, self.eps = axes, eps
        self.save_for_backward(x, weight)
        rows, c = _rows(x, axes)
        if rows and c and kernels.usable_float(x, weight, bias):  # one loop per row (kernels/)
            keep = x.shape[:x.ndim - len(axes)] + (1,) * len(axes)
            y, mean, invstd = kernels.load("layer_norm").forward(x.reshape(rows, c), weight,
                                                                 bias, eps)
            self.mean, self.invstd = mean.reshape(keep), invstd.reshape(keep)
            return y.reshape(x.shape)
        if rows == 0 or c == 0 or x.dtype.kind not in "fV" or x.dtype.itemsize < 4:
            self.mean, self.invstd = _statistics(xp, x, axes, eps)
            y = (x - self.mean) * self.invstd
        else:
            x2 = x.reshape(rows, c)
            mean = x2 @ xp.full(c, 1.0 / c, dtype=x.dtype)
            y = x2 - mean[:, None]
            var = xp.einsum("ij,ij->i", y, y) / c  # row sums of squares, no temporary
            invstd = 1 / xp.sqrt(var + eps)
            y *= invstd[:, None]
            keep = x.shape[:x.ndim - len(axes)] + (1,) * len(axes)
            self.mean, self.invstd = mean.reshape(keep), invstd.reshape(keep)
            y = y.reshape(x.shape)
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        return y

    def backward(self, grad: Any) -> tuple:
        x, weight = self.saved_tensors
        axes = self.axes
        need_w, need_b = self.next_edges[1], self.next_edges[2]
        if isinstance(x, Tensor):
            return self._backward_formula(grad, x, weight, need_w, need_b)
        rows, c = _rows(x, axes)
        if rows and c and kernels.usable_float(x, weight, grad):
            shape = x.shape[x.ndim - len(axes):]
            gx, gw, gb = kernels.load("layer_norm").backward(
                grad.reshape(rows, c), x.reshape(rows, c), weight, self.mean.reshape(rows),
                self.invstd.reshape(rows))
            return (gx.reshape(x.shape), gw.reshape(shape) if need_w else None,
                    gb.reshape(shape) if need_b else None)
        if rows == 0 or c == 0 or x.dtype.kind not in "fV" or x.dtype.itemsize < 4:
            return self._backward_formula(grad, x, weight, need_w, need_b)
        xp = module_of(x)
        g2 = grad.reshape(rows, c)
        invstd = self.invstd.reshape(rows, 1)
        x_hat = x.reshape(rows, c) - self.mean.reshape(rows, 1)
        x_hat *= invstd
        t = g2 * x_hat  # its column sums are dweight; with w, its row means give the x_hat term
        gw = sum_first(t) if need_w else None
        gb = sum_first(g2) if need_b else None
        # dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sigma, g_hat = g * w
        w = xp.ones(c, dtype=g2.dtype) if weight is None else weight.reshape(c)
        m_gx = (t @ w) / c
        m_g = (g2 @ w) / c
        gx = xp.multiply(g2, w, out=t)  # t is no longer needed
        gx -= m_g[:, None]
        x_hat *= m_gx[:, None]
        gx -= x_hat
        gx *= invstd
        shape = x.shape[x.ndim - len(axes):]
        return (gx.reshape(x.shape), None if gw is None else gw.reshape(shape),
                None if gb is None else gb.reshape(shape))

    def _backward_formula(self, grad: Any, x: Any, weight: Any, need_w: Any,
                          need_b: Any) -> tuple:
        """The textbook form (Tensors under create_graph, and the corner cases)."""
        xp = array_namespace(grad)
        axes = self.axes
        if isinstance(x, Tensor):
            mean, invstd = _statistics(xp, x, axes, self.eps)
        else:
            mean, invstd = self.mean, self.invstd
        x_hat = (x - mean) * invstd
        g_hat = grad if weight is None else grad * weight
        # dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sigma
        gx = invstd * (g_hat - xp.mean(g_hat, axis=axes, keepdims=True)
                       - x_hat * xp.mean(g_hat * x_hat, axis=axes, keepdims=True))
        lead = tuple(range(grad.ndim - len(axes)))
        gw = xp.sum(grad * x_hat, axis=lead) if need_w else None
        gb = xp.sum(grad, axis=lead) if need_b else None
        return gx, gw, gb


def _rows(x: Any, axes: tuple) -> tuple:
    """(rows, C): the number of normalized groups and the size of each."""
    c = 1
    for a in axes:
        c *= x.shape[a]
    return (x.size // c if c else 0), c


def _normalized_shape(shape: Any) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims (LayerNorm)."""
    _require_float("layer_norm", input)
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0:
        raise RuntimeError("layer_norm: Expected normalized_shape to be at least 1-dimensional, "
                           "i.e., containing at least one element, but got normalized_shape = []")
    if tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(
            f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} of shape ({shape_str(t.shape)}) does not "
                               f"match normalized_shape {list(shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return LayerNorm.apply(input, weight, bias, axes, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize groups of channels per sample: (N, C, *) is viewed as (N, G, C/G * rest)."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected input of at least 2 dimensions (N, C, *), got "
                           f"({shape_str(input.shape)})")
    _require_float("group_norm", input)
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to the "
                               f"number of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    normed = LayerNorm.apply(grouped, None, None, (2,), eps).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        normed = normed * weight.reshape(shape)
    if bias is not None:
        normed = normed + bias.reshape(shape)
    return torch_named(normed, "NativeGroupNorm")


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial dims (InstanceNorm).

    With input statistics this is group_norm with one group per channel; the running
    statistics (if given) move toward the batch average of the per-instance mean and
    unbiased variance, as torch's do.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of at least 3 dimensions (N, C, *), "
                         f"got ({shape_str(input.shape)})")
    _require_float("instance_norm", input)
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"instance_norm: {name} should have {channels} elements (one per "
                               f"channel of the input ({shape_str(input.shape)})), got shape "
                               f"({shape_str(t.shape)})")
    if not use_input_stats:
        return torch_named(batch_norm(input, running_mean, running_var, weight, bias, False,
                                      momentum, eps), "View")
    spatial = input[0, 0].numel()
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    if running_mean is not None and running_var is not None:
        with no_grad():
            flat = input.detach().reshape(input.shape[0], channels, -1)
            mean = flat.mean(2).mean(0)
            var = flat.var(2, correction=1).mean(0)
            running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
            running_var.mul_(1 - momentum).add_(var.to(running_var.dtype) * momentum)
    return torch_named(group_norm(input, channels, weight, bias, eps), "View")  # torch's node


def rms_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the last dims (eps defaults to the dtype's eps)."""
    _require_float("rms_norm", input)
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(
            f"rms_norm: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: weight of shape ({shape_str(weight.shape)}) does not "
                           f"match normalized_shape {list(shape)}")
    if eps is None:
        eps = dtypes.finfo(input.dtype).eps
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * (input * input).mean(dims, keepdim=True).add(eps).rsqrt()
    return out if weight is None else out * weight


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is not None:
        return out.copy_(input / denom)
    return input / denom


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalize each channel by the squared activity of `size` neighbouring channels."""
    from ...ops.pad import pad  # noqa: PLC0415

    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher input, got "
                         f"{input.ndim}D")
    if size < 1:
        raise RuntimeError(f"local_response_norm: size must be at least 1, got {size}")
    if input.numel() == 0:
        return input * 1  # torch: an empty result of the input's shape
    squared = (input * input).unsqueeze(1)  # (N, 1, C, *)
    flat = squared.reshape(squared.shape[0], 1, squared.shape[2], -1)
    padded = pad(flat, (0, 0, size // 2, (size - 1) // 2))
    windows = padded.unfold(2, size, 1)  # (N, 1, C, rest, size)
    div = windows.mean(-1).reshape(input.shape)
    return input / (div * alpha + k) ** beta
