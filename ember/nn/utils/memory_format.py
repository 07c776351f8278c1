"""Lay out convolution weights in a memory format (torch.nn.utils.memory_format)."""

from __future__ import annotations

from typing import Any, TypeVar

M = TypeVar("M")


def _convert(module: Any, memory_format: Any, kinds: tuple) -> Any:
    from ...autograd.grad_mode import no_grad  # noqa: PLC0415

    if isinstance(module, kinds):
        with no_grad():
            module.weight._data = module.weight.contiguous(memory_format=memory_format)._data
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module: M, memory_format: Any) -> M:
    """Every Conv2d / ConvTranspose2d weight in `module` re-laid out in memory_format (e.g.
    channels_last), recursively; values are unchanged, the module is returned."""
    from ..modules.conv import Conv2d, ConvTranspose2d  # noqa: PLC0415

    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: M, memory_format: Any) -> M:
    """The same for Conv3d / ConvTranspose3d weights (channels_last_3d)."""
    from ..modules.conv import Conv3d, ConvTranspose3d  # noqa: PLC0415

    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
