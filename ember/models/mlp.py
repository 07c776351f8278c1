"""A multi-layer perceptron: Flatten -> [Linear -> ReLU -> Dropout] x k -> Linear."""

from __future__ import annotations

from typing import Sequence

from .. import nn
from ..tensor import Tensor


class MLP(nn.Module):
    """The course's first network, e.g. 784 -> 256 -> 256 -> 10 for MNIST-sized images.

    >>> model = MLP(784, (256, 256), 10, dropout=0.2)
    >>> model(ember.randn(32, 1, 28, 28)).shape     # (B, 10) logits
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (256, 256),
                 num_classes: int = 10, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list = [nn.Flatten()]  # (B, C, H, W) -> (B, C*H*W)
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, num_classes))  # logits; CrossEntropyLoss adds softmax
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def mlp(in_features: int = 784, num_classes: int = 10, hidden: Sequence[int] = (256, 256),
        dropout: float = 0.2) -> MLP:
    return MLP(in_features, hidden, num_classes, dropout)
