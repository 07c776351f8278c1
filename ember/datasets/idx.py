"""The IDX format of MNIST-style datasets: a magic number (two zero bytes, a type code, the
number of dimensions), the dimensions as big-endian int32, then the values, big-endian."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy

# IDX type code -> big-endian numpy dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> numpy.ndarray:
    """Read an IDX file (gzipped when its name ends in .gz) into a native-endian array."""
    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    return parse_idx(raw, path)


def parse_idx(raw: bytes, name: str = "<bytes>") -> numpy.ndarray:
    """Decode IDX bytes, checking the magic number and that the size matches the header."""
    if len(raw) < 4:
        raise ValueError(f"{name}: not an IDX file: {len(raw)} bytes, fewer than the 4-byte "
                         "magic number")
    code, ndim = raw[2], raw[3]
    if raw[0] != 0 or raw[1] != 0 or code not in IDX_TYPES:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(f"{name}: not an IDX file: magic number 0x{magic:08x} (expected two "
                         "zero bytes, a type code in "
                         f"{{{', '.join(f'0x{c:02x}' for c in IDX_TYPES)}}} and the number "
                         "of dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX file: the header of a {ndim}-dimensional "
                         f"array needs {header} bytes, the file holds {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = numpy.dtype(IDX_TYPES[code])
    count = math.prod(shape)
    expected, actual = count * dtype.itemsize, len(raw) - header
    if actual < expected:
        raise ValueError(f"{name}: truncated IDX file: the header promises {shape} values of "
                         f"{dtype.name} ({expected} bytes) but only {actual} bytes follow")
    if actual > expected:
        raise ValueError(f"{name}: corrupt IDX file: {actual - expected} unexpected bytes after "
                         f"the {shape} values the header promises")
    values = numpy.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def write_idx(path: str | os.PathLike, array: numpy.ndarray) -> None:
    """Write an array as an IDX file (gzipped if the name ends in .gz): for tests and tools."""
    array = numpy.asarray(array)
    codes = {numpy.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"IDX has no type code for {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(IDX_TYPES[code]).tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)
