"""Image transforms with torchvision's names: ToTensor, Normalize, RandomCrop,
RandomHorizontalFlip, Compose, Lambda.

Datasets hand a transform the raw image as a numpy uint8 array, H x W or H x W x C (the role a
PIL image plays in torchvision), so torchvision pipelines read the same:

    Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(m, s)])

RandomCrop and RandomHorizontalFlip also accept tensors (..., H, W). Randomness comes from
ember's global RNG: `ember.manual_seed` makes it reproducible, and DataLoader workers get
distinct seeds.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ..creation import as_tensor, from_numpy
from ..dtypes import get_default_dtype, uint8
from ..ops.pad import pad as _pad_tensor
from ..random import rand, randint
from ..tensor import Tensor

Image = Any  # a numpy array H x W or H x W x C, or a tensor (..., H, W)


def to_tensor(pic: Image) -> Tensor:
    """uint8 H x W (x C) -> float C x H x W in [0, 1]; other dtypes keep their values."""
    if isinstance(pic, Tensor):  # already a tensor: assume C x H x W, only rescale uint8
        return pic.to(get_default_dtype()) / 255 if pic.dtype == uint8 else pic
    if not isinstance(pic, numpy.ndarray):
        raise TypeError(f"pic should be a numpy array or an ember Tensor. Got {type(pic)}.")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2 or 3 dimensional. Got {pic.ndim} dimensions.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    chw = numpy.ascontiguousarray(pic.transpose(2, 0, 1))
    if chw.dtype == numpy.uint8:
        float_type = get_default_dtype().np
        return from_numpy(chw.astype(float_type) / float_type.type(255))
    return from_numpy(chw)


class ToTensor:
    """Image -> float tensor C x H x W; uint8 pixels are scaled to [0, 1]."""

    def __call__(self, pic: Image) -> Tensor:
        return to_tensor(pic)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(image - mean) / std per channel, on a float tensor (..., C, H, W)."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float,
                 inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize expects a tensor, got {type(tensor).__name__}: put "
                            "ToTensor() before it (datasets hand transforms the raw image)")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {tuple(tensor.shape)}")
        mean = as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = as_tensor(self.std, dtype=tensor.dtype, device=tensor.device)
        if bool((std == 0).any()):
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                             "leading to division by zero.")
        if mean.ndim == 1:
            mean = mean.view(-1, 1, 1)
        if std.ndim == 1:
            std = std.view(-1, 1, 1)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[arg-type]
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return int(size[0]), int(size[1])


def _image_size(img: Image) -> tuple[int, int]:
    if isinstance(img, Tensor):
        return int(img.shape[-2]), int(img.shape[-1])
    if isinstance(img, numpy.ndarray) and img.ndim in (2, 3):
        return int(img.shape[0]), int(img.shape[1])
    raise TypeError("expected a numpy image (H x W or H x W x C) or a tensor (..., H, W), got "
                    f"{type(img).__name__} of shape {getattr(img, 'shape', None)}")


_TENSOR_PAD_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def pad(img: Image, padding: int | Sequence[int], fill: float = 0,
        padding_mode: str = "constant") -> Image:
    """Pad the H and W borders. `padding`: all sides, (left/right, top/bottom), or (left, top,
    right, bottom), as in torchvision; modes constant (with `fill`), edge, reflect, symmetric."""
    if isinstance(padding, numbers.Number):
        left = top = right = bottom = int(padding)  # type: ignore[arg-type]
    elif len(padding) == 1:
        left = top = right = bottom = int(padding[0])
    elif len(padding) == 2:
        left = right = int(padding[0])
        top = bottom = int(padding[1])
    elif len(padding) == 4:
        left, top, right, bottom = (int(p) for p in padding)
    else:
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(img, Tensor):
        if padding_mode not in _TENSOR_PAD_MODES:
            raise ValueError(f"padding_mode={padding_mode!r} needs a numpy image")
        mode = _TENSOR_PAD_MODES[padding_mode]
        return _pad_tensor(img, (left, right, top, bottom), mode=mode,
                           value=fill if mode == "constant" else None)
    _image_size(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (img.ndim - 2)
    if padding_mode == "constant":
        return numpy.pad(img, widths, mode="constant", constant_values=fill)
    return numpy.pad(img, widths, mode=padding_mode)


class RandomCrop:
    """Crop a random `size` window, after optional padding (4 pixels of zeros is the CIFAR
    recipe: the network sees each image shifted by up to 4 pixels)."""

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant") -> None:
        self.size = _pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img: Image, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """A random (top, left, height, width) window of `output_size` inside `img`."""
        h, w = _image_size(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        i = int(randint(0, h - th + 1, size=(1,)).item())
        j = int(randint(0, w - tw + 1, size=(1,)).item())
        return i, j, th, tw

    def __call__(self, img: Image) -> Image:
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        h, w = _image_size(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = pad(img, (tw - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = pad(img, (0, th - h), self.fill, self.padding_mode)
        i, j, th, tw = self.get_params(img, self.size)
        if isinstance(img, Tensor):
            return img[..., i:i + th, j:j + tw]
        return img[i:i + th, j:j + tw]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability p."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Image) -> Image:
        if rand(1).item() < self.p:
            return hflip(img)
        return img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def hflip(img: Image) -> Image:
    _image_size(img)
    if isinstance(img, Tensor):
        return img.flip(-1)
    return img[:, ::-1]


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"Compose({lines}\n)"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


__all__ = ["Compose", "Lambda", "Normalize", "RandomCrop", "RandomHorizontalFlip", "ToTensor",
           "hflip", "pad", "to_tensor"]
