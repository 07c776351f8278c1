"""ember.save / ember.load: checkpoints that cannot run code when loaded.

A checkpoint is one safetensors file: an 8-byte little-endian header length, a JSON header
naming each tensor's dtype, shape and byte range, then the raw tensor bytes. The rest of the
saved object (nested dicts, lists, numbers, strings: a model's, an optimizer's or a scheduler's
state_dict, the epoch...) is stored as JSON in the header's `__metadata__`, with each tensor
replaced by a reference. Nothing is unpickled, so loading a file from someone else is safe.
Tensors viewing the same memory with the same layout (tied weights) are stored once and load
sharing one array, as torch's shared storages do; other views of one storage (a tensor and its
slice) load as separate copies, since the format holds tensors' values rather than storages.

The format is the one the `safetensors` library reads and writes (its tensor part is readable
there as is); Ember implements it directly (about 100 lines) because checkpointing must work
with numpy alone, and `safetensors` would be one more dependency for reading a JSON header.

Writes go to a temporary file in the same directory, are flushed to disk, and then renamed over
the target: a crash mid-write leaves the previous checkpoint intact, never a torn one.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import tempfile
from collections import OrderedDict
from types import BuiltinFunctionType, FunctionType
from typing import Any, BinaryIO

import numpy

from . import backend, dtypes
from . import checkpoint_allowlist as _allowlist
from .checkpoint_allowlist import (  # noqa: F401 (torch.serialization's names)
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from .nn.modules.module import Module
from .size import Size
from .tensor import Tensor

FORMAT = "ember-checkpoint"
FORMAT_VERSION = 1

_DTYPE_CODES = {
    "float16": "F16", "float32": "F32", "float64": "F64", "int8": "I8", "int16": "I16",
    "int32": "I32", "int64": "I64", "uint8": "U8", "bool": "BOOL", "complex64": "C64",
    "bfloat16": "BF16",
}
_CODE_DTYPES = {code: numpy.dtype(name) for name, code in _DTYPE_CODES.items()
                if name != "bfloat16"}
if backend.BFLOAT16 is not None:  # ml_dtypes' bfloat16 (safetensors BF16)
    _CODE_DTYPES["BF16"] = backend.BFLOAT16


class CheckpointError(RuntimeError):
    """A file that is not a readable Ember/safetensors checkpoint."""


# ---------------------------------------------------------------------------------------------
# Encoding the object structure as JSON
# ---------------------------------------------------------------------------------------------


class _Encoder:
    def __init__(self) -> None:
        self.tensors: dict = {}  # name -> host array
        self.names: dict = {}  # a tensor's memory and layout -> the name its values went under
        self.seen: dict = {}  # id -> number of a tensor or module met before (kept alive)

    def encode(self, obj: Any) -> Any:
        if isinstance(obj, (Tensor, Module)):  # met again (tied weights): the same object
            seen = self.seen.get(id(obj))
            if seen is not None:
                return {"__ref__": seen[0]}
            self.seen[id(obj)] = (len(self.seen), obj)
            node = self._encode_new(obj)
            node["__id__"] = self.seen[id(obj)][0]
            return node
        return self._encode_new(obj)

    def _encode_new(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            data = obj._data
            # tensors viewing the same memory the same way (tied weights) are stored once and
            # load as one array: they share memory again, as torch's shared storages
            key = (obj.data_ptr(), data.dtype.str, data.shape, data.strides, str(obj.device))
            name = self.names.get(key) if data.size else None
            node = {"__tensor__": name or f"t{len(self.tensors)}"}
            if data.dtype == numpy.complex128:  # safetensors has C64 only: (..., 2) float64
                node["complex128"] = True
            if name is None:
                name = self.names[key] = node["__tensor__"]
                array = _contiguous(backend.to_numpy(data))
                if node.get("complex128"):
                    array = numpy.stack([array.real, array.imag], axis=-1)
                self.tensors[name] = array
            if obj.device.type != "cpu":  # so that a map_location dict can map it
                node["device"] = str(obj.device)
            if obj.requires_grad:
                node["requires_grad"] = True
            if type(obj).__name__ == "Parameter":
                node["parameter"] = True
            return node
        if backend.is_array(obj):
            name = f"t{len(self.tensors)}"
            self.tensors[name] = _contiguous(backend.to_numpy(obj))
            return {"__ndarray__": name}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, numpy.generic):
            return self.encode(obj.item())
        if isinstance(obj, dtypes.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, backend.device):
            return {"__device__": str(obj)}
        if isinstance(obj, Size):
            return {"__size__": [int(v) for v in obj]}
        if isinstance(obj, OrderedDict):  # state_dicts: loaded back as OrderedDict, as torch's
            return {"__odict__": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in obj):
                return {k: self.encode(v) for k, v in obj.items()}
            return {"__dict__": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v) for v in obj]}
        if isinstance(obj, list):
            return [self.encode(v) for v in obj]
        if isinstance(obj, (set, frozenset)):
            return {"__set__": [self.encode(v) for v in obj]}
        allowed = _allowlist.saved_name(obj)
        if allowed is not None:  # a class the script registered with add_safe_globals
            return {"__object__": allowed, "module": type(obj).__module__,
                    "state": self.encode(_allowlist.state_of(obj))}
        if isinstance(obj, Module):  # torch.save(model): its class name and attributes, which
            # load rebuilds only with weights_only=False (or the class allowed), as torch
            return {"__object__": _allowlist.class_name(type(obj)), "module": type(obj).__module__,
                    "state": self.encode(_allowlist.state_of(obj))}
        if isinstance(obj, (type, FunctionType, BuiltinFunctionType)) and _allowlist.is_global(obj):
            # a module's activation function or a class it holds: saved by name, as pickle
            return {"__global__": _allowlist.class_name(obj), "module": obj.__module__}
        if hasattr(obj, "state_dict") and callable(obj.state_dict):
            raise TypeError(
                f"ember.save: cannot save a {type(obj).__name__} object itself; save its "
                "state_dict() instead (checkpoints hold data, never code)"
            )
        raise TypeError(
            f"ember.save: cannot save an object of type {type(obj).__name__}; checkpoints hold "
            "tensors, arrays, numbers, strings, None, and dicts/lists/tuples of them (allow a "
            f"data class with ember.serialization.add_safe_globals([{type(obj).__name__}]))"
        )


def _contiguous(array: numpy.ndarray) -> numpy.ndarray:
    # not numpy.ascontiguousarray: it turns 0-d arrays into 1-d ones
    return array if array.flags.c_contiguous else array.copy(order="C")


def _saved_device(name: str) -> backend.device:
    dev = backend.device(name)
    if dev.type == "cuda" and not backend.cuda_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU.")
    return dev


def _decode(node: Any, tensors: dict, device: Any) -> Any:
    if isinstance(node, list):
        return [_decode(v, tensors, device) for v in node]
    if not isinstance(node, dict):
        return node
    if "__ref__" in node:  # a tensor or module met before: the same object
        return tensors.memo[node["__ref__"]]
    if "__id__" in node:
        node = dict(node)
        number = node.pop("__id__")
        if "__object__" in node:  # a module: known before its attributes (cycles, sharing)
            obj = _allowlist.rebuild(node["__object__"], node["module"], None)
            tensors.memo[number] = obj
            return _allowlist.restore(obj, _decode(node["state"], tensors, device))
        obj = tensors.memo[number] = _decode(node, tensors, device)
        return obj
    if "__global__" in node:
        return _allowlist.resolve(node["__global__"], node["module"])
    if "__tensor__" in node:
        data = tensors[node["__tensor__"]]
        if node.get("complex128"):
            data = numpy.ascontiguousarray(data).view(numpy.complex128).reshape(data.shape[:-1])
        target = device
        if callable(device) and not isinstance(device, backend.device):
            # torch's map_location(storage, location): the storage arrives on the CPU
            mapped = device(Tensor._make(backend.to_numpy(data)), node.get("device", "cpu"))
            data, target = (mapped._data if isinstance(mapped, Tensor) else mapped), None
        elif isinstance(device, dict):  # map_location={'cuda:0': 'cpu'}: by the saved device
            saved = node.get("device", "cpu")
            target = device.get(saved)
            target = backend.as_device(target) if target is not None else None
        elif target is None and "device" in node:  # no map_location: back where it was saved
            target = _saved_device(node["device"])
        if target is not None:
            moved = getattr(tensors, "moved", {})  # arrays stored once load as one array
            key = (node["__tensor__"], str(target))
            if key not in moved:
                moved[key] = backend.to_device(data, target)
            data = moved[key]
        t = Tensor._make(data)
        if node.get("parameter"):
            from .nn.parameter import Parameter  # noqa: PLC0415

            return Parameter(t, requires_grad=node.get("requires_grad", False))
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in node:
        return tensors[node["__ndarray__"]]
    if "__float__" in node:
        return float(node["__float__"])
    if "__tuple__" in node:
        return tuple(_decode(v, tensors, device) for v in node["__tuple__"])
    if "__odict__" in node:
        return OrderedDict((_hashable(_decode(k, tensors, device)), _decode(v, tensors, device))
                           for k, v in node["__odict__"])
    if "__dtype__" in node:
        return dtypes.to_dtype(node["__dtype__"])
    if "__device__" in node:
        return backend.device(node["__device__"])
    if "__size__" in node:
        return Size(node["__size__"])
    if "__object__" in node:
        return _allowlist.rebuild(node["__object__"], node["module"],
                                    _decode(node["state"], tensors, device))
    if "__set__" in node:
        return {_decode(v, tensors, device) for v in node["__set__"]}
    if "__dict__" in node:
        return {_hashable(_decode(k, tensors, device)): _decode(v, tensors, device)
                for k, v in node["__dict__"]}
    return {k: _decode(v, tensors, device) for k, v in node.items()}


class _Arrays(dict):
    """A checkpoint's arrays by name, and those already moved to a device by (name, device):
    tensors stored as one array load sharing one array on any device."""

    def __init__(self) -> None:
        super().__init__()
        self.moved: dict = {}
        self.memo: dict = {}  # tensors and modules by number: those saved once load as one


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


# ---------------------------------------------------------------------------------------------
# The safetensors container
# ---------------------------------------------------------------------------------------------


def _serialize(obj: Any) -> bytes:
    encoder = _Encoder()
    structure = encoder.encode(obj)
    header: dict = {"__metadata__": {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "structure": json.dumps(structure, separators=(",", ":")),
    }}
    offset = 0
    blobs = []
    for name, array in encoder.tensors.items():
        if array.dtype.name not in _DTYPE_CODES:
            raise TypeError(f"ember.save: unsupported dtype {array.dtype} for tensor {name}")
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPE_CODES[array.dtype.name], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # safetensors aligns the data on 8 bytes
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)


def _describe(source: Any) -> str:
    return f"'{source}'" if isinstance(source, (str, os.PathLike)) else "the file object"


def _parse(raw: bytes, source: Any, device: Any) -> Any:
    where = _describe(source)
    if len(raw) < 8:
        raise CheckpointError(f"{where} is not an Ember checkpoint: it has only {len(raw)} "
                              "bytes (a checkpoint starts with an 8-byte header length)")
    (head_len,) = struct.unpack("<Q", raw[:8])
    if head_len > len(raw) - 8:
        raise CheckpointError(f"{where} is not an Ember checkpoint (or is truncated): its header "
                              f"claims {head_len} bytes but the file has {len(raw) - 8} after "
                              "the length field. The file may be truncated; Ember also reads "
                              "torch.save files (zip or legacy format), and this is neither.")
    try:
        header = json.loads(raw[8:8 + head_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where} is not an Ember checkpoint: its header is not valid "
                              f"JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where} is not an Ember checkpoint: unexpected header")
    data = memoryview(raw)[8 + head_len:]
    meta = header.pop("__metadata__", None) or {}
    tensors = _Arrays()
    for name, info in header.items():
        if isinstance(info, dict) and info.get("dtype") == "BF16" and backend.BFLOAT16 is None:
            raise CheckpointError(f"{where}: tensor '{name}' is bfloat16, which needs the "
                                  "ml_dtypes package: pip install ml_dtypes")
        try:
            dtype = _CODE_DTYPES[info["dtype"]]
            start, end = info["data_offsets"]
            shape = tuple(info["shape"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{where}: tensor '{name}' has an unsupported or malformed "
                                  f"entry {info!r}") from None
        if end > len(data):
            raise CheckpointError(f"{where} is truncated: tensor '{name}' needs bytes "
                                  f"{start}..{end} of the data section, which has only "
                                  f"{len(data)} bytes")
        count = int(numpy.prod(shape)) if shape else 1
        if (end - start) != count * dtype.itemsize:
            raise CheckpointError(f"{where}: tensor '{name}' has {end - start} bytes for shape "
                                  f"{list(shape)} of {dtype}")
        array = numpy.frombuffer(data[start:end], dtype=dtype.newbyteorder("<")).astype(
            dtype, copy=True).reshape(shape)
        tensors[name] = array
    if meta.get("format") != FORMAT:  # a plain safetensors file: a flat dict of tensors
        return {name: _decode({"__tensor__": name}, tensors, device) for name in tensors}
    try:
        structure = json.loads(meta["structure"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where}: corrupt checkpoint structure ({exc})") from None
    return _decode(structure, tensors, device)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save tensors and state_dicts (nested in dicts/lists/tuples) to a path or binary file.

    Writing to a path is atomic: the file is written next to the target and renamed over it.
    """
    payload = _serialize(obj)
    if not isinstance(f, (str, os.PathLike)):
        f.write(payload)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ember-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, pickle_module: Any = None,
         *, weights_only: bool = True, mmap: bool | None = None, **kwargs: Any) -> Any:
    """Load what `save` wrote (or any safetensors file, as a dict of tensors), or a file written
    by `torch.save` (see torch_format.py: read without running code, as torch's weights_only).

    Without `map_location` every tensor goes back to the device it was saved from (as torch);
    `map_location` moves every tensor to a device ('cpu', 'cuda', ...), or maps saved devices
    to devices ({'cuda:0': 'cpu'}).
    """
    if isinstance(map_location, dict):
        device: Any = {str(k): str(v) for k, v in map_location.items()}
    elif map_location is not None and not callable(map_location):
        device = backend.as_device(map_location)
    else:
        device = map_location  # None or torch's map_location(storage, location) function
    from . import torch_format  # noqa: PLC0415 (it imports this module)

    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise FileNotFoundError(f"ember.load: no such checkpoint file: '{os.fspath(f)}'")
        with open(f, "rb") as handle:
            raw = handle.read(4)
            if not torch_format.is_zip(raw):  # a torch zip archive is read member by member
                raw += handle.read()
    elif isinstance(f, (bytes, bytearray)):
        raw = bytes(f)
    else:
        raw = f.read()
    with _allowlist.trusting(not weights_only):
        if torch_format.is_zip(raw) or torch_format.is_legacy(raw):  # written by torch.save
            source = f if isinstance(f, (str, os.PathLike)) else io.BytesIO(raw)
            return torch_format.load(source, device, mmap=mmap)
        return _parse(raw, f, device)


def save_to_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    save(obj, buffer)
    return buffer.getvalue()
