"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (3-D: conv3d.py).

A convolution is one matrix product over windows: the (C*KH*KW, N*OH*OW) matrix of every input
window (im2col, gathered from a strided view without Python loops) multiplied by the
(O, C*KH*KW) weight matrix. Backward is the same machinery: dW = dY @ cols^T, and dX scatters
W^T @ dY back onto the windows (col2im). Depthwise convolutions (one input channel per group)
skip the matrix product: a sum of KH*KW shifted, scaled copies.

Under create_graph the backward is rebuilt from unfold/fold and matmul, which are themselves
differentiable, so gradient penalties and other higher-order gradients work through convs.
"""

from __future__ import annotations

import math
from typing import Any

from ...amp.autocast_mode import cast_inputs
from ...autograd.node import Op, composite_backward
from ...backend import module_of
from ...ops._util import shape_str, torch_named
from ...ops.pad import pad as pad_op
from ...tensor import Tensor
from ..errors import LayerInputError
from .conv_kernels import conv_forward, conv_input_grad, conv_weight_grad
from .fold import (
    DIM_NAMES,
    Col2Im,
    Im2Col,
    add_windows,
    out_size,
    pad_spatial,
    size_formula,
    windows,
)


def _im2col(x: Any, kernel: tuple, stride: tuple, dilation: tuple, out: tuple) -> Any:
    """im2col: (N, C, H, W) (already padded) -> (C*KH*KW, N*OH*OW)."""
    n, c = x.shape[:2]
    view = windows(x, kernel, stride, dilation, out)  # (N, C, KH, KW, OH, OW)
    return view.transpose(1, 2, 3, 0, 4, 5).reshape(c * kernel[0] * kernel[1],
                                                    n * out[0] * out[1])


def _grouped(matrix: Any, groups: int) -> Any:
    """(rows, cols) -> (groups, rows/groups, cols)."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


class Conv2d(Op):
    """y[n, o] = sum over c, kh, kw of w[o, c, kh, kw] * x[n, c, window] (+ b[o])."""

    def name(self) -> str:  # torch shows every convolution as one node kind
        return "ConvolutionBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> Any:
        xp = module_of(x)
        self.save_for_backward(x, weight, bias)
        self.conf = (stride, padding, dilation, groups)
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        k = (kh, kw)
        oh = out_size(h, kh, stride[0], padding[0], dilation[0])
        ow = out_size(w, kw, stride[1], padding[1], dilation[1])
        self.out_hw = (oh, ow)
        pads = (padding[0], padding[0], padding[1], padding[1])
        if cg == 1 and groups > 1 and o == groups:  # depthwise: shift, scale, add
            view = windows(pad_spatial(x, pads), k, stride, dilation, (oh, ow))
            y = xp.zeros((n, o, oh, ow), dtype=x.dtype)
            for i in range(kh):
                for j in range(kw):
                    y += view[:, :, i, j] * weight[:, 0, i, j][None, :, None, None]
            if bias is not None:
                y += bias[None, :, None, None]
            return y
        # (N, O, OH, OW) contiguous as torch's, so that .view() works as on torch
        return conv_forward(x, weight, stride, dilation, (oh, ow), groups, batch_major=True,
                            pads=pads, bias=bias)

    def backward(self, grad: Any) -> tuple:
        x, weight, bias = self.saved_tensors
        stride, padding, dilation, groups = self.conf
        needs = self.next_edges[:3]
        if isinstance(grad, Tensor):  # create_graph: differentiate unfold + matmul instead
            def compute(x_: Any, w_: Any, b_: Any) -> Any:
                return conv_composite(x_, w_, b_, stride, padding, dilation, groups)

            return composite_backward(compute, (x, weight, bias), grad, needs) + (None,) * 4
        xp = module_of(grad)
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        oh, ow = self.out_hw
        k = (kh, kw)
        pads = (padding[0], padding[0], padding[1], padding[1])
        gx = gw = gb = None
        if cg == 1 and groups > 1 and o == groups:  # depthwise
            padded = pad_spatial(x, pads)
            view = windows(padded, k, stride, dilation, (oh, ow))
            if needs[1]:
                gw = xp.empty_like(weight)
                for i in range(kh):
                    for j in range(kw):
                        gw[:, 0, i, j] = xp.einsum("nchw,nchw->c", grad, view[:, :, i, j])
            if needs[0]:
                gpad = xp.zeros(padded.shape, dtype=grad.dtype)
                for i in range(kh):
                    rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (oh - 1) + 1,
                                 stride[0])
                    for j in range(kw):
                        cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (ow - 1) + 1,
                                     stride[1])
                        gpad[:, :, rows, cols] += grad * weight[:, 0, i, j][None, :, None, None]
                gx = gpad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
        else:
            grad_onp = grad.transpose(1, 0, 2, 3)  # (O, N, OH, OW)
            if needs[1]:  # dW = dY @ cols^T
                gw = conv_weight_grad(x, grad_onp, weight.shape, stride, dilation, groups,
                                      pads)
            if needs[0]:
                gx = conv_input_grad(grad_onp, weight, x.shape, stride, padding, dilation,
                                     groups)
        if needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb, None, None, None, None


def conv_composite(x: Tensor, w: Tensor, b: Any, stride: tuple, padding: tuple,
                   dilation: tuple, groups: int) -> Tensor:
    """conv2d (or conv3d) from differentiable pieces: unfold, a (grouped) matmul, reshape."""
    n = x.shape[0]
    o, cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    rows = cg * math.prod(kernel)
    cols = Im2Col.apply(x, kernel, dilation, padding, stride)  # (N, C*KK, L)
    out = tuple(out_size(*args) for args in zip(x.shape[2:], kernel, stride, padding, dilation))
    cols = cols.reshape(n, groups, rows, math.prod(out))
    y = w.reshape(groups, o // groups, rows) @ cols  # (N, G, O/G, L)
    y = y.reshape((n, o) + out)
    return y if b is None else y + b.reshape((1, o) + (1,) * len(out))


class ConvTranspose2d(Op):
    """The adjoint of conv2d: every input pixel spreads w[c] over a KH x KW patch of the output."""

    def name(self) -> str:  # torch shows every convolution as one node kind
        return "ConvolutionBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                output_padding: tuple, groups: int, dilation: tuple) -> Any:
        xp = module_of(x)
        self.save_for_backward(x, weight, bias)
        self.conf = (stride, padding, output_padding, groups, dilation)
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        o = og * groups
        full = ((h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0],
                (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1])
        x_mat = x.transpose(1, 0, 2, 3).reshape(c, n * h * w)  # (C, N*H*W)
        w_mat = weight.reshape(c, og * kh * kw)
        if groups == 1:
            cols = w_mat.T @ x_mat  # (O*KK, N*H*W)
        else:
            cols = (_grouped(w_mat, groups).transpose(0, 2, 1) @ _grouped(x_mat, groups)
                    ).reshape(o * kh * kw, -1)
        out = xp.zeros((o, n) + full, dtype=x.dtype)
        add_windows(out, cols.reshape(o, kh, kw, n, h, w).transpose(0, 3, 1, 2, 4, 5),
                    (kh, kw), stride, dilation)
        oh, ow = full[0] - 2 * padding[0], full[1] - 2 * padding[1]
        y = out[:, :, padding[0]:padding[0] + oh, padding[1]:padding[1] + ow]
        if bias is not None:
            y = y + bias[:, None, None, None]
        return xp.ascontiguousarray(y.transpose(1, 0, 2, 3))  # (N, O, OH, OW), contiguous

    def backward(self, grad: Any) -> tuple:
        x, weight, bias = self.saved_tensors
        stride, padding, output_padding, groups, dilation = self.conf
        needs = self.next_edges[:3]
        if isinstance(grad, Tensor):
            def compute(x_: Any, w_: Any, b_: Any) -> Any:
                return conv_transpose_composite(x_, w_, b_, stride, padding, output_padding,
                                                groups, dilation)

            return composite_backward(compute, (x, weight, bias), grad, needs) + (None,) * 5
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        # dY read through the same windows that wrote it: the columns of a plain conv
        gfull = pad_spatial(grad, (padding[0], padding[0], padding[1], padding[1]))
        g_cols = _im2col(gfull, (kh, kw), stride, dilation, (h, w))  # (O*KK, N*H*W)
        x_mat = x.transpose(1, 0, 2, 3).reshape(c, n * h * w)
        w_mat = weight.reshape(c, og * kh * kw)
        gx = gw = gb = None
        if needs[0]:
            if groups == 1:
                gx_mat = w_mat @ g_cols
            else:
                gx_mat = (_grouped(w_mat, groups) @ _grouped(g_cols, groups)).reshape(c, -1)
            gx = gx_mat.reshape(c, n, h, w).transpose(1, 0, 2, 3)
        if needs[1]:
            if groups == 1:
                gw = (x_mat @ g_cols.T).reshape(weight.shape)
            else:
                gw = (_grouped(x_mat, groups) @ _grouped(g_cols, groups).transpose(0, 2, 1)
                      ).reshape(weight.shape)
        if needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb, None, None, None, None, None


def transposed_size(size: tuple, kernel: tuple, stride: tuple, dilation: tuple,
                    output_padding: tuple) -> tuple:
    """The uncropped output of a transposed conv: (In - 1) S + D (K - 1) + 1 + output_padding."""
    return tuple((i - 1) * s + d * (k - 1) + 1 + op
                 for i, k, s, d, op in zip(size, kernel, stride, dilation, output_padding))


def conv_transpose_composite(x: Tensor, w: Tensor, b: Any, stride: tuple, padding: tuple,
                             output_padding: tuple, groups: int, dilation: tuple) -> Tensor:
    """conv_transpose2d (or 3d) from differentiable pieces: a (grouped) matmul, then fold."""
    n, c = x.shape[:2]
    og = w.shape[1]
    kernel, size = tuple(w.shape[2:]), tuple(x.shape[2:])
    o, positions = og * groups, math.prod(size)
    x_mat = x.reshape(n, groups, c // groups, positions)
    cols = w.reshape(groups, c // groups, og * math.prod(kernel)).transpose(1, 2) @ x_mat
    cols = cols.reshape(n, o * math.prod(kernel), positions)  # (N, O*KK, L)
    full = transposed_size(size, kernel, stride, dilation, output_padding)
    y = Col2Im.apply(cols, full, kernel, dilation, (0,) * len(kernel), stride)
    y = y[(slice(None), slice(None)) + tuple(slice(p, f - p) for f, p in zip(full, padding))]
    return y if b is None else y + b.reshape((1, o) + (1,) * len(kernel))


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _tuple(value: Any, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    out = tuple(int(v) for v in value)
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise ValueError(f"expected {name} to be a single integer or a tuple of {n} integers, "
                         f"got {value!r}")
    return out


def _same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """(before, after) per spatial dim so that the output keeps the input's size."""
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def resolve_padding(input: Tensor, padding: Any, kernel: tuple, stride: tuple,
                    dilation: tuple) -> tuple:
    """(input, symmetric padding per dim) for an int/tuple padding, 'valid' or 'same'. An uneven
    'same' (even kernel) pads the input explicitly, the extra row on the far side as torch."""
    n = len(kernel)
    if not isinstance(padding, str):
        pads = _tuple(padding, n, "padding")
        if min(pads) < 0:
            raise RuntimeError(f"negative padding is not supported, got padding={padding!r}")
        return input, pads
    if padding == "valid":
        return input, (0,) * n
    if padding != "same":  # torch's functional forms raise RuntimeError here (layers: ValueError)
        raise RuntimeError(f"Invalid padding string {padding!r}, should be one of "
                           "{'valid', 'same'}")
    if any(v != 1 for v in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    pads = _same_padding(kernel, dilation)
    if all(a == b for a, b in pads):
        return input, tuple(a for a, _ in pads)
    flat: tuple = ()
    for before, after in reversed(pads):  # F.pad's order: last dim first
        flat += (before, after)
    return pad_op(input, flat), (0,) * n


def check_transposed_size(op: str, input: Tensor, weight: Tensor, stride: tuple,
                          padding: tuple, output_padding: tuple, dilation: tuple) -> None:
    """output_padding < max(stride, dilation), and a non-empty output along every dim."""
    check_geometry(op, stride, padding, dilation)
    for i in range(len(stride)):
        if output_padding[i] >= max(stride[i], dilation[i]):
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                             f"but got output_padding={output_padding}, stride={stride}, "
                             f"dilation={dilation}")
        size = (input.shape[2 + i] - 1) * stride[i] - 2 * padding[i] \
            + dilation[i] * (weight.shape[2 + i] - 1) + output_padding[i] + 1
        if size <= 0:
            raise LayerInputError(
                f"input of shape ({shape_str(input.shape)}) gives an empty output: Out = "
                f"(In - 1) S - 2P + D (K - 1) + output_padding + 1 = {size}", op)


def check_geometry(op: str, stride: tuple, padding: tuple, dilation: tuple) -> None:
    """Positive stride and dilation, non-negative padding (torch: RuntimeError)."""
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got "
                           f"dilation={dilation}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")


def check_bias(op: str, bias: Tensor | None, channels: int, weight: Tensor) -> None:
    """The bias must be 1-D with one value per output channel."""
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != channels):
        raise LayerInputError(
            f"Given weight of size [{', '.join(map(str, weight.shape))}], expected bias to be "
            f"1-dimensional with {channels} elements, but got bias of size "
            f"[{', '.join(map(str, bias.shape))}] instead", op)


def _check_conv_input(op: str, x: Tensor, weight: Tensor, groups: int, spatial: int,
                      transposed: bool = False) -> None:
    if x.ndim != spatial + 2:
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[spatial]
        raise LayerInputError(
            f"expected a {spatial + 2}D input (N, C, {dims}) or {spatial + 1}D unbatched, got "
            f"input of shape ({shape_str(x.shape)})", op)
    if groups <= 0 or weight.shape[0] % groups:
        raise LayerInputError(f"Given groups={groups}, expected weight to be divisible by "
                              f"{groups} at dimension 0, but got weight of size "
                              f"[{', '.join(map(str, weight.shape))}] instead", op)
    channels = x.shape[1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        raise LayerInputError(
            f"expected input with {expected} channels (in_channels={expected}), got input of "
            f"shape ({shape_str(x.shape)}) with {channels} channels (dim 1); the weight has "
            f"shape ({shape_str(weight.shape)})", op)
    if x._data.dtype != weight._data.dtype:
        raise LayerInputError(f"input dtype {x.dtype} and weight dtype {weight.dtype} differ; "
                              "convert one of them (e.g. model.to(dtype) or x.float())", op)


def _check_out_size(op: str, x: Tensor, kernel: tuple, stride: tuple, padding: tuple,
                    dilation: tuple) -> None:
    for dim, (k, s, p, d) in enumerate(zip(kernel, stride, padding, dilation)):
        size = x.shape[2 + dim]
        if out_size(size, k, s, p, d) <= 0:
            names = DIM_NAMES[len(kernel)]
            kernel_text = "x".join(map(str, kernel))
            raise LayerInputError(
                f"input of shape ({shape_str(x.shape)}) is too small for kernel {kernel_text} "
                f"(stride {s}, padding {p}, dilation {d}) along its {names[dim]}: "
                + size_formula(size, k, s, p, d), op)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C, H, W) input with (O, C/groups, KH, KW)
    weights; padding may be an int, a pair, 'valid' or 'same'."""
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    s, d = _tuple(stride, 2, "stride"), _tuple(dilation, 2, "dilation")
    _check_conv_input("conv2d", input, weight, groups, 2)
    if weight.ndim != 4:
        raise LayerInputError(f"weight must be 4D (O, C/groups, KH, KW), got "
                              f"({shape_str(weight.shape)})", "conv2d")
    kernel = tuple(weight.shape[2:])
    check_geometry("conv2d", s, (0, 0), d)
    check_bias("conv2d", bias, weight.shape[0], weight)
    input, p = resolve_padding(input, padding, kernel, s, d)
    _check_out_size("conv2d", input, kernel, s, p, d)
    out = Conv2d.apply(input, weight, bias, s, p, d, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of (N, C, L) input with (O, C/groups, K) weights (a conv2d with H = 1)."""
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    _check_conv_input("conv1d", input, weight, groups, 1)
    check_geometry("conv1d", _tuple(stride, 1, "stride"), (0,), _tuple(dilation, 1, "dilation"))
    if not isinstance(padding, str):
        check_geometry("conv1d", (1,), _tuple(padding, 1, "padding"), (1,))
        _check_out_size("conv1d", input, tuple(weight.shape[2:]), _tuple(stride, 1, "stride"),
                        _tuple(padding, 1, "padding"), _tuple(dilation, 1, "dilation"))
    pad = padding if isinstance(padding, str) else (0, _tuple(padding, 1, "padding")[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias,
                 (1, _tuple(stride, 1, "stride")[0]), pad,
                 (1, _tuple(dilation, 1, "dilation")[0]), groups).squeeze(2)
    return out.squeeze(0) if unbatched else torch_named(out, "Convolution")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed convolution (the gradient of conv2d w.r.t. its input); weight is
    (C_in, C_out/groups, KH, KW). Output: (H - 1) S - 2P + D (K - 1) + output_padding + 1."""
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    _check_conv_input("conv_transpose2d", input, weight, groups, 2, transposed=True)
    s, p = _tuple(stride, 2, "stride"), _tuple(padding, 2, "padding")
    op, d = _tuple(output_padding, 2, "output_padding"), _tuple(dilation, 2, "dilation")
    check_transposed_size("conv_transpose2d", input, weight, s, p, op, d)
    check_bias("conv_transpose2d", bias, weight.shape[1] * groups, weight)
    out = ConvTranspose2d.apply(input, weight, bias, s, p, op, groups, d)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    first = (lambda v, n: _tuple(v, 1, n)[0])
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias,
                           (1, first(stride, "stride")), (0, first(padding, "padding")),
                           (0, first(output_padding, "output_padding")), groups,
                           (1, first(dilation, "dilation"))).squeeze(2)
    return out.squeeze(0) if unbatched else torch_named(out, "Convolution")
