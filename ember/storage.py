"""Storages, the memory behind tensors: torch's `UntypedStorage`, and `Tensor.set_` on one.

An Ember tensor holds a numpy (or cupy) array, and a view shares the memory of the array that
owns it, the root of its `.base` chain. That root is the tensor's storage:
`t.untyped_storage()` reads its whole allocation as bytes (a 1-D uint8 array sharing the
memory), so views of one tensor report the same `data_ptr()` and writes through the storage
show in the tensors. `t.set_(storage, offset, size, stride)` builds a tensor over a storage.
While a storage object is alive, every tensor on the same root gets that same object back
(a weak cache keyed by the root), so `a.untyped_storage() is b.untyped_storage()` for views a
and b, as in torch; compare storages by `data_ptr()` when they may have died in between.
`TypedStorage` and the legacy `FloatStorage`... classes are in typed_storage.py.

Where Ember differs: a tensor's array cannot be moved to new memory behind its back, so
`resize_` works only on storages Ember allocated for the storage object itself
(`UntypedStorage(n)`, `clone()`, `FloatStorage(n)`...; `resizable()` says which), and
`share_memory_`/`resize_` move the tensors that asked for the storage (`untyped_storage()`,
`storage()`, `set_`) and their autograd bases to the new memory; other views keep the old.
"""

from __future__ import annotations

import collections.abc
import weakref
from typing import Any

from . import backend, dtypes
from .ops.strided import _ptr, _root
from .tensor import Tensor

_new = object.__new__
_integer = (int, backend.numpy.integer)


# ------------------------------------------------------------------ arrays over storage bytes
def _byte_view(root: Any) -> Any:
    """The whole allocation of a root array as a 1-D uint8 array sharing its memory."""
    xp = backend.module_of(root)
    if root.flags.c_contiguous or root.flags.f_contiguous:
        return root.ravel(order="K").view(xp.uint8)
    # a root with gaps or negative strides (made by stride tricks): its lowest to highest byte
    lo, hi = _extent(root)
    dims = zip(root.shape, root.strides, strict=True)
    lowest = root[tuple(slice(n - 1, n) if s < 0 else slice(0, 1) for n, s in dims)]
    return xp.lib.stride_tricks.as_strided(lowest.reshape(1).view(xp.uint8), (hi - lo,), (1,))


def _view_bytes(data: Any, np_dtype: Any, shape: tuple, strides: tuple, offset: int) -> Any:
    """An array of the given layout (strides and offset in bytes) over a storage's bytes."""
    if data.__class__ is backend.ndarray:
        return backend.ndarray(shape, np_dtype, buffer=data, offset=offset, strides=strides)
    xp = backend.module_of(data)
    return xp.ndarray(shape, np_dtype, memptr=data.data + offset, strides=strides)


def _alias(data: Any) -> Any:
    """A new root array over data's memory: a storage slice is a storage of its own."""
    xp = backend.module_of(data)
    if data.size == 0:
        return xp.empty(0, dtype=xp.uint8)
    if data.__class__ is backend.ndarray:
        return backend.numpy.frombuffer(memoryview(data), dtype=data.dtype)
    return xp.ndarray(data.shape, data.dtype, memptr=data.data)


def _extent(data: Any) -> tuple:
    """(lowest, highest + 1) byte of an array, relative to its first element."""
    if data.size == 0:
        return (0, 0)
    steps = [(n - 1) * s for n, s in zip(data.shape, data.strides, strict=True)]
    return sum(d for d in steps if d < 0), data.itemsize + sum(d for d in steps if d > 0)


# ------------------------------------------------------------------ one storage object per root
_BY_ROOT: dict = {}  # id(root array) -> weakref to its UntypedStorage


def _remember(storage: UntypedStorage) -> None:
    for key in {id(storage._base), id(storage._bytes)}:
        def forget(ref: Any, key: int = key) -> None:
            if _BY_ROOT.get(key) is ref:
                del _BY_ROOT[key]

        _BY_ROOT[key] = weakref.ref(storage, forget)


def _forget(storage: UntypedStorage) -> None:
    for key in {id(storage._base), id(storage._bytes)}:
        ref = _BY_ROOT.get(key)
        if ref is not None and ref() is storage:
            del _BY_ROOT[key]


def storage_of(t: Tensor) -> UntypedStorage:
    """Tensor.untyped_storage(): the storage object of t's root array."""
    root = _root(t._data)
    ref = _BY_ROOT.get(id(root))
    storage = ref() if ref is not None else None
    if storage is None or (storage._base is not root and storage._bytes is not root):
        storage = UntypedStorage._wrap(root, _byte_view(root), owned=False)
    storage._attach(t)
    return storage


def _owned(array: Any) -> UntypedStorage:
    """A storage over a fresh array nothing else uses (it may be resized)."""
    root = _root(array)
    return UntypedStorage._wrap(root, _byte_view(root), owned=True)


def _is_int(value: Any) -> bool:
    """A Python or numpy integer, not a bool (what storages take as sizes and indices)."""
    return isinstance(value, _integer) and not isinstance(value, bool)


def _typename(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _value_type(value: Any) -> str:
    """How torch's storage errors name a value's type: 'float', 'numpy.int64', 'Tensor'."""
    return "Tensor" if isinstance(value, Tensor) else \
        _typename(value).removeprefix("builtins.")


class _Casts:
    """float(), long(), ... on storages: a TypedStorage of the values converted to that dtype."""

    __slots__ = ()

    def _to(self, dtype: dtypes.dtype) -> TypedStorage:
        if not isinstance(dtype, dtypes.dtype):
            raise TypeError(f"Argument 'dtype' must be ember.dtype, not {type(dtype)}")
        out = self._as_tensor().to(dtype)._typed_storage()  # type: ignore[attr-defined]
        if out._data_ptr() == self._data_ptr():  # type: ignore[attr-defined]
            out = out._new_wrapped_storage(out._untyped_storage.clone())
        return out

    def double(self) -> TypedStorage:
        return self._to(dtypes.float64)

    def float(self) -> TypedStorage:
        return self._to(dtypes.float32)

    def half(self) -> TypedStorage:
        return self._to(dtypes.float16)

    def bfloat16(self) -> TypedStorage:
        return self._to(dtypes.bfloat16)

    def long(self) -> TypedStorage:
        return self._to(dtypes.int64)

    def int(self) -> TypedStorage:
        return self._to(dtypes.int32)

    def short(self) -> TypedStorage:
        return self._to(dtypes.int16)

    def char(self) -> TypedStorage:
        return self._to(dtypes.int8)

    def byte(self) -> TypedStorage:
        return self._to(dtypes.uint8)

    def bool(self) -> TypedStorage:
        return self._to(dtypes.bool_)

    def complex_float(self) -> TypedStorage:
        return self._to(dtypes.complex64)

    def complex_double(self) -> TypedStorage:
        return self._to(dtypes.complex128)


class UntypedStorage(_Casts):
    """A run of bytes that tensors view: `t.untyped_storage()`, or `UntypedStorage(n)` /
    `UntypedStorage([1, 2, 255])` for a new one.

    >>> a = ember.arange(4.0)
    >>> a.untyped_storage().data_ptr() == a[2:].untyped_storage().data_ptr()
    True
    """

    __slots__ = ("_base", "_bytes", "_owned", "_tensors", "__weakref__")
    is_sparse = False
    is_sparse_csr = False

    def __init__(self, *args: Any, device: Any = None) -> None:
        dev = backend.CPU if device is None else backend.as_device(device)
        xp = backend.module_for(dev)
        if len(args) > 1:
            raise TypeError(
                f"ember.UntypedStorage() received an invalid combination of arguments - got "
                f"({', '.join(type(a).__name__ for a in args)}), but expected one of:\n"
                " * (*, ember.device device = None)\n"
                " * (int size, *, ember.device device = None)\n"
                " * (object sequence, *, ember.device device = None)")
        arg = args[0] if args else 0
        if _is_int(arg):
            if arg < 0:
                raise RuntimeError(f"ember.UntypedStorage(): cannot allocate a negative number "
                                   f"of bytes ({int(arg)})")
            data = xp.empty(int(arg), dtype=xp.uint8)
        elif isinstance(arg, (collections.abc.Sequence, UntypedStorage)):
            values = list(arg)
            for v in values:
                if not isinstance(v, int):
                    raise RuntimeError(
                        f"ember.UntypedStorage(): tried to construct a storage from a sequence "
                        f"({type(arg).__name__}), but one of the items was of type "
                        f"{_value_type(v)} instead of int")
            data = xp.asarray(backend.numpy.array([v & 0xFF for v in values], dtype="uint8"))
        else:
            raise RuntimeError(f"ember.UntypedStorage(): Expected a sequence type, but got "
                               f"{type(arg).__name__}")
        self._base = self._bytes = data
        self._owned = True
        self._tensors: dict = {}
        _remember(self)

    @classmethod
    def _wrap(cls, base: Any, data: Any, owned: bool) -> UntypedStorage:
        storage = _new(cls)
        storage._base, storage._bytes, storage._owned, storage._tensors = base, data, owned, {}
        _remember(storage)
        return storage

    def _attach(self, t: Tensor) -> None:
        """Remember t as a tensor on this storage (share_memory_/resize_ move it along)."""
        if len(self._tensors) > 64:
            self._tensors = {k: r for k, r in self._tensors.items() if r() is not None}
        self._tensors[id(t)] = weakref.ref(t)

    def _move_to(self, data: Any) -> None:
        """Continue on new memory (a root uint8 array): the tensors that asked for this storage
        view the same bytes of it when they fit."""
        old_roots, old_ptr = (self._base, self._bytes), _ptr(self._bytes)
        tensors = [r() for r in self._tensors.values()]
        tensors += [t._view[0] for t in tensors if t is not None and t._view is not None]
        for t in tensors:
            if t is None or not any(_root(t._data) is r for r in old_roots):
                continue
            start = _ptr(t._data) - old_ptr
            lo, hi = _extent(t._data)
            if start + hi <= data.size:
                t._data = _view_bytes(data, t._data.dtype, t._data.shape, t._data.strides, start)
        _forget(self)
        self._base = self._bytes = data
        _remember(self)

    def _as_tensor(self, dtype: dtypes.dtype = dtypes.uint8) -> Tensor:
        n = self.nbytes() // dtype.itemsize
        return Tensor._make(_view_bytes(self._bytes, dtype.np, (n,), (dtype.itemsize,), 0))

    # ------------------------------------------------------------------ what it is
    @property
    def device(self) -> backend.device:
        return backend.device_of(self._bytes)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def get_device(self) -> int | None:
        return self.device.index

    def nbytes(self) -> int:
        return int(self._bytes.size)

    size = nbytes

    def __len__(self) -> int:
        return int(self._bytes.size)

    def element_size(self) -> int:
        return 1

    def data_ptr(self) -> int:
        return _ptr(self._bytes) if self._bytes.size else 0

    _data_ptr = data_ptr

    def type(self, dtype: Any = None, non_blocking: bool = False) -> str:
        if dtype is not None:
            raise NotImplementedError("UntypedStorage.type(dtype): use float(), long()... or "
                                      "ember.tensor([], dtype=...).set_(storage)")
        return _typename(self)

    def untyped(self) -> UntypedStorage:
        return self

    def is_pinned(self, device: Any = None) -> bool:
        return False

    def pin_memory(self, device: Any = None) -> UntypedStorage:
        if self.device.type != "cpu":
            raise TypeError(f"cannot pin '{self.type()}' only CPU memory can be pinned")
        return self  # as Tensor.pin_memory: host memory is already usable for copies

    # ------------------------------------------------------------------ bytes in and out
    def _index(self, idx: Any, error: type) -> int:
        if not _is_int(idx):
            raise error(f"can't index a ember.UntypedStorage with {type(idx).__name__}")
        return int(idx)

    def _span(self, idx: slice) -> tuple:
        start, stop, step = idx.indices(self.nbytes())
        if step != 1:
            raise RuntimeError(f"Trying to slice with a step of {step}, but only a step of 1 "
                               "is supported")
        return start, max(start, stop)

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            start, stop = self._span(idx)
            alias = _alias(self._bytes[start:stop])
            return UntypedStorage._wrap(alias, alias, owned=False)
        i, n = self._index(idx, TypeError), self.nbytes()
        if not -n <= i < n:
            raise IndexError(f"index {i + n if i < 0 else i} out of range for storage of size "
                             f"{n}")
        return int(self._bytes[i % n])

    def __setitem__(self, idx: Any, value: Any) -> None:
        if not isinstance(value, int):
            raise RuntimeError(f"can only set storage content with a int types, but got "
                               f"{_value_type(value)} instead")
        if isinstance(idx, slice):
            start, stop = self._span(idx)
        else:
            start = self._index(idx, RuntimeError)
            stop = start + 1
            if not 0 <= start < self.nbytes():  # no negative indices here, as torch
                raise RuntimeError("out of bounds")
        self._bytes[start:stop] = int(value) & 0xFF

    def tolist(self) -> list:
        return backend.to_numpy(self._bytes).tolist()

    def __iter__(self) -> Any:
        return iter(self.tolist())

    def fill_(self, value: Any) -> UntypedStorage:
        if not isinstance(value, int):
            raise RuntimeError(f"fill_ expects int, but got {_value_type(value)}")
        self._bytes[...] = int(value) & 0xFF
        return self

    def copy_(self, src: Any, non_blocking: bool | None = None) -> UntypedStorage:
        if isinstance(src, TypedStorage):
            src = src._untyped_storage
        if not isinstance(src, UntypedStorage):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be ember.Storage, not "
                            f"{type(src).__name__}")
        if src.nbytes() != self.nbytes():
            raise RuntimeError(f"size does not match, self was {self.nbytes()} bytes but src "
                               f"was {src.nbytes()} bytes")
        self._bytes[...] = backend.to_device(src._bytes, self.device)
        return self

    # ------------------------------------------------------------------ copies and moves
    def clone(self) -> UntypedStorage:
        return _owned(self._bytes.copy())

    def to(self, *, device: Any, non_blocking: bool = False) -> UntypedStorage:
        device = backend.as_device(device)
        if device == self.device:
            return self
        return _owned(backend.to_device(self._bytes, device).copy())

    def cpu(self) -> UntypedStorage:
        return self.to(device="cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> UntypedStorage:
        return self.to(device=f"cuda:{device}" if isinstance(device, int) else device or "cuda")

    def __copy__(self) -> UntypedStorage:
        return self.clone()

    def __deepcopy__(self, memo: dict) -> UntypedStorage:
        if id(self) not in memo:
            memo[id(self)] = self.clone()
        return memo[id(self)]

    def __reduce__(self) -> Any:
        return (_rebuild_untyped, (bytes(backend.to_numpy(self._bytes)), str(self.device)))

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + self.nbytes()

    # ------------------------------------------------------------------ sharing and resizing
    def is_shared(self) -> bool:
        from . import multiprocessing as mp  # noqa: PLC0415

        return self.is_cuda or mp.is_shared_array(self._base)

    def share_memory_(self) -> UntypedStorage:
        """Move the bytes into shared memory, so processes forked afterwards write to the
        same memory (a no-op on a GPU and when already shared, as torch)."""
        if not self.is_shared():
            from . import multiprocessing as mp  # noqa: PLC0415

            self._move_to(_root(mp.share_array(self._bytes)))
        return self

    def resizable(self) -> bool:
        """Whether resize_ works: storages Ember allocated for the storage object itself."""
        return self._owned and not self.is_shared()

    def resize_(self, size: Any) -> UntypedStorage:
        if not _is_int(size):
            raise RuntimeError(f"resize_ expects an int, but got {type(size).__name__}")
        if size < 0:
            raise RuntimeError(f"resize_: cannot resize a storage to a negative number of bytes "
                               f"({int(size)})")
        if not self.resizable():
            raise RuntimeError("Trying to resize storage that is not resizable")
        xp = backend.module_of(self._bytes)
        data = xp.empty(int(size), dtype=xp.uint8)
        keep = min(int(size), self.nbytes())
        data[:keep] = self._bytes[:keep]
        self._move_to(data)
        return self

    @classmethod
    def from_buffer(cls, buffer: Any, byte_order: str | None = None, count: int = -1,
                    offset: int = 0, *, dtype: Any = None) -> UntypedStorage:
        """A storage holding a copy of a Python buffer's bytes, read as `dtype` values in
        `byte_order` ('native', 'little' or 'big') and stored in native order."""
        if dtype is None:
            raise RuntimeError("argument 'dtype' cannot be None")
        dtype = dtypes.to_dtype(dtype)
        if byte_order is None and dtype.itemsize > 1:
            raise RuntimeError("function missing required argument 'byte_order' (pos 2)")
        orders = {"native": "=", "little": "<", "big": ">", None: "="}
        if byte_order not in orders:
            raise ValueError(f"invalid byte_order '{byte_order}' (expected 'big', 'little', or "
                             "'native')")
        np_dtype = dtype.np.newbyteorder(orders[byte_order])
        values = backend.numpy.frombuffer(buffer, dtype=np_dtype, count=count, offset=offset)
        return _owned(values.astype(dtype.np).reshape(-1))

    def __repr__(self) -> str:
        body = " " + "\n ".join(str(v) for v in self.tolist())
        return f"{body}\n[{_typename(self)}(device={self.device}) of size {len(self)}]"


def _rebuild_untyped(data: bytes, device: str) -> UntypedStorage:
    host = backend.numpy.frombuffer(data, dtype="uint8").copy()
    return _owned(backend.to_device(host, backend.as_device(device)))


def is_storage(obj: Any) -> bool:
    """Whether obj is a storage (UntypedStorage or TypedStorage), as torch.is_storage."""
    return isinstance(obj, (UntypedStorage, TypedStorage))


# ------------------------------------------------------------------ set_ on a storage
_SCALAR_NAMES = {  # torch's ScalarType names and C++ type names, for set_'s dtype error
    "float64": ("Double", "double"), "float32": ("Float", "float"),
    "float16": ("Half", "c10::Half"), "bfloat16": ("BFloat16", "c10::BFloat16"),
    "int64": ("Long", "long int"), "int32": ("Int", "int"), "int16": ("Short", "short int"),
    "int8": ("Char", "signed char"), "uint8": ("Byte", "unsigned char"),
    "bool": ("Bool", "bool"), "complex64": ("ComplexFloat", "c10::complex<float>"),
    "complex128": ("ComplexDouble", "c10::complex<double>"),
}


def array_on(storage: Any, dtype: dtypes.dtype, offset: int | None, size: Any,
             stride: Any) -> Any:
    """The array Tensor.set_(storage, offset, size, stride) gives a tensor of `dtype`: a view of
    the storage's bytes (the whole storage as a 1-D tensor when no size is given)."""
    if isinstance(storage, TypedStorage):
        if storage.dtype is not dtype:
            want, got = _SCALAR_NAMES[dtype.name][1], _SCALAR_NAMES[storage.dtype.name][0]
            raise RuntimeError(f"Expected a Storage of type {want} or an UntypedStorage, but "
                               f"got type {got} for argument 1 'storage'")
        storage = storage._untyped_storage
    itemsize = dtype.itemsize
    if size is None:
        offset, size, stride = 0, (storage.nbytes() // itemsize,), (1,)
    if len(size) != len(stride):
        raise RuntimeError(f"unequal size length ({len(size)}) and stride length "
                           f"({len(stride)})")
    if any(s < 0 for s in stride) or any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    last = sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    needed = 0 if 0 in size else offset + 1 + last
    if needed * itemsize > storage.nbytes():  # torch grows a resizable storage
        if not storage.resizable():
            raise RuntimeError("Trying to resize storage that is not resizable")
        storage.resize_(needed * itemsize)
    return _view_bytes(storage._bytes, dtype.np, tuple(size),
                       tuple(s * itemsize for s in stride), offset * itemsize)


# TypedStorage and the legacy classes live next door; ember.storage is their public home too
from .typed_storage import (  # noqa: E402,F401
    LEGACY_STORAGES,
    TypedStorage,
    _reset_warn_typed_storage_removal,
    _warn_typed_storage_removal,
)
