"""The model registry of torchvision.models: `get_model("resnet18", num_classes=10)`,
`get_model_builder(name)`, `list_models(include="resnet*")` and `register_model()`.

Builders are registered by name (their function name unless given); the models' own files
stay free of registry code, the list of builders lives here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ..nn import Module
from . import efficientnet, resnet, resnet_cifar, vgg, vit
from .alexnet import alexnet
from .char_rnn import char_rnn
from .gpt import gpt
from .lenet5 import lenet5
from .mlp import mlp
from .simple_cnn import simple_cnn

BUILTIN_MODELS: dict[str, Callable[..., Module]] = {}


def register_model(name: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator that registers a builder under `name` (default: the function's name)."""

    def wrapper(fn: Callable) -> Callable:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module: ModuleType | None = None, include: str | Iterable[str] | None = None,
                exclude: str | Iterable[str] | None = None) -> list[str]:
    """Sorted names of the registered models; `include`/`exclude` are fnmatch patterns
    ("resnet*"), `module` keeps the builders defined directly in that package."""
    all_models = {k for k, fn in BUILTIN_MODELS.items()
                  if module is None or fn.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        models: set[str] = set()
        for pattern in [include] if isinstance(include, str) else include:
            models |= set(fnmatch.filter(all_models, pattern))
    else:
        models = all_models
    if exclude:
        for pattern in [exclude] if isinstance(exclude, str) else exclude:
            models -= set(fnmatch.filter(all_models, pattern))
    return sorted(models)


def get_model_builder(name: str) -> Callable[..., Module]:
    """The builder function registered under `name` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> Module:
    """Build the model registered under `name`: get_model("resnet18", num_classes=10)."""
    return get_model_builder(name)(**config)


for _builder in (
    alexnet,
    char_rnn,
    *(getattr(efficientnet, f"efficientnet_b{i}") for i in range(8)),
    gpt,
    lenet5,
    mlp,
    resnet.resnet18, resnet.resnet34, resnet.resnet50, resnet.resnet101, resnet.resnet152,
    resnet.resnext50_32x4d, resnet.wide_resnet50_2,
    resnet_cifar.resnet20, resnet_cifar.resnet32, resnet_cifar.resnet44, resnet_cifar.resnet56,
    simple_cnn,
    vgg.vgg11, vgg.vgg11_bn, vgg.vgg13, vgg.vgg13_bn, vgg.vgg16, vgg.vgg16_bn, vgg.vgg19,
    vgg.vgg19_bn,
    vit.vit_b_16, vit.vit_b_32, vit.vit_l_16, vit.vit_l_32, vit.vit_h_14, vit.vit_tiny,
):
    register_model()(_builder)
