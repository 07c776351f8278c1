"""CIFAR-size ResNets (He et al. 2016, section 4.2): for 32x32 (or 28x28) images, where
torchvision's 7x7-stride-2 stem and max-pool would shrink the image too early.

    3x3 conv, 16 channels -> 3 stages of n BasicBlocks (16, 32, 64 channels; the 2nd and 3rd
    halve H x W) -> global average pool -> Linear: 1 + 6n + 1 = 6n + 2 weighted layers.

n = 3, 5, 7, 9 gives ResNet-20, -32, -44, -56. When a stage doubles the channels and halves
the map, the shortcut must change shape too. The paper's CIFAR networks use option A: subsample
by 2 and pad the new channels with zeros, adding no parameters (resnet20: 269,722 parameters,
the paper's "0.27M"). `shortcut="B"` uses a 1x1 convolution + BatchNorm projection as
torchvision's ResNet does (resnet20: 272,474). Blocks are `resnet.BasicBlock`, so the keys read
like torchvision's: 'layer2.0.conv1.weight', 'layer2.0.downsample.0.weight' (option B).
"""

from __future__ import annotations

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from .resnet import BasicBlock, conv1x1, conv3x3


class ZeroPadShortcut(nn.Module):
    """Option A shortcut: (B, C, H, W) -> (B, C + extra, H/2, W/2), keeping every other pixel
    and padding the new channels with zeros (half in front, half behind); no parameters."""

    def __init__(self, extra_channels: int, stride: int = 2) -> None:
        super().__init__()
        self.extra_channels = extra_channels
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, ::self.stride, ::self.stride]        # (B, C, H/2, W/2)
        front = self.extra_channels // 2
        back = self.extra_channels - front
        return F.pad(x, (0, 0, 0, 0, front, back))       # (B, C + extra, H/2, W/2)

    def extra_repr(self) -> str:
        return f"extra_channels={self.extra_channels}, stride={self.stride}"


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for small images. Shapes below are for 3x32x32 (28x28: 28, 14, 7)."""

    def __init__(self, num_blocks: int, num_classes: int = 10, in_channels: int = 3,
                 shortcut: str = "A") -> None:
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut must be 'A' (zero padding) or 'B' (projection), "
                             f"got {shortcut!r}")
        self.shortcut = shortcut
        self.inplanes = 16
        self.conv1 = conv3x3(in_channels, 16)                   # (B, 16, 32, 32)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, num_blocks, stride=1)  # (B, 16, 32, 32)
        self.layer2 = self._make_layer(32, num_blocks, stride=2)  # (B, 32, 16, 16)
        self.layer3 = self._make_layer(64, num_blocks, stride=2)  # (B, 64, 8, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))              # (B, 64, 1, 1)
        self.fc = nn.Linear(64, num_classes)                     # (B, num_classes)

        for m in self.modules():  # He init (the paper's reference [13]), fan_out as torchvision
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample: nn.Module | None = None
        if stride != 1 or self.inplanes != planes:
            if self.shortcut == "A":
                downsample = ZeroPadShortcut(planes - self.inplanes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                           nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # (B, 16, 32, 32)
        x = self.layer1(x)                      # (B, 16, 32, 32)
        x = self.layer2(x)                      # (B, 32, 16, 16)
        x = self.layer3(x)                      # (B, 64, 8, 8)
        x = self.avgpool(x)                     # (B, 64, 1, 1)
        x = x.flatten(1)                        # (B, 64)
        return self.fc(x)                       # (B, num_classes)


def resnet20(num_classes: int = 10, in_channels: int = 3, shortcut: str = "A") -> CifarResNet:
    """ResNet-20 (n = 3): 269,722 parameters with option A shortcuts."""
    return CifarResNet(3, num_classes, in_channels, shortcut)


def resnet32(num_classes: int = 10, in_channels: int = 3, shortcut: str = "A") -> CifarResNet:
    """ResNet-32 (n = 5)."""
    return CifarResNet(5, num_classes, in_channels, shortcut)


def resnet44(num_classes: int = 10, in_channels: int = 3, shortcut: str = "A") -> CifarResNet:
    """ResNet-44 (n = 7)."""
    return CifarResNet(7, num_classes, in_channels, shortcut)


def resnet56(num_classes: int = 10, in_channels: int = 3, shortcut: str = "A") -> CifarResNet:
    """ResNet-56 (n = 9)."""
    return CifarResNet(9, num_classes, in_channels, shortcut)
