"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d.

Parameters have torch's names and layouts (weight: out x in/groups x kernel for Conv,
in x out/groups x kernel for ConvTranspose), so torch and torchvision weights load as is.
"""

from __future__ import annotations

import math
from typing import Any

from ... import creation
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..errors import LayerInputError
from ..parameter import Parameter
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    out = tuple(value)
    return out * n if len(out) == 1 else out


class _ConvNd(Module):
    _spatial = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, transposed: bool, output_padding: Any,
                 groups: int, bias: bool, padding_mode: str, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        n = self._spatial
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation = _ntuple(dilation, n)
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        # torch's attribute: F.pad's padding (last dim first) for a non-zeros padding_mode
        self._reversed_padding_repeated_twice = list(self._explicit_padding())
        if transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        kw = dict(device=device, dtype=dtype)
        self.weight = Parameter(creation.empty(*shape, **kw))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, **kw))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _explicit_padding(self) -> tuple:
        """F.pad's (last dim first) padding for a non-zero padding_mode."""
        if isinstance(self.padding, str):
            pads = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1) if self.padding == "same" else 0
                pads.append((total // 2, total - total // 2))
        else:
            pads = [(p, p) for p in self.padding]
        flat: list = []
        for before, after in reversed(pads):
            flat += [before, after]
        return tuple(flat)

    def extra_repr(self) -> str:
        n = self._spatial
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input: Tensor, conv: Any) -> Tensor:
        """conv(input) with this layer's settings; a padding mode other than zeros pads first."""
        if self.padding_mode != "zeros":
            try:
                padded = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
            except RuntimeError as err:  # e.g. reflect padding wider than the input
                raise LayerInputError(f"padding_mode='{self.padding_mode}': {err}",
                                      type(self).__name__) from None
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W): out = floor((In + 2P - D(K-1) - 1) / S) + 1 per dim."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L)."""

    _spatial = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, F.conv1d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W): out = floor((In + 2P - D(K-1) - 1) / S) + 1 per
    dim; weight (out_channels, in_channels/groups, KD, KH, KW)."""

    _spatial = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, F.conv3d)


class _ConvTransposeNd(_ConvNd):
    _conv_transpose: Any  # F.conv_transpose1d / 2d / 3d

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        return self._conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                                    self._output_padding(input, output_size), self.groups,
                                    self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple:
        """The output_padding that yields `output_size` (torch's forward(input, output_size))."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        size = tuple(output_size)
        leading = input.ndim - n  # (N, C) or (C,): output_size may name them too
        if len(size) == leading + n:
            size = size[leading:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: for {input.ndim}D input, output_size must "
                             f"have {n} or {leading + n} elements (got {len(output_size)})")
        result = []
        for d in range(n):
            in_size = input.shape[leading + d]
            smallest = ((in_size - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            extra = size[d] - smallest
            if not 0 <= extra < self.stride[d]:  # torch allows stride - 1 more, not dilation
                raise ValueError(f"requested an output size of {list(size)}, but valid sizes "
                                 f"range from {smallest} to {smallest + self.stride[d] - 1} "
                                 f"along dim {d} (for an input of {list(input.shape[-n:])}): "
                                 f"(In - 1) S - 2P + D (K - 1) + 1 = ({in_size} - 1) * "
                                 f"{self.stride[d]} - 2 * {self.padding[d]} + "
                                 f"{self.dilation[d]} * ({self.kernel_size[d]} - 1) + 1")
            result.append(extra)
        return tuple(result)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution ("deconvolution"): upsamples by the stride.

    Out = (In - 1) S - 2P + D (K - 1) + output_padding + 1 per spatial dim.
    """

    _conv_transpose = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C, L): upsamples by the stride."""

    _spatial = 1
    _conv_transpose = staticmethod(F.conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution: upsamples (N, C, D, H, W) volumes by the stride; weight
    (in_channels, out_channels/groups, KD, KH, KW).

    Out = (In - 1) S - 2P + D (K - 1) + output_padding + 1 per spatial dim.
    """

    _spatial = 3
    _conv_transpose = staticmethod(F.conv_transpose3d)
