"""The legacy typed-tensor classes: `ember.FloatTensor`, `ember.cuda.LongTensor`, ...

Old PyTorch code (and many course notebooks) still writes `torch.FloatTensor([1, 2])`,
`torch.LongTensor(3, 4)`, `isinstance(x, torch.cuda.FloatTensor)` or `x.type(torch.DoubleTensor)`.
Each class here is a dtype plus a device kind: calling it builds a tensor, and `isinstance`
asks "is this a tensor of that dtype on that kind of device?", as torch's do.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import backend, dtypes


class _TensorTypeMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        from .tensor import Tensor  # noqa: PLC0415

        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype
                and obj.is_cuda == cls.is_cuda)

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


class LegacyTensorType(metaclass=_TensorTypeMeta):
    """Base of the typed-tensor classes; `dtype` and `is_cuda` say which tensors they are."""

    dtype: dtypes.dtype = dtypes.float32
    is_cuda: bool = False

    def __new__(cls, *args: Any, device: Any = None) -> Any:
        from . import creation  # noqa: PLC0415
        from .tensor import Tensor  # noqa: PLC0415

        if device is None:
            device = "cuda" if cls.is_cuda else "cpu"
        elif (backend.as_device(device).type == "cuda") != cls.is_cuda:
            raise RuntimeError(f"legacy constructor expects device type: "
                               f"{'cuda' if cls.is_cuda else 'cpu'} but device type: "
                               f"{backend.as_device(device).type} was passed")
        if not args:
            return creation.empty(0, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            src = args[0]
            if src.dtype is not cls.dtype:
                raise TypeError(f"expected {cls.dtype} (got {src.dtype})")
            return src.detach()  # torch's legacy constructor aliases a tensor of its type
        if len(args) == 1 and not isinstance(args[0], int):
            return creation.tensor(args[0], dtype=cls.dtype, device=device)
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise TypeError(f"{cls.__name__}() takes sizes as ints or one sequence of data, "
                            f"got {tuple(type(a).__name__ for a in args)}")
        return creation.empty(*args, dtype=cls.dtype, device=device)


_CLASSES = {
    "FloatTensor": dtypes.float32, "DoubleTensor": dtypes.float64, "HalfTensor": dtypes.float16,
    "LongTensor": dtypes.int64, "IntTensor": dtypes.int32, "ShortTensor": dtypes.int16,
    "CharTensor": dtypes.int8, "ByteTensor": dtypes.uint8, "BoolTensor": dtypes.bool_,
}


def _make(name: str, dtype: dtypes.dtype, cuda: bool) -> type:
    module = "ember.cuda" if cuda else "ember"
    return _TensorTypeMeta(name, (LegacyTensorType,),
                           {"dtype": dtype, "is_cuda": cuda, "__module__": module,
                            "__doc__": f"{module}.{name}: {dtype} tensors on "
                                       f"{'a GPU' if cuda else 'the CPU'}."})


CPU_TYPES = {name: _make(name, d, False) for name, d in _CLASSES.items()}
CUDA_TYPES = {name: _make(name, d, True) for name, d in _CLASSES.items()}


def lookup(name: str) -> type:
    """'torch.cuda.FloatTensor' / 'ember.FloatTensor' / 'FloatTensor' -> the class."""
    short = name.rsplit(".", 1)[-1]
    table = CUDA_TYPES if ".cuda." in name else CPU_TYPES
    if short not in table:
        raise ValueError(f"invalid type: '{name}'")
    return table[short]


def set_default_tensor_type(t: Any) -> None:
    """Deprecated in torch 2.1 for set_default_dtype + set_default_device; still honoured."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    cls = lookup(t) if isinstance(t, str) else t
    if not (isinstance(cls, type) and issubclass(cls, LegacyTensorType)):
        raise TypeError(f"invalid type object: expected a tensor type such as "
                        f"ember.FloatTensor or 'torch.DoubleTensor', got {t!r}")
    if not cls.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(cls.dtype)
    backend.set_default_device("cuda" if cls.is_cuda else "cpu")
