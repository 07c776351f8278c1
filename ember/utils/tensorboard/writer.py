"""SummaryWriter (torch.utils.tensorboard's API): scalars, groups of scalars, histograms and
text into a TensorBoard event file under `log_dir` (default runs/DATETIME_HOSTNAME).

Event file layout (TFRecord): for each record, uint64 length, masked CRC-32C of the length,
the bytes of an `Event` protobuf, masked CRC-32C of those bytes. The protobuf fields used:
Event{wall_time=1 double, step=2 int64, file_version=3 string, summary=5 Summary},
Summary{value=1 repeated Value}, Value{tag=1 string, simple_value=2 float, histo=5, tensor=8},
HistogramProto{min=1, max=2, num=3, sum=4, sum_squares=5 doubles, bucket_limit=6, bucket=7
packed doubles}.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from datetime import datetime
from typing import Any

from ... import backend

# ------------------------------------------------------------------ CRC-32C (Castagnoli)
_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# ------------------------------------------------------------------ protobuf wire format
def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 as two's complement
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _double_field(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def _float_field(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(value))


def _packed_doubles(field: int, values: Any) -> bytes:
    return _bytes_field(field, b"".join(struct.pack("<d", float(v)) for v in values))


def _event(wall_time: float, step: int | None = None, *, file_version: str | None = None,
           values: list[bytes] | None = None) -> bytes:
    out = _double_field(1, wall_time)
    if step is not None:
        out += _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if values:
        out += _bytes_field(5, b"".join(_bytes_field(1, v) for v in values))
    return out


def _scalar_value(tag: str, value: float) -> bytes:
    return _bytes_field(1, tag.encode()) + _float_field(2, value)


def _text_value(tag: str, text: str) -> bytes:
    """A string tensor with the 'text' plugin's metadata, as torch writes text."""
    plugin = _bytes_field(1, b"text")  # PluginData{plugin_name=1}
    metadata = _bytes_field(1, plugin)  # SummaryMetadata{plugin_data=1}
    shape = _bytes_field(2, _key(1, 0) + _varint(1))  # TensorShapeProto{dim=2 {size=1}}
    tensor = _key(1, 0) + _varint(7) + shape + _bytes_field(8, text.encode())  # DT_STRING
    return _bytes_field(1, f"{tag}/text_summary".encode()) + _bytes_field(9, metadata) + \
        _bytes_field(8, tensor)


def _to_host(values: Any) -> Any:
    from ...tensor import Tensor  # noqa: PLC0415

    if isinstance(values, Tensor):
        return backend.to_numpy(values.detach()._data)
    return backend.numpy.asarray(values)


def _histogram_value(tag: str, values: Any, bins: Any) -> bytes:
    np_ = backend.numpy
    data = _to_host(values).astype("float64").reshape(-1)
    if data.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    counts, edges = np_.histogram(data, bins=bins)
    histo = (_double_field(1, data.min()) + _double_field(2, data.max())
             + _double_field(3, data.size) + _double_field(4, data.sum())
             + _double_field(5, (data * data).sum()) + _packed_doubles(6, edges[1:])
             + _packed_doubles(7, counts))
    return _bytes_field(1, tag.encode()) + _bytes_field(5, histo)


# ------------------------------------------------------------------ the writer
class SummaryWriter:
    """Logs to `log_dir/events.out.tfevents.<time>.<host>.<pid>.<n>`; call close() (or use it
    as a context manager) to flush."""

    _counter = 0

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step: Any = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        SummaryWriter._counter += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{SummaryWriter._counter}{filename_suffix}")
        self.path = os.path.join(self.log_dir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._pending = 0
        self.max_queue, self.flush_secs, self._last_flush = max_queue, flush_secs, time.time()
        self._write(_event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def get_logdir(self) -> str:
        return self.log_dir

    def _write(self, event: bytes) -> None:
        if self._file is None:
            raise RuntimeError("SummaryWriter: the writer is closed")
        header = struct.pack("<Q", len(event))
        self._file.write(header + struct.pack("<I", _masked_crc(header)) + event
                         + struct.pack("<I", _masked_crc(event)))
        self._pending += 1
        if self._pending >= self.max_queue or time.time() - self._last_flush > self.flush_secs:
            self.flush()

    def _walltime(self, walltime: float | None) -> float:
        return time.time() if walltime is None else float(walltime)

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        value = float(_to_host(scalar_value).reshape(-1)[0])
        self._write(_event(self._walltime(walltime), global_step,
                           values=[_scalar_value(tag, value)]))

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """One run per key, in log_dir/<main_tag>_<key>, as torch lays them out."""
        for key, value in tag_scalar_dict.items():
            sub = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            writers = self.__dict__.setdefault("_sub_writers", {})
            if sub not in writers:
                writers[sub] = SummaryWriter(sub)
            writers[sub].add_scalar(main_tag, value, global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        if bins == "tensorflow":
            bins = 30 if max_bins is None else max_bins
        self._write(_event(self._walltime(walltime), global_step,
                           values=[_histogram_value(tag, values, bins)]))

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        self._write(_event(self._walltime(walltime), global_step,
                           values=[_text_value(tag, text_string)]))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._pending, self._last_flush = 0, time.time()
        for w in self.__dict__.get("_sub_writers", {}).values():
            w.flush()

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None
        for w in self.__dict__.get("_sub_writers", {}).values():
            w.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
