"""torch's deprecated `TypedStorage` (what `t.storage()` returns) and the legacy storage classes
`FloatStorage`, `LongStorage`... (ember/storage.py has the untyped storage they wrap).

A TypedStorage is an UntypedStorage read as elements of one dtype: its size counts elements and
indexing gives Python numbers. Its public methods warn once that TypedStorage is deprecated,
with torch's text; the underscore spellings (`_size`, `_getitem`...) do not, as torch's. The
legacy classes build TypedStorages (`FloatStorage(3)`, `LongStorage([1, 2])`) and answer
`isinstance` by dtype, as torch's do.
"""

from __future__ import annotations

import collections.abc
import warnings
from typing import Any

from . import backend, creation, dtypes
from .storage import UntypedStorage, _Casts, _is_int, _owned, _typename
from .tensor import Tensor

_warned = [False]


def _warn_typed_storage_removal(stacklevel: int = 2) -> None:
    """torch's one-time deprecation warning for TypedStorage."""
    if not _warned[0]:
        warnings.warn(
            "TypedStorage is deprecated. It will be removed in the future and UntypedStorage "
            "will be the only storage class. This should only matter to you if you are using "
            "storages directly.  To access UntypedStorage directly, use "
            "tensor.untyped_storage() instead of tensor.storage()",
            UserWarning, stacklevel=stacklevel + 1)
        _warned[0] = True


def _reset_warn_typed_storage_removal() -> None:
    _warned[0] = False


_LEGACY_NAMES = {
    dtypes.float64: "DoubleStorage", dtypes.float32: "FloatStorage",
    dtypes.float16: "HalfStorage", dtypes.int64: "LongStorage", dtypes.int32: "IntStorage",
    dtypes.int16: "ShortStorage", dtypes.int8: "CharStorage", dtypes.uint8: "ByteStorage",
    dtypes.bool_: "BoolStorage", dtypes.bfloat16: "BFloat16Storage",
    dtypes.complex128: "ComplexDoubleStorage", dtypes.complex64: "ComplexFloatStorage",
}


class TypedStorage(_Casts):
    """An UntypedStorage read as elements of one dtype (`t.storage()`; deprecated in torch)."""

    __module__ = "ember.storage"  # its public name, as torch.storage.TypedStorage
    is_sparse = False
    dtype: dtypes.dtype

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None,
                 wrap_storage: UntypedStorage | None = None, _internal: bool = False) -> None:
        if not _internal:
            _warn_typed_storage_removal()
        error = ("TypedStorage.__init__ received an invalid combination of arguments. Expected "
                 "one of:\n * (*, ember.device device, ember.dtype dtype)\n * (int size, *, "
                 "ember.device device, ember.dtype dtype)\n * (Sequence data, *, ember.device "
                 "device, ember.dtype dtype)\n * (*, UntypedStorage wrap_storage, ember.dtype "
                 "dtype)")
        if wrap_storage is not None:
            if args:
                raise RuntimeError(f"{error}\nNo positional arguments should be given when "
                                   "using 'wrap_storage'")
            if dtype is None:
                raise RuntimeError(f"{error}\nArgument 'dtype' must be specified")
            if not isinstance(dtype, dtypes.dtype):
                raise TypeError(f"{error}\nArgument 'dtype' must be ember.dtype, not "
                                f"{type(dtype)}")
            if device is not None:
                raise RuntimeError(f"{error}\nArgument 'device' should not be specified when "
                                   "'wrap_storage' is given")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(f"{error}\nArgument 'wrap_storage' must be UntypedStorage, but "
                                f"got {type(wrap_storage)}")
            self.dtype, self._untyped_storage = dtype, wrap_storage
            return
        self.dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        device = backend.CPU if device is None else backend.as_device(device)
        if len(args) > 1:
            raise RuntimeError(f"{error}\nToo many positional arguments")
        if not args:
            self._untyped_storage = UntypedStorage(device=device)
        elif _is_int(args[0]):
            self._untyped_storage = UntypedStorage(int(args[0]) * self.dtype.itemsize,
                                                   device=device)
        elif isinstance(args[0], collections.abc.Sequence):
            values = creation.tensor(args[0], dtype=self.dtype, device=device)
            self._untyped_storage = _owned(values._data)
        else:
            raise TypeError(f"{error}\nArgument type not recognized: {type(args[0])}")

    def _new_wrapped_storage(self, untyped_storage: UntypedStorage) -> TypedStorage:
        return TypedStorage(wrap_storage=untyped_storage, dtype=self.dtype, _internal=True)

    def _as_tensor(self) -> Tensor:
        return self._untyped_storage._as_tensor(self.dtype)

    # the underscore spellings are torch's internal ones: they do not warn
    def _size(self) -> int:
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    def _nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def _element_size(self) -> int:
        return self.dtype.itemsize

    def _data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    def _is_shared(self) -> bool:
        return self._untyped_storage.is_shared()

    def _share_memory_(self) -> TypedStorage:
        self._untyped_storage.share_memory_()
        return self

    def _resize_(self, size: int) -> None:
        self._untyped_storage.resize_(size * self.dtype.itemsize)

    def _pickle_storage_type(self) -> str:
        try:
            return _LEGACY_NAMES[self.dtype]
        except KeyError:
            raise KeyError(f"dtype {self.dtype} is not recognized") from None

    def _maybe_wrap_index(self, idx: Any) -> int:
        if type(idx) is not int:
            raise TypeError(f"can't index a {type(self)} with {type(idx)}")
        if not -self._size() <= idx < self._size():
            raise IndexError(f"index {idx} out of range for storage of size {self._size()}")
        return idx % self._size()

    def _getitem(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        if not isinstance(idx, int):
            raise RuntimeError(f"can't index a {type(self)} with {type(idx)}")
        return self._as_tensor()[self._maybe_wrap_index(idx)].item()

    def _setitem(self, idx: Any, value: Any) -> None:
        if not isinstance(idx, (int, slice)):
            raise RuntimeError(f"can't index a {type(self)} with {type(idx)}")
        if isinstance(value, (UntypedStorage, TypedStorage)):
            raise RuntimeError(f"cannot set item with value type {type(value)}")
        self._as_tensor()[idx] = value

    # the public methods warn once, as torch's
    def size(self) -> int:
        _warn_typed_storage_removal()
        return self._size()

    def __len__(self) -> int:
        _warn_typed_storage_removal()
        return self._size()

    def nbytes(self) -> int:
        _warn_typed_storage_removal()
        return self._nbytes()

    def element_size(self) -> int:
        _warn_typed_storage_removal()
        return self._element_size()

    def data_ptr(self) -> int:
        _warn_typed_storage_removal()
        return self._data_ptr()

    def untyped(self) -> UntypedStorage:
        _warn_typed_storage_removal()
        return self._untyped_storage

    @property
    def device(self) -> backend.device:
        _warn_typed_storage_removal()
        return self._untyped_storage.device

    @property
    def is_cuda(self) -> bool:
        _warn_typed_storage_removal()
        return self._untyped_storage.device.type == "cuda"

    def get_device(self) -> int | None:
        _warn_typed_storage_removal()
        return self._untyped_storage.get_device()

    def __getitem__(self, idx: Any) -> Any:
        _warn_typed_storage_removal()
        return self._getitem(idx)

    def __setitem__(self, idx: Any, value: Any) -> None:
        _warn_typed_storage_removal()
        self._setitem(idx, value)

    def tolist(self) -> list:
        _warn_typed_storage_removal()
        return self._as_tensor().tolist()

    def __iter__(self) -> Any:
        _warn_typed_storage_removal()
        return iter(self._as_tensor().tolist())

    def fill_(self, value: Any) -> TypedStorage:
        _warn_typed_storage_removal()
        self._setitem(slice(0, self._size()), value)
        return self

    def copy_(self, source: Any, non_blocking: bool | None = None) -> TypedStorage:
        _warn_typed_storage_removal()
        self._untyped_storage.copy_(source, non_blocking)
        return self

    def clone(self) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.clone())

    def cpu(self) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.cpu())

    def to(self, *, device: Any, non_blocking: bool = False) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.to(device=device))

    def cuda(self, device: Any = None, non_blocking: bool = False) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.cuda(device))

    def is_pinned(self, device: Any = None) -> bool:
        _warn_typed_storage_removal()
        return False

    def pin_memory(self, device: Any = None) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.pin_memory())

    def is_shared(self) -> bool:
        _warn_typed_storage_removal()
        return self._is_shared()

    def share_memory_(self) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._share_memory_()

    def resizable(self) -> bool:
        _warn_typed_storage_removal()
        return self._untyped_storage.resizable()

    def resize_(self, size: int) -> None:
        _warn_typed_storage_removal()
        self._resize_(size)

    def pickle_storage_type(self) -> str:
        _warn_typed_storage_removal()
        return self._pickle_storage_type()

    def type(self, dtype: Any = None, non_blocking: bool = False) -> str:
        _warn_typed_storage_removal()
        if dtype is not None:
            raise NotImplementedError("TypedStorage.type(dtype): use float(), long()...")
        name = _LEGACY_NAMES.get(self.dtype)
        if name is None or self._untyped_storage.device.type != "cpu":
            return _typename(self)
        return f"ember.{name}"

    def __copy__(self) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage)

    def __deepcopy__(self, memo: dict) -> TypedStorage:
        _warn_typed_storage_removal()
        return self._new_wrapped_storage(self._untyped_storage.__deepcopy__(memo))

    def __reduce__(self) -> Any:
        return (_rebuild_typed, (self._untyped_storage, self.dtype.name))

    def __sizeof__(self) -> int:
        _warn_typed_storage_removal()
        return object.__sizeof__(self) + self._nbytes()

    @classmethod
    def from_buffer(cls, *args: Any, dtype: Any = None, device: Any = None,
                    **kwargs: Any) -> TypedStorage:
        _warn_typed_storage_removal()
        legacy = getattr(cls, "_dtype", None)
        if legacy is not None:
            if dtype is not None or device is not None:
                raise RuntimeError("from_buffer: 'dtype' and 'device' can only be specified in "
                                   "UntypedStorage.from_buffer and TypedStorage.from_buffer")
            dtype = legacy
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        untyped = UntypedStorage.from_buffer(*args, dtype=dtype, **kwargs)
        return TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)

    def __str__(self) -> str:
        _warn_typed_storage_removal()
        body = " " + "\n ".join(str(v) for v in self._as_tensor().tolist())
        return (f"{body}\n[{_typename(self)}(dtype={self.dtype}, "
                f"device={self._untyped_storage.device}) of size {self._size()}]")

    __repr__ = __str__


def _rebuild_typed(untyped: UntypedStorage, dtype: str) -> TypedStorage:
    return TypedStorage(wrap_storage=untyped, dtype=dtypes.to_dtype(dtype), _internal=True)


# ------------------------------------------------------------------ the legacy classes
class _LegacyStorageMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        if type(instance) is TypedStorage:
            return (instance._untyped_storage.device.type == "cpu"
                    and getattr(cls, "_dtype", None) is instance.dtype)
        return False

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    """`FloatStorage(3)`, `LongStorage([1, 2])`: TypedStorages of one dtype on the CPU."""

    def __new__(cls, *args: Any, wrap_storage: Any = None, dtype: Any = None,
                device: Any = None, _internal: bool = False) -> Any:
        if not _internal:
            _warn_typed_storage_removal()
        error = (f"{cls}.__new__ received an invalid combination of arguments. Expected one "
                 "of:\n * no arguments\n * (int size)\n * (Sequence data)\n * (*, "
                 "UntypedStorage wrap_storage)")
        if device is not None:
            raise RuntimeError(f"{error}\nKeyword argument 'device' cannot be specified")
        if dtype is not None:
            raise RuntimeError(f"{error}\nKeyword argument 'dtype' cannot be specified")
        if wrap_storage is not None:
            if args:
                raise RuntimeError(f"{error}\nNo positional arguments should be given when "
                                   "using 'wrap_storage'")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(f"{error}\nArgument 'wrap_storage' must be UntypedStorage, but "
                                f"got {type(wrap_storage)}")
            if wrap_storage.device.type != "cpu":
                raise RuntimeError(f"{error}\nDevice of 'wrap_storage' must be cpu, but got "
                                   f"{wrap_storage.device.type}")
            return TypedStorage(wrap_storage=wrap_storage, dtype=cls._dtype, _internal=True)
        if len(args) > 1:
            raise RuntimeError(f"{error}\nToo many positional arguments")
        if args and not _is_int(args[0]) and not isinstance(args[0],
                                                            collections.abc.Sequence):
            raise TypeError(f"{error}\nArgument type not recognized: {type(args[0])}")
        return TypedStorage(*args, dtype=cls._dtype, device="cpu", _internal=True)


def _legacy(name: str, dtype: dtypes.dtype) -> type:
    return _LegacyStorageMeta(name, (_LegacyStorage,), {
        "_dtype": dtype, "dtype": dtype, "__module__": "ember",
        "__doc__": f"ember.{name}: the legacy storage class of {dtype} values (a TypedStorage)."})


LEGACY_STORAGES = {name: _legacy(name, d) for d, name in _LEGACY_NAMES.items()
                   if not isinstance(d, dtypes._MissingDtype)}


