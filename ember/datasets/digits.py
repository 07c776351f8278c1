"""Digits: scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), the
dataset that needs no download; the default of `ember train`."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy

from ._base import ImageDataset, package_dir, stratified_split

SPLIT_SEED = 0
TEST_FRACTION = 0.2


@functools.cache
def load_digits_arrays() -> tuple[numpy.ndarray, numpy.ndarray]:
    """All 1,797 images as uint8 (N, 8, 8) scaled from 0..16 to 0..255, and their labels."""
    csv = package_dir("sklearn", "Digits") / "datasets" / "data" / "digits.csv.gz"
    if csv.exists():
        table = numpy.loadtxt(csv, delimiter=",", dtype=numpy.int64)
        pixels, labels = table[:, :-1], table[:, -1]
    else:  # a scikit-learn that moved its file: go through its loader
        from sklearn.datasets import load_digits  # noqa: PLC0415

        bunch = load_digits()
        pixels, labels = bunch.data.astype(numpy.int64), bunch.target
    # 0..16 -> 0..255 so that ToTensor gives [0, 1], like any 8-bit image
    images = numpy.rint(pixels * (255 / 16)).astype(numpy.uint8).reshape(-1, 8, 8)
    return images, labels.astype(numpy.int64)


class Digits(ImageDataset):
    """scikit-learn's 8x8 digits as (1x8x8 float image, label) pairs.

    The split is fixed: a stratified 80/20 split seeded with SPLIT_SEED (20% of each class,
    rounded, goes to the test set), giving 1,438 training and 359 test images. Pixel values
    0..16 are rescaled to 0..255 uint8, so `ToTensor` yields [0, 1].
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        images, labels = load_digits_arrays()
        train_idx, test_idx = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
        chosen = train_idx if train else test_idx
        self.train = train
        super().__init__(images[chosen], labels[chosen], transform, target_transform)
