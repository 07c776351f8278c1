"""torch.types: the type aliases annotations in torch-style code refer to."""

from __future__ import annotations

import os
from typing import IO, Union

from .backend import device as Device  # noqa: N812 (torch.types.Device)
from .dtypes import dtype as _dtype
from .size import Size
from .tensor import Tensor

Number = Union[int, float, bool]
_Number = Number
_int, _float, _bool, _str, _bytes, _complex = int, float, bool, str, bytes, complex
_device = Device
_size = Union[Size, list, tuple]
_TensorOrTensors = Union[Tensor, tuple, list]
FileLike = Union[str, os.PathLike, IO[bytes]]

__all__ = ["Device", "FileLike", "Number", "Size", "Tensor", "_dtype"]
