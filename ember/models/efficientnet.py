"""EfficientNet-B0 to B7 (Tan & Le 2019, "EfficientNet: rethinking model scaling for
convolutional neural networks") in torchvision's form.

B0 (the paper's Table 1) is a 3x3 stem, seven stages of MBConv blocks (MobileNetV2's inverted
residual: 1x1 expand -> depthwise kxk -> squeeze-and-excitation -> 1x1 project, SiLU throughout)
and a 1x1 head to 1280 channels, global pooling, dropout and a Linear layer. B1-B7 are the
same network scaled up by compound scaling: every stage's width by `width_mult` (rounded to a
multiple of 8), its depth by `depth_mult` (rounded up), and the input resolution, all three
together. Nothing per variant is hard-coded below except those coefficients.

Shapes in comments are B0's at 3x224x224; adaptive pooling accepts any input size.
Keys and counts are torchvision's: b0 5,288,548 ... b7 66,347,960 parameters.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from .. import nn
from ..tensor import Tensor
from ._layers import (
    Conv2dNormActivation,
    SqueezeExcitation,
    StochasticDepth,
    accepts_pretrained,
    check_no_weights,
    make_divisible,
)


@dataclass
class MBConvConfig:
    """One stage of Table 1: `num_layers` MBConv blocks; the first has `stride`, the others 1."""

    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int

    def scaled(self, width_mult: float, depth_mult: float) -> MBConvConfig:
        """Compound scaling of one stage: wider by width_mult, deeper by depth_mult."""
        return MBConvConfig(self.expand_ratio, self.kernel, self.stride,
                            make_divisible(self.input_channels * width_mult, 8),
                            make_divisible(self.out_channels * width_mult, 8),
                            int(math.ceil(self.num_layers * depth_mult)))


# EfficientNet-B0, Table 1 of the paper (stages 2-8; stage 1 is the stem, stage 9 the head):
#                    expand kernel stride  in  out layers     output at 224x224
B0_STAGES = [
    MBConvConfig(1, 3, 1, 32, 16, 1),   # MBConv1, k3x3    (B, 16, 112, 112)
    MBConvConfig(6, 3, 2, 16, 24, 2),   # MBConv6, k3x3    (B, 24, 56, 56)
    MBConvConfig(6, 5, 2, 24, 40, 2),   # MBConv6, k5x5    (B, 40, 28, 28)
    MBConvConfig(6, 3, 2, 40, 80, 3),   # MBConv6, k3x3    (B, 80, 14, 14)
    MBConvConfig(6, 5, 1, 80, 112, 3),  # MBConv6, k5x5    (B, 112, 14, 14)
    MBConvConfig(6, 5, 2, 112, 192, 4),  # MBConv6, k5x5   (B, 192, 7, 7)
    MBConvConfig(6, 3, 1, 192, 320, 1),  # MBConv6, k3x3   (B, 320, 7, 7)
]

# Compound-scaling coefficients of each variant: (width_mult, depth_mult, resolution, dropout).
# The paper scales depth, width and resolution as alpha^phi, beta^phi, gamma^phi (alpha = 1.2,
# beta = 1.1, gamma = 1.15); the released B1-B7 (Tan & Le's efficientnet_builder, which
# torchvision follows) use these rounded values. `resolution` is the training/eval image size.
SCALING = {
    "efficientnet_b0": (1.0, 1.0, 224, 0.2),
    "efficientnet_b1": (1.0, 1.1, 240, 0.2),
    "efficientnet_b2": (1.1, 1.2, 260, 0.3),
    "efficientnet_b3": (1.2, 1.4, 300, 0.3),
    "efficientnet_b4": (1.4, 1.8, 380, 0.4),
    "efficientnet_b5": (1.6, 2.2, 456, 0.4),
    "efficientnet_b6": (1.8, 2.6, 528, 0.5),
    "efficientnet_b7": (2.0, 3.1, 600, 0.5),
}


def efficientnet_config(width_mult: float, depth_mult: float) -> list[MBConvConfig]:
    """B0's stages scaled: e.g. (2.0, 3.1) gives B7's 64 -> ... -> 640 channels, 55 blocks."""
    return [stage.scaled(width_mult, depth_mult) for stage in B0_STAGES]


class MBConv(nn.Module):
    """Inverted residual with squeeze-and-excitation (MobileNetV2 + SE, "MBConv" in the paper):
    narrow -> wide (expand) -> depthwise -> SE -> narrow (linear projection, no activation).
    The shortcut exists when the shape is unchanged; stochastic depth drops the branch."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        expanded = make_divisible(cnf.input_channels * cnf.expand_ratio, 8)
        if expanded != cnf.input_channels:  # expand: (B, C_in, H, W) -> (B, C_exp, H, W)
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        # depthwise: one kxk filter per channel, (B, C_exp, H, W) -> (B, C_exp, H/s, W/s)
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        # squeeze-and-excitation, squeezed to a quarter of the block's *input* channels
        squeeze = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded, squeeze, activation=partial(nn.SiLU, inplace=True)))
        # project: (B, C_exp, H/s, W/s) -> (B, C_out, H/s, W/s), linear (no activation)
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)                        # (B, C_out, H/s, W/s)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class EfficientNet(nn.Module):
    """features (stem, stages, head) -> avgpool -> classifier (dropout, Linear)."""

    def __init__(self, inverted_residual_setting: Sequence[MBConvConfig], dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 last_channel: int | None = None) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        norm_layer = norm_layer or nn.BatchNorm2d
        stem_channels = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [  # stem: (B, 3, 224, 224) -> (B, 32, 112, 112)
            Conv2dNormActivation(3, stem_channels, kernel_size=3, stride=2,
                                 norm_layer=norm_layer, activation_layer=nn.SiLU)
        ]
        # stages: the drop probability of block i grows linearly, 0 -> p * (N-1)/N
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:  # (B, 16, 112, 112) ... (B, 320, 7, 7)
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # blocks after the first keep width and resolution
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(block_id) / total_blocks
                stage.append(MBConv(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        # head: 1x1 conv to 4x the last stage's width, (B, 320, 7, 7) -> (B, 1280, 7, 7)
        head_in = inverted_residual_setting[-1].out_channels
        head_out = last_channel if last_channel is not None else 4 * head_in
        layers.append(Conv2dNormActivation(head_in, head_out, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)                     # (B, 1280, 1, 1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(head_out, num_classes),                      # (B, num_classes)
        )

        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)     # (B, 1280, 7, 7)
        x = self.avgpool(x)      # (B, 1280, 1, 1)
        x = x.flatten(1)         # (B, 1280)
        return self.classifier(x)


def _efficientnet(arch: str, weights: None, **kwargs) -> EfficientNet:
    check_no_weights(weights)
    width_mult, depth_mult, _resolution, dropout = SCALING[arch]
    if arch in ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7"):
        # torchvision ports B5-B7 from TensorFlow and keeps TF's BatchNorm settings for them
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))
    dropout = kwargs.pop("dropout", dropout)  # torchvision lets the caller override it
    return EfficientNet(efficientnet_config(width_mult, depth_mult), dropout, **kwargs)


@accepts_pretrained
def efficientnet_b0(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B0 (224x224). kwargs go to EfficientNet (num_classes, ...)."""
    return _efficientnet("efficientnet_b0", weights, **kwargs)


@accepts_pretrained
def efficientnet_b1(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B1 (240x240)."""
    return _efficientnet("efficientnet_b1", weights, **kwargs)


@accepts_pretrained
def efficientnet_b2(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B2 (260x260)."""
    return _efficientnet("efficientnet_b2", weights, **kwargs)


@accepts_pretrained
def efficientnet_b3(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B3 (300x300)."""
    return _efficientnet("efficientnet_b3", weights, **kwargs)


@accepts_pretrained
def efficientnet_b4(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B4 (380x380)."""
    return _efficientnet("efficientnet_b4", weights, **kwargs)


@accepts_pretrained
def efficientnet_b5(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B5 (456x456)."""
    return _efficientnet("efficientnet_b5", weights, **kwargs)


@accepts_pretrained
def efficientnet_b6(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B6 (528x528)."""
    return _efficientnet("efficientnet_b6", weights, **kwargs)


@accepts_pretrained
def efficientnet_b7(*, weights: None = None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B7 (600x600)."""
    return _efficientnet("efficientnet_b7", weights, **kwargs)
