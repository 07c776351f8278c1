"""The models `ember summary MODEL` knows: every public function in ember.models that returns
an nn.Module (found at run time, so models added later appear), and each one's input size."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable

from .. import nn

# Paper resolutions (Tan & Le 2019, table 2 and the released checkpoints)
_EFFICIENTNET_RESOLUTION = {"efficientnet_b0": 224, "efficientnet_b1": 240,
                            "efficientnet_b2": 260, "efficientnet_b3": 300,
                            "efficientnet_b4": 380, "efficientnet_b5": 456,
                            "efficientnet_b6": 528, "efficientnet_b7": 600}


def model_constructors() -> dict[str, Callable[..., nn.Module]]:
    """name -> constructor, for the public functions of ember.models annotated to return a
    Module (helpers such as `stochastic_depth` and classes are left out)."""
    from .. import models  # noqa: PLC0415 (the zoo is imported only when a summary asks)

    found = {}
    for name, obj in vars(models).items():
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        if any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in inspect.signature(obj).parameters.values()):
            continue  # needs arguments (e.g. char_rnn's vocabulary size): no default build
        try:
            returns = typing.get_type_hints(obj).get("return")
        except Exception:  # an annotation that does not resolve: not a constructor we know
            continue
        if isinstance(returns, type) and issubclass(returns, nn.Module):
            found[name] = obj
    def natural(name: str) -> list:  # resnet18 before resnet101
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return {name: found[name] for name in sorted(found, key=natural)}


# language models read token ids: (tokens,) of int64 by default
LANGUAGE_MODELS = {"gpt": 128}


def default_input_dtypes(name: str, constructor: Callable[..., nn.Module]) -> list | None:
    """[ember.int64] for language models (token ids), None (floats) for the rest."""
    from .. import dtypes  # noqa: PLC0415

    module = constructor.__module__.rpartition(".")[2]
    return [dtypes.int64] if module in LANGUAGE_MODELS else None


def default_input_size(name: str, constructor: Callable[..., nn.Module]) -> tuple:
    """(C, H, W) the model is built for: 1x28x28 for lenet5 and mlp (MNIST), 3x32x32 for the
    CIFAR ResNets, the paper's resolution for EfficientNet, 128 token ids for gpt, 3x224x224 for other ImageNet
    models."""
    module = constructor.__module__.rpartition(".")[2]
    if module in LANGUAGE_MODELS:
        return (LANGUAGE_MODELS[module],)
    if module in ("lenet5", "mlp"):
        return (1, 28, 28)
    if "cifar" in module:
        return (3, 32, 32)
    side = _EFFICIENTNET_RESOLUTION.get(name, 224)
    return (3, side, side)
