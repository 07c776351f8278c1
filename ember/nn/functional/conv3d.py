"""3-D convolutions: conv3d and conv_transpose3d over (N, C, D, H, W) volumes.

As in 2-D (conv.py), a convolution is one matrix product per chunk of im2col columns
(conv3d_kernels.py), and its backward is the same machinery: dW = dY @ cols^T, and dX scatters
W^T @ dY back onto the windows (at stride 1: convolves dY with the flipped kernel). A
transposed convolution is the adjoint, so its forward is conv3d's input gradient and its input
gradient is a conv3d.

Under create_graph the backward is rebuilt from unfold/fold and matmul (the N-d composites in
conv.py), which are differentiable, so higher-order gradients work.
"""

from __future__ import annotations

from typing import Any

from ...amp.autocast_mode import cast_inputs
from ...autograd.node import Op, composite_backward
from ...backend import module_of
from ...ops._util import shape_str
from ...tensor import Tensor
from ..errors import LayerInputError
from .conv import (
    _check_conv_input,
    _check_out_size,
    _tuple,
    check_bias,
    check_geometry,
    check_transposed_size,
    conv_composite,
    conv_transpose_composite,
    resolve_padding,
    transposed_size,
)
from .conv3d_kernels import conv_forward, conv_input_grad, conv_weight_grad
from .fold import flat_pads, out_size, pad_spatial

_SPATIAL = (0, 2, 3, 4)  # the axes a bias gradient sums over
_TO_CN = (1, 0, 2, 3, 4)  # (N, C, D, H, W) <-> (C, N, D, H, W)


class Conv3d(Op):
    """y[n, o] = sum over c, kd, kh, kw of w[o, c, kd, kh, kw] * x[n, c, window] (+ b[o])."""

    def name(self) -> str:  # torch shows every convolution as one node kind
        return "ConvolutionBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> Any:
        self.save_for_backward(x, weight, bias)
        self.conf = (stride, padding, dilation, groups)
        kernel = weight.shape[2:]
        out = tuple(out_size(*args) for args in zip(x.shape[2:], kernel, stride, padding,
                                                    dilation))
        padded = pad_spatial(x, flat_pads(padding))
        y = conv_forward(padded, weight, stride, dilation, out, groups)  # (O, N, OD, OH, OW)
        if bias is not None:
            y += bias[:, None, None, None, None]
        # (N, O, OD, OH, OW), copied to torch's contiguous layout so that .view() works
        return module_of(y).ascontiguousarray(y.transpose(_TO_CN))

    def backward(self, grad: Any) -> tuple:
        x, weight, bias = self.saved_tensors
        stride, padding, dilation, groups = self.conf
        needs = self.next_edges[:3]
        if isinstance(grad, Tensor):  # create_graph: differentiate unfold + matmul instead
            def compute(x_: Any, w_: Any, b_: Any) -> Any:
                return conv_composite(x_, w_, b_, stride, padding, dilation, groups)

            return composite_backward(compute, (x, weight, bias), grad, needs) + (None,) * 4
        grad_cn = grad.transpose(_TO_CN)  # (O, N, OD, OH, OW)
        gx = gw = gb = None
        if needs[1]:  # dW = dY @ cols^T
            gw = conv_weight_grad(pad_spatial(x, flat_pads(padding)), grad_cn, weight.shape,
                                  stride, dilation, groups)
        if needs[0]:  # dX = col2im(W^T @ dY)
            gx = conv_input_grad(grad_cn, weight, x.shape[2:], padding, stride, dilation,
                                 groups).transpose(_TO_CN)
        if needs[2]:
            gb = grad.sum(axis=_SPATIAL)
        return gx, gw, gb, None, None, None, None


class ConvTranspose3d(Op):
    """The adjoint of conv3d: every input voxel spreads w[c] over a KD x KH x KW patch."""

    def name(self) -> str:  # torch shows every convolution as one node kind
        return "ConvolutionBackward0"

    def forward(self, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                output_padding: tuple, groups: int, dilation: tuple) -> Any:
        xp = module_of(x)
        self.save_for_backward(x, weight, bias)
        self.conf = (stride, padding, output_padding, groups, dilation)
        full = transposed_size(x.shape[2:], weight.shape[2:], stride, dilation, output_padding)
        size = tuple(f - 2 * p for f, p in zip(full, padding))
        x_cn = xp.ascontiguousarray(x.transpose(_TO_CN))  # (C, N, D, H, W)
        # conv3d's input gradient with x as dY: weight (C, O/G, *K) plays (O', C'/G, *K)
        y = conv_input_grad(x_cn, weight, size, padding, stride, dilation, groups)
        if bias is not None:
            y = y + bias[:, None, None, None, None]
        return xp.ascontiguousarray(y.transpose(_TO_CN))  # (N, O, OD, OH, OW), contiguous

    def backward(self, grad: Any) -> tuple:
        x, weight, bias = self.saved_tensors
        stride, padding, output_padding, groups, dilation = self.conf
        needs = self.next_edges[:3]
        if isinstance(grad, Tensor):
            def compute(x_: Any, w_: Any, b_: Any) -> Any:
                return conv_transpose_composite(x_, w_, b_, stride, padding, output_padding,
                                                groups, dilation)

            return composite_backward(compute, (x, weight, bias), grad, needs) + (None,) * 5
        # dY read through the same windows that wrote it: a plain conv3d of dY
        gfull = pad_spatial(grad, flat_pads(padding))
        gx = gw = gb = None
        if needs[0]:
            gx = conv_forward(gfull, weight, stride, dilation, x.shape[2:], groups
                              ).transpose(_TO_CN)
        if needs[1]:
            gw = conv_weight_grad(gfull, x.transpose(_TO_CN), weight.shape, stride, dilation,
                                  groups)
        if needs[2]:
            gb = grad.sum(axis=_SPATIAL)
        return gx, gw, gb, None, None, None, None, None


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _check_weight(op: str, weight: Tensor, layout: str) -> None:
    if weight.ndim != 5:
        raise LayerInputError(f"weight must be 5D ({layout}, KD, KH, KW), got "
                              f"({shape_str(weight.shape)})", op)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) of (N, C, D, H, W) input with (O, C/groups, KD, KH,
    KW) weights; padding may be an int, a triple, 'valid' or 'same'.

        >>> F.conv3d(ember.randn(2, 4, 8, 9, 10), ember.randn(6, 4, 3, 3, 3), padding=1).shape
        ember.Size([2, 6, 8, 9, 10])
    """
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 4
    if unbatched:
        input = input.unsqueeze(0)
    s, d = _tuple(stride, 3, "stride"), _tuple(dilation, 3, "dilation")
    _check_conv_input("conv3d", input, weight, groups, 3)
    _check_weight("conv3d", weight, "O, C/groups")
    kernel = tuple(weight.shape[2:])
    check_geometry("conv3d", s, (0, 0, 0), d)
    check_bias("conv3d", bias, weight.shape[0], weight)
    input, p = resolve_padding(input, padding, kernel, s, d)
    _check_out_size("conv3d", input, kernel, s, p, d)
    out = Conv3d.apply(input, weight, bias, s, p, d, groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution (the gradient of conv3d w.r.t. its input); weight is
    (C_in, C_out/groups, KD, KH, KW). Output: (In - 1) S - 2P + D (K - 1) + output_padding + 1
    per spatial dim."""
    input, weight, bias = cast_inputs(input, weight, bias)
    unbatched = input.ndim == 4
    if unbatched:
        input = input.unsqueeze(0)
    _check_conv_input("conv_transpose3d", input, weight, groups, 3, transposed=True)
    _check_weight("conv_transpose3d", weight, "C_in, C_out/groups")
    s, p = _tuple(stride, 3, "stride"), _tuple(padding, 3, "padding")
    op, d = _tuple(output_padding, 3, "output_padding"), _tuple(dilation, 3, "dilation")
    check_transposed_size("conv_transpose3d", input, weight, s, p, op, d)
    check_bias("conv_transpose3d", bias, weight.shape[1] * groups, weight)
    out = ConvTranspose3d.apply(input, weight, bias, s, p, op, groups, d)
    return out.squeeze(0) if unbatched else out
