"""Small building blocks the model zoo shares, named as torchvision names them
(torchvision.ops.misc and torchvision.ops.stochastic_depth) so state_dict keys match."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .. import creation, nn
from ..tensor import Tensor


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of `divisor`, never more than 10% down.

    Channel counts that are multiples of 8 suit hardware; MobileNet and EfficientNet round every
    width they scale this way (the TensorFlow reference implementation's rule).
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * v:  # rounding to nearest lost more than 10%: go one step up
        rounded += divisor
    return rounded


def check_no_weights(weights: object) -> None:
    """torchvision's builders take `weights=`; Ember ships none (load a converted state_dict)."""
    if weights is not None:
        raise ValueError("ember.models has no pretrained weights: build with weights=None and "
                         "load a state_dict converted from torchvision's checkpoint")


def accepts_pretrained(builder: Callable) -> Callable:
    """Let a torchvision-style builder take the `pretrained=` flag of torchvision < 0.13, as
    torchvision still does (deprecated): False means weights=None, True asks for weights."""
    @functools.wraps(builder)
    def build(*args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], bool):  # resnet18(True), the oldest form
            kwargs.setdefault("pretrained", args[0])
            args = args[1:]
        if "pretrained" in kwargs:
            pretrained = kwargs.pop("pretrained")
            warnings.warn("The parameter 'pretrained' is deprecated since torchvision 0.13, "
                          "please use 'weights' instead.", UserWarning, stacklevel=2)
            if pretrained:
                kwargs["weights"] = "DEFAULT"  # check_no_weights explains what to do
        return builder(*args, **kwargs)

    return build


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero whole samples ('row') or the whole batch ('batch') with probability p, scaling
    survivors by 1 / (1 - p) (Huang et al. 2016). Used on a residual branch, a dropped sample
    passes through the block as the identity. The identity when not training or p == 0.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)  # (B, 1, 1, 1): one coin per sample
    else:
        size = [1] * input.ndim  # one coin for the whole batch
    noise = creation.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of `stochastic_depth` (torchvision.ops.StochasticDepth)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, mode={self.mode})"


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm -> activation as one Sequential (keys '0', '1'), 'same'-style padding.

    The convolution has a bias only when there is no norm layer (the norm's shift replaces it).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: int = 1, inplace: bool | None = True,
                 bias: bool | None = None) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation  # keeps H x W when stride is 1
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                      dilation=dilation, groups=groups, bias=bias)
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            kwargs = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**kwargs))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): reweight channels by a gate computed from their
    global average, so the block can emphasise informative channels.

    (B, C, H, W) -> avgpool (B, C, 1, 1) -> fc1 (B, S, 1, 1) -> fc2 (B, C, 1, 1) -> x * sigmoid.
    fc1/fc2 are 1x1 convolutions, as torchvision writes them.
    """

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)                       # (B, C, 1, 1) squeeze
        scale = self.activation(self.fc1(scale))          # (B, S, 1, 1)
        scale = self.scale_activation(self.fc2(scale))    # (B, C, 1, 1) gates in (0, 1)
        return scale * input                              # (B, C, H, W) excite
