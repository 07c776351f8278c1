"""VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image
recognition", Table 1): stacks of 3x3 convolutions (padding 1, so H x W is kept) separated by
2x2 max-pools that halve H x W, then three fully-connected layers. Configurations A, B, D, E are
VGG-11, -13, -16, -19; the `_bn` variants add BatchNorm after each convolution (torchvision's,
not in the paper). Keys and counts are torchvision's: vgg11 132,863,336; vgg16 138,357,544.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._layers import accepts_pretrained, check_no_weights

# Table 1 of the paper: output channels of each 3x3 convolution, "M" a 2x2 max-pool.
CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """The convolutional trunk: (B, 3, 224, 224) -> five pools later (B, 512, 7, 7)."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # H, W -> H/2, W/2
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))  # (B, v, H, W)
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """features (conv trunk) -> avgpool to 7x7 -> classifier (4096 -> 4096 -> num_classes)."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features                            # (B, 512, H/32, W/32)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))         # (B, 512, 7, 7) for any input size
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),                   # (B, 4096)
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),                          # (B, 4096)
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),                   # (B, num_classes)
        )
        if init_weights:  # torchvision's: He init for convolutions, N(0, 0.01) for the head
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)     # (B, 512, 7, 7) at 224x224
        x = self.avgpool(x)      # (B, 512, 7, 7)
        x = x.flatten(1)         # (B, 25088)
        return self.classifier(x)


def _vgg(cfg: str, batch_norm: bool, weights: None, num_classes: int, init_weights: bool,
         dropout: float) -> VGG:
    check_no_weights(weights)
    return VGG(make_layers(CFGS[cfg], batch_norm), num_classes, init_weights, dropout)


@accepts_pretrained
def vgg11(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
          init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-11 (configuration A)."""
    return _vgg("A", False, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg11_bn(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
             init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-11 with BatchNorm."""
    return _vgg("A", True, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg13(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
          init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-13 (configuration B)."""
    return _vgg("B", False, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg13_bn(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
             init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-13 with BatchNorm."""
    return _vgg("B", True, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg16(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
          init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D)."""
    return _vgg("D", False, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg16_bn(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
             init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-16 with BatchNorm."""
    return _vgg("D", True, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg19(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
          init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-19 (configuration E)."""
    return _vgg("E", False, weights, num_classes, init_weights, dropout)


@accepts_pretrained
def vgg19_bn(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
             init_weights: bool = True, dropout: float = 0.5) -> VGG:
    """VGG-19 with BatchNorm."""
    return _vgg("E", True, weights, num_classes, init_weights, dropout)
