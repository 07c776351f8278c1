"""Reading files written by `torch.save`, without torch, and without running code.

torch's default format (since 1.6) is a zip archive: `<name>/data.pkl` is a pickle of the saved
object in which each tensor is a call `_rebuild_tensor_v2(storage, offset, size, stride, ...)`
and each storage a persistent id `('storage', FloatStorage, key, location, numel)`, whose bytes
are the record `<name>/data/<key>` (little-endian unless `<name>/byteorder` says 'big'). The
legacy format (`_use_new_zipfile_serialization=False`) is a run of pickles in one stream: a magic
number, a protocol version, system info, the object (persistent ids carry a sixth field, a view
of the storage or None), the list of storage keys, then each storage as an int64 element count
and its bytes.

A pickle is a program: its GLOBAL opcode imports any name and REDUCE calls it, so unpickling a
file from someone else can run anything (`os.system` included). This reader therefore never lets
a pickle name real code. Like torch's `weights_only=True` unpickler, it resolves only an allowlist
of globals, and each resolves to an Ember stand-in written here: torch's rebuild functions build
Ember tensors over the file's storages, torch's dtypes, devices and `Size` become Ember's, numpy
arrays and scalars are rebuilt from their bytes (numeric dtypes only), and BUILD (setting state)
is refused on classes and functions. Any other global raises an error naming it; a data class of
the script's own resolves once allowed with `ember.serialization.add_safe_globals` (or anything,
by importing it, with `weights_only=False`, for files you trust).

Tensors on one storage are views of one array, so a tensor and its slice, or tied weights, share
memory after loading, as in torch. Not readable: sparse, quantized, nested and meta tensors,
tensor subclasses, dtypes Ember lacks (uint16/32/64, float8...), TorchScript archives and whole
objects other than data (`torch.save(model)` pickles torch's module classes).
"""

from __future__ import annotations

import _compat_pickle
import io
import mmap as mmap_module
import os
import pickle
import pickletools
import struct
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy

from . import backend, dtypes
from . import checkpoint_allowlist as _allowlist
from .nn.parameter import Parameter
from .ops.strided import _check_geometry, _view_of
from .serialization import CheckpointError, _saved_device
from .size import Size
from .tensor import Tensor

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# torch's legacy storage classes (torch.FloatStorage...) -> the dtype of their elements
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "UntypedStorage": "uint8", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}
# torch's dtype names (`torch.float32`, `torch.long`...) that Ember has
_DTYPE_ALIASES = {
    "float": "float32", "double": "float64", "half": "float16", "short": "int16",
    "int": "int32", "long": "int64", "cfloat": "complex64", "cdouble": "complex128",
}
_EMBER_DTYPES = {d.name: d for d in dtypes.ALL}
_TORCH_ONLY_DTYPES = (
    "uint16", "uint32", "uint64", "complex32", "chalf", "float8_e4m3fn", "float8_e4m3fnuz",
    "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "quint8",
    "qint32", "quint4x2", "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16",
    *(f"int{n}" for n in range(1, 8)), *(f"uint{n}" for n in range(1, 8)),
)


class UnsupportedDtype:
    """A torch dtype Ember has no counterpart for: loads as a value, fails as a tensor's."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name} (not supported by Ember)"


def _ember_dtype(dtype: Any, what: str) -> dtypes.dtype:
    if isinstance(dtype, UnsupportedDtype):
        raise CheckpointError(f"ember.load: {what} has dtype torch.{dtype.name}, which Ember "
                              "does not support; convert it in torch (e.g. .float()) and re-save")
    if isinstance(dtype, dtypes._MissingDtype):
        _ = dtype.np  # raises, saying which package to install
    return dtype


# ---------------------------------------------------------------------------------------------
# Stand-ins for the globals a torch checkpoint may name
# ---------------------------------------------------------------------------------------------


class _Storage:
    """One storage of the file: a flat array of its elements that every tensor on it views."""

    def __init__(self, array: Any, dtype: Any) -> None:
        self.array = array
        self.dtype = dtype  # Ember dtype, or an UnsupportedDtype


class _StorageType:
    """torch.FloatStorage & co.: only named by a persistent id (never called)."""

    def __init__(self, name: str) -> None:
        self.name = name
        dtype = _STORAGE_DTYPES[name]
        self.dtype = _EMBER_DTYPES.get(dtype) or (
            dtypes.bfloat16 if dtype == "bfloat16" else UnsupportedDtype(dtype))


def _rebuild_tensor(storage: _Storage, storage_offset: int, size: tuple, stride: tuple,
                    dtype: Any = None) -> Tensor:
    """The tensor viewing `storage` with this geometry (in elements of its dtype)."""
    dtype = _ember_dtype(storage.dtype if dtype is None else dtype, "a tensor")
    flat = storage.array
    if flat.dtype != dtype.np:  # an UntypedStorage (bytes) read as the tensor's dtype
        flat = flat.view(dtype.np)
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    try:
        _check_geometry("ember.load", size, stride, int(storage_offset), flat.size,
                        flat.itemsize)
    except RuntimeError as exc:
        raise CheckpointError(f"ember.load: a tensor of the file lies outside its storage "
                              f"({exc})") from None
    return Tensor._make(_view_of(flat, size, stride, int(storage_offset)))


def _rebuild_tensor_v2(storage: _Storage, storage_offset: int, size: tuple, stride: tuple,
                       requires_grad: bool, backward_hooks: Any, metadata: Any = None) -> Tensor:
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    return tensor.requires_grad_(True) if requires_grad else tensor


def _rebuild_tensor_v3(storage: _Storage, storage_offset: int, size: tuple, stride: tuple,
                       requires_grad: bool, backward_hooks: Any, dtype: Any,
                       metadata: Any = None) -> Tensor:
    tensor = _rebuild_tensor(storage, storage_offset, size, stride, dtype)
    return tensor.requires_grad_(True) if requires_grad else tensor


def _rebuild_parameter(data: Tensor, requires_grad: bool, backward_hooks: Any) -> Parameter:
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data: Tensor, requires_grad: bool, backward_hooks: Any,
                                  state: Any) -> Parameter:
    return _set_state(Parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func: Callable, new_type: Any, args: tuple, state: Any) -> Any:
    # a tensor with Python attributes; subclasses other than Parameter are not Ember's
    result = func(*args)
    if new_type is Parameter and not isinstance(result, Parameter):
        result = Parameter(result, result.requires_grad)
    elif new_type not in (Tensor, Parameter):
        raise CheckpointError("ember.load: the file holds a tensor subclass, which Ember "
                              "cannot rebuild")
    return _set_state(result, state)


def _set_state(obj: Any, state: Any) -> Any:
    if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
        state = {**(state[0] or {}), **(state[1] or {})}
    for name, value in (state or {}).items():
        setattr(obj, name, value)
    return obj


def _unsupported_tensor(kind: str) -> Callable:
    def refuse(*args: Any) -> None:
        raise CheckpointError(f"ember.load: the file holds a {kind} tensor, which Ember cannot "
                              f"load from torch files; save it as a dense tensor (.to_dense(), "
                              f".dequantize(), .cpu()) in torch")
    return refuse


def _torch_device(type: Any, index: int | None = None) -> backend.device:
    return backend.device(type, index)


def _torch_size(dims: Any = ()) -> Size:
    return Size(dims)


def _codecs_encode(text: str, encoding: str = "utf-8") -> bytes:
    # protocol 2 pickles bytes as _codecs.encode(text, 'latin1'); other codecs (zlib...) refused
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _allowlist.UnsafeClassError(f"ember.load: _codecs.encode with {encoding!r} refused")
    return text.encode("latin1")


class _NumpyArray:
    """numpy's ndarray class as a pickle names it (numpy.ndarray): a marker, never called."""


class _NumpyPending:
    """A numpy array or dtype under construction: its BUILD state finishes it."""

    def __init__(self, kind: str, name: str = "") -> None:
        self.kind, self.name = kind, name


def _numpy_reconstruct(cls: Any, shape: Any, typecode: Any) -> _NumpyPending:
    if cls is not _NumpyArray:
        raise pickle.UnpicklingError("ember.load: numpy _reconstruct of a class other than "
                                     "ndarray refused")
    return _NumpyPending("array")


def _numpy_dtype(name: Any, align: bool = False, copy: bool = False) -> _NumpyPending:
    return _NumpyPending("dtype", str(name))


def _numpy_scalar(dtype: Any, raw: bytes = b"") -> Any:
    dtype = _finish_numpy_dtype(dtype)
    if len(raw) != dtype.itemsize:
        raise CheckpointError("ember.load: malformed numpy scalar")
    return numpy.frombuffer(raw, dtype)[0]


def _finish_numpy_dtype(dtype: Any) -> numpy.dtype:
    if isinstance(dtype, _NumpyPending) and dtype.kind == "dtype":
        dtype = numpy.dtype(dtype.name)
    if not isinstance(dtype, numpy.dtype) or dtype.hasobject or dtype.fields is not None:
        raise CheckpointError("ember.load: only numpy arrays of numbers, booleans and strings "
                              "load (object and structured dtypes can hold code)")
    return dtype


def _finish_numpy(pending: _NumpyPending, state: Any) -> Any:
    """numpy's __setstate__ for the dtypes and arrays its pickles build, from data only."""
    if pending.kind == "dtype":  # state: (version, byteorder, subarray, names, fields, ...)
        if state[2] is not None or state[3] is not None:
            raise CheckpointError("ember.load: structured numpy dtypes do not load")
        order = state[1] if state[1] in ("<", ">") else "="
        return _finish_numpy_dtype(pending).newbyteorder(order)
    _version, shape, dtype, fortran, raw = state  # an array: its dtype then its bytes
    dtype = _finish_numpy_dtype(dtype)
    shape = tuple(int(n) for n in shape)
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != dtype.itemsize * int(
            numpy.prod(shape)):
        raise CheckpointError("ember.load: malformed numpy array")
    return numpy.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C").copy()


def _globals() -> dict:
    """(module, name) -> the Ember object each allowed global resolves to."""
    table: dict = {
        ("collections", "OrderedDict"): OrderedDict,
        ("collections", "Counter"): Counter,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("builtins", "slice"): slice,
        ("builtins", "bytearray"): bytearray,
        ("_codecs", "encode"): _codecs_encode,
        ("torch", "Size"): _torch_size,
        ("torch", "device"): _torch_device,
        ("torch", "Tensor"): Tensor,
        ("torch._tensor", "Tensor"): Tensor,
        ("torch.nn.parameter", "Parameter"): Parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch.serialization", "_get_layout"): str,  # a sparse tensor's layout, by name
    }
    rebuild = {"_rebuild_tensor": _rebuild_tensor, "_rebuild_tensor_v2": _rebuild_tensor_v2,
               "_rebuild_tensor_v3": _rebuild_tensor_v3, "_rebuild_parameter": _rebuild_parameter,
               "_rebuild_parameter_with_state": _rebuild_parameter_with_state}
    for name, kind in (("qtensor", "quantized"), ("sparse_tensor", "sparse"),
                       ("nested_tensor", "nested"), ("meta_tensor_no_storage", "meta"),
                       ("wrapper_subclass", "subclass"), ("device_tensor_from_numpy", "device"),
                       ("device_tensor_from_cpu_tensor", "device")):
        rebuild[f"_rebuild_{name}"] = _unsupported_tensor(kind)
    table.update({("torch._utils", name): fn for name, fn in rebuild.items()})
    for name in _STORAGE_DTYPES:
        for module in ("torch", "torch.storage", "torch.cuda"):
            table[(module, name)] = _StorageType(name)
    table.update({("torch", name): dtype for name, dtype in _EMBER_DTYPES.items()})
    table[("torch", "bfloat16")] = dtypes.bfloat16  # Ember's, or one saying what to install
    table.update({("torch", alias): _EMBER_DTYPES[name] for alias, name in _DTYPE_ALIASES.items()})
    table.update({("torch", name): UnsupportedDtype(name) for name in _TORCH_ONLY_DTYPES})
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = _numpy_reconstruct
        table[(module, "scalar")] = _numpy_scalar
    table[("numpy", "ndarray")] = _NumpyArray
    table[("numpy", "dtype")] = _numpy_dtype
    return table


_GLOBALS = _globals()


# ---------------------------------------------------------------------------------------------
# The restricted unpickler
# ---------------------------------------------------------------------------------------------


class _Unpickler(pickle._Unpickler):  # the pure-Python one: its BUILD can be replaced
    """An unpickler that resolves only allowed globals (torch's weights_only unpickler)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: BinaryIO, persistent_load: Callable | None = None) -> None:
        super().__init__(file, encoding="utf-8")
        self._persistent = persistent_load

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise pickle.UnpicklingError("ember.load: unexpected persistent id in the file")
        return self._persistent(pid)

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3 and (module, name) in _compat_pickle.NAME_MAPPING:  # __builtin__...
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif self.proto < 3:
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = _GLOBALS.get((module, name))
        if found is not None:
            return found
        if module.split(".")[0] != "torch":  # a class of the script's: allowed or trusted
            try:
                return _allowlist.resolve(f"{module}.{name}", module)
            except _allowlist.UnsafeClassError:
                pass
        raise _allowlist.UnsafeClassError(
            f"ember.load: weights only load failed: the file names the global {module}.{name}, "
            "which is not allowed (loading a file must not run code). A data class of yours "
            "that you trust can be allowed with ember.serialization.add_safe_globals([...]) (or "
            "load with weights_only=False); torch objects other than tensors, storages, dtypes, "
            "devices and sizes (a whole model saved with torch.save(model)) cannot be loaded: "
            "save model.state_dict() with torch instead")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _NumpyPending):  # finished: it replaces itself, memo included
            done = _finish_numpy(inst, state)
            self.stack[-1] = done
            for key, value in self.memo.items():
                if value is inst:
                    self.memo[key] = done
            return
        if isinstance(inst, type) or (callable(inst) and not isinstance(inst, Tensor)):
            raise _allowlist.UnsafeClassError(
                f"ember.load: the file sets the state of {inst!r}, which weights only loading "
                "refuses (it could change code)")
        if isinstance(inst, Tensor):
            _set_state(inst, state)
            return
        _allowlist.restore(inst, state)

    dispatch[pickle.BUILD[0]] = load_build


# ---------------------------------------------------------------------------------------------
# Storages, the two containers, and the entry point
# ---------------------------------------------------------------------------------------------


def _place(array: Any, location: str, map_location: Any) -> Any:
    """Move a storage read on the CPU where torch would: by map_location, else where saved."""
    if callable(map_location) and not isinstance(map_location, backend.device):
        mapped = map_location(Tensor._make(array), location)  # torch's f(storage, location)
        if mapped is not None:
            return mapped._data if isinstance(mapped, Tensor) else backend.as_array(mapped)
    elif isinstance(map_location, dict):
        location = map_location.get(location, location)
    elif map_location is not None:
        return backend.to_device(array, map_location)
    return backend.to_device(array, _saved_device(location))


def _typed(raw: Any, dtype: Any, big_endian: bool) -> Any:
    """Raw little- (or big-) endian storage bytes as a flat native array of `dtype`."""
    np_dtype = numpy.dtype(numpy.uint8) if isinstance(dtype, UnsupportedDtype) else \
        _ember_dtype(dtype, "a storage").np
    if len(raw) % np_dtype.itemsize:
        raise CheckpointError("ember.load: a storage's size is not a whole number of elements")
    array = raw.view(np_dtype)
    if big_endian and np_dtype.itemsize > 1:
        array.byteswap(inplace=True)
    return array


def _storage_id(pid: Any) -> tuple:
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] in ("storage", b"storage")
            and isinstance(pid[1], _StorageType)):
        raise CheckpointError(f"ember.load: unexpected persistent id {pid!r} in the file")
    location = pid[3].decode("ascii") if isinstance(pid[3], bytes) else str(pid[3])
    return pid[1], str(pid[2]), location, int(pid[4])


def _record_offset(path: str, info: zipfile.ZipInfo) -> int | None:
    """Where a stored (uncompressed) zip member's bytes start in the file, for mmap."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _load_zip(f: Any, path: str | None, map_location: Any, use_mmap: bool) -> Any:
    with zipfile.ZipFile(f) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if not pickles:
            what = ("a TorchScript archive (torch.jit.save), which Ember cannot run"
                    if any(n.endswith("constants.pkl") for n in names)
                    else "a zip archive without data.pkl")
            raise CheckpointError(f"ember.load: the file is {what}, not a torch.save file")
        prefix = pickles[0][: -len("data.pkl")]
        big = prefix + "byteorder" in names and archive.read(prefix + "byteorder") == b"big"
        mapped = None
        if use_mmap and path is not None:
            with open(path, "rb") as handle:
                mapped = mmap_module.mmap(handle.fileno(), 0, access=mmap_module.ACCESS_COPY)
        storages: dict = {}

        def load_storage(pid: Any) -> _Storage:
            storage_type, key, location, numel = _storage_id(pid)
            if key not in storages:
                info = archive.getinfo(f"{prefix}data/{key}")
                offset = _record_offset(path, info) if mapped is not None else None
                if offset is not None:
                    raw = numpy.frombuffer(mapped, numpy.uint8, info.file_size, offset)
                else:
                    raw = numpy.empty(info.file_size, numpy.uint8)
                    with archive.open(info) as record:
                        record.readinto(memoryview(raw))
                array = _typed(raw, storage_type.dtype, big)
                storages[key] = _Storage(_place(array, location, map_location),
                                         storage_type.dtype)
            return storages[key]

        return _Unpickler(io.BytesIO(archive.read(pickles[0])), load_storage).load()


def _load_legacy(f: BinaryIO, map_location: Any) -> Any:
    """The pre-1.6 format: the object's pickle, then the storages' bytes after it."""
    if _Unpickler(f).load() != _LEGACY_MAGIC:
        raise CheckpointError("ember.load: invalid magic number; corrupt file?")
    if _Unpickler(f).load() != _LEGACY_PROTOCOL:
        raise CheckpointError("ember.load: unsupported legacy torch.save protocol version")
    sys_info = _Unpickler(f).load()
    big = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    start = f.tell()
    for _ in pickletools.genops(f):  # skip the object's pickle without running it
        pass
    keys = _Unpickler(f).load()
    data_start = f.tell()

    # first pass: which storages (dtype, size) the object uses, on zero-filled stand-ins
    found: dict = {}

    def note_storage(pid: Any) -> _Storage:
        storage_type, key, _location, numel = _storage_id(pid)
        found[key] = storage_type.dtype
        itemsize = 1 if isinstance(storage_type.dtype, UnsupportedDtype) else \
            _ember_dtype(storage_type.dtype, "a storage").itemsize
        return _Storage(_typed(numpy.zeros(numel * itemsize, numpy.uint8),
                                storage_type.dtype, False), storage_type.dtype)

    f.seek(start)
    _Unpickler(f, note_storage).load()
    raws: dict = {}
    f.seek(data_start)
    for key in keys:
        key = str(key)
        if key not in found:
            raise CheckpointError(f"ember.load: storage {key} is not used by the object")
        dtype = found[key]
        itemsize = numpy.dtype(numpy.uint8).itemsize if isinstance(dtype, UnsupportedDtype) \
            else dtype.itemsize
        (numel,) = struct.unpack(">q" if big else "<q", f.read(8))
        raw = numpy.frombuffer(bytearray(f.read(numel * itemsize)), numpy.uint8)
        if raw.size != numel * itemsize:
            raise CheckpointError("ember.load: the file is truncated")
        raws[key] = _typed(raw, dtype, big)

    storages: dict = {}

    def load_storage(pid: Any) -> _Storage:
        storage_type, key, location, _numel = _storage_id(pid)
        if key not in storages:
            storages[key] = _Storage(_place(raws[key], location, map_location),
                                     storage_type.dtype)
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return storages[key]
        view_key, offset, view_size = view  # a storage slice (torch before 1.0)
        if view_key not in storages:
            array = storages[key].array[int(offset):int(offset) + int(view_size)]
            storages[view_key] = _Storage(array, storage_type.dtype)
        return storages[view_key]

    f.seek(start)
    return _Unpickler(f, load_storage).load()


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def is_legacy(raw: bytes) -> bool:
    """Whether `raw` starts with torch's legacy magic-number pickle."""
    if raw[:1] != b"\x80":
        return False
    try:
        return _Unpickler(io.BytesIO(raw[:64])).load() == _LEGACY_MAGIC
    except Exception:  # noqa: BLE001 (any bytes that are not that pickle)
        return False


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, *,
         mmap: bool | None = None) -> Any:
    """Read a torch.save file (a path, or a binary file positioned at its start).

    `map_location` is normalized by `ember.load`: None, a device, a {saved: target} dict of
    device names, or torch's `f(storage, location)`.
    """
    path = os.fspath(f) if isinstance(f, (str, os.PathLike)) else None
    try:
        if path is not None:
            with open(path, "rb") as handle:
                head = handle.read(4)
                if is_zip(head):
                    return _load_zip(path, path, map_location, bool(mmap))
                if mmap:
                    raise RuntimeError("mmap can only be used with files saved with "
                                       "`torch.save(_use_new_zipfile_serialization=True)`, "
                                       "please torch.save your checkpoint with this option in "
                                       "order to use mmap.")
                handle.seek(0)
                return _load_legacy(io.BytesIO(handle.read()), map_location)
        if is_zip(f.read(4)):
            f.seek(-4, io.SEEK_CUR)
            return _load_zip(f, None, map_location, False)
        f.seek(-4, io.SEEK_CUR)
        return _load_legacy(f, map_location)
    except (pickle.UnpicklingError, EOFError, KeyError, zipfile.BadZipFile,
            struct.error) as exc:
        if isinstance(exc, _allowlist.UnsafeClassError):
            raise
        raise CheckpointError(f"ember.load: corrupt torch.save file ({type(exc).__name__}: "
                              f"{exc})") from None
