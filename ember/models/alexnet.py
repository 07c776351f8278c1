"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) in torchvision's form: the single-tower variant
of "One weird trick for parallelizing convolutional neural networks" (Krizhevsky 2014), which is
what torchvision ships (64/192/384/256/256 channels rather than the paper's 96/256/384/384/256
split over two GPUs; no local response normalisation). 61,100,840 parameters.
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._layers import accepts_pretrained, check_no_weights


class AlexNet(nn.Module):
    """Five convolutions with three max-pools, then three fully-connected layers with dropout.

    Shapes below are for a 3x224x224 input; the adaptive pool makes any input >= 63x63 work.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # (B, 64, 55, 55)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # (B, 64, 27, 27)
            nn.Conv2d(64, 192, kernel_size=5, padding=2),           # (B, 192, 27, 27)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # (B, 192, 13, 13)
            nn.Conv2d(192, 384, kernel_size=3, padding=1),          # (B, 384, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),          # (B, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),          # (B, 256, 13, 13)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                  # (B, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))                 # (B, 256, 6, 6)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),                           # (B, 4096)
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),                                  # (B, 4096)
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),                           # (B, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)     # (B, 256, 6, 6) at 224x224
        x = self.avgpool(x)      # (B, 256, 6, 6)
        x = x.flatten(1)         # (B, 9216)
        return self.classifier(x)


@accepts_pretrained
def alexnet(*, weights: None = None, progress: bool = True, num_classes: int = 1000,
            dropout: float = 0.5) -> AlexNet:
    """torchvision's AlexNet (layers keep torch's default initialisation, as torchvision's do)."""
    check_no_weights(weights)
    return AlexNet(num_classes=num_classes, dropout=dropout)
