"""What every bundled dataset shares: images and labels held in memory as numpy arrays, the
transform hooks, a seeded stratified train/test split, and finding optional packages' files.
"""

from __future__ import annotations

import importlib.util
import pathlib
from collections.abc import Callable
from typing import Any

import numpy

from ..creation import from_numpy
from ..tensor import Tensor
from ..utils.data import Dataset
from .transforms import to_tensor

INSTALL_EXTRA = 'pip install "ember[datasets]"'


class ImageDataset(Dataset):
    """(image, label) pairs from uint8 images (N, H, W) or (N, H, W, C) and integer labels.

    Without a `transform` an image comes out as a float32 tensor C x H x W in [0, 1]; with one,
    the transform receives the raw uint8 numpy image (as torchvision transforms receive a PIL
    image) and decides, so put `ToTensor()` in it.
    """

    classes: list[str] = []

    def __init__(self, images: numpy.ndarray, labels: numpy.ndarray,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {len(images)} images but "
                             f"{len(labels)} labels")
        self._images = images
        self._labels = numpy.asarray(labels, dtype=numpy.int64)
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = int(index)
        image = self._images[index]
        label: Any = int(self._labels[index])
        image = to_tensor(image) if self.transform is None else self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __len__(self) -> int:
        return len(self._images)

    @property
    def data(self) -> Tensor:
        """All images as one uint8 tensor (shares memory with the dataset)."""
        return from_numpy(self._images)

    @property
    def targets(self) -> Tensor:
        """All labels as one int64 tensor."""
        return from_numpy(self._labels)

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


def stratified_split(labels: numpy.ndarray, test_fraction: float,
                     seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Indices (train, test): round(test_fraction * n_c) random items of each class c go to
    the test set, the rest to train; both keep the source order. Same seed, same split."""
    rng = numpy.random.default_rng(seed)
    train, test = [], []
    for c in numpy.unique(labels):
        members = rng.permutation(numpy.flatnonzero(labels == c))
        n_test = int(round(test_fraction * len(members)))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return numpy.sort(numpy.concatenate(train)), numpy.sort(numpy.concatenate(test))


def package_dir(package: str, dataset: str) -> pathlib.Path:
    """Where an optional package is installed, found without importing it (importing
    scikit-learn takes a second; reading its bundled CSV takes milliseconds)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        pip_name = {"sklearn": "scikit-learn"}.get(package, package)
        raise ModuleNotFoundError(
            f"{dataset} reads the data bundled with the {pip_name!r} package, which is not "
            f"installed. Install it with `pip install {pip_name}` (or `{INSTALL_EXTRA}`, which "
            "installs every dataset's package).", name=package)
    return pathlib.Path(next(iter(spec.submodule_search_locations)))
