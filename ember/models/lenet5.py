"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition", figure 2): C1 -> S2 -> C3 -> S4 -> C5 -> F6 -> output.

What follows the paper and what does not:
- activation: tanh, as the paper's squashing function (it used 1.7159 tanh(2x/3); the scale is
  left out, as in most re-implementations, since it only rescales the next layer's weights);
- pooling: 2x2 average pooling, stride 2, as the paper's subsampling layers S2 and S4 (the
  paper also multiplied by a trainable coefficient and added a trainable bias per map, which
  the next convolution can absorb; left out);
- C3 connects every S2 map to every C3 map (the paper's sparse connection table of Table 1 was
  a 1998 compute saving and symmetry breaker; modern versions drop it);
- C5 is a 5x5 convolution on a 5x5 map, i.e. a fully-connected layer: written as Linear;
- the output is a Linear layer giving logits for CrossEntropyLoss, not the paper's Euclidean
  RBF units.
The paper's input was 32x32 (28x28 MNIST digits centred in a 32x32 field); for 28x28 inputs C1
pads by 2 so that every later shape is the paper's.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor


class LeNet5(nn.Module):
    """LeNet-5 for 1x28x28 (padding 2) or 1x32x32 (no padding) images, 61,706 parameters."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"LeNet5: image_size must be 28 or 32, got {image_size}")
        pad = (32 - image_size) // 2  # 28x28 -> 32x32 equivalent
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=pad),  # C1 (B, 6, 28, 28)
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),                  # S2 (B, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),                        # C3 (B, 16, 10, 10)
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),                  # S4 (B, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),                             # C5 (B, 120)
            nn.Tanh(),
            nn.Linear(120, 84),                                     # F6 (B, 84)
            nn.Tanh(),
            nn.Linear(84, num_classes),                             # output (B, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)     # (B, 16, 5, 5)
        x = x.flatten(1)         # (B, 400)
        return self.classifier(x)


def lenet5(num_classes: int = 10, in_channels: int = 1, image_size: int = 28) -> LeNet5:
    """LeNet-5; `image_size` 28 (MNIST, Fashion-MNIST) or 32 (the paper, CIFAR-10)."""
    return LeNet5(num_classes, in_channels, image_size)
