"""SummaryWriter's event files: the framing and checksums by hand, and (where the tensorboard
package is installed) read back by TensorBoard's own reader."""

from __future__ import annotations

import os
import struct

import pytest

import ember
from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard.writer import _masked_crc, crc32c


def _records(path: str) -> list[bytes]:
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8:pos + 12])[0] == _masked_crc(header)
        body = data[pos + 12:pos + 12 + length]
        assert struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])[0] == \
            _masked_crc(body)
        out.append(body)
        pos += 16 + length
    return out


def test_crc32c_known_value_and_record_framing(tmp_path) -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("loss", 0.5, 3)
        assert w.get_logdir() == str(tmp_path)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].startswith("events.out.tfevents.")
    records = _records(os.path.join(tmp_path, files[0]))
    assert len(records) == 2 and b"brain.Event:2" in records[0]
    assert b"loss" in records[1] and struct.pack("<f", 0.5) in records[1]
    with pytest.raises(RuntimeError):
        w.add_scalar("after", 1.0)


def test_tensorboard_reads_what_the_writer_wrote(tmp_path) -> None:
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(str(tmp_path)) as w:
        for step in range(4):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
        w.add_histogram("w", ember.arange(100.0), 2, bins=10)
        w.add_text("note", "hello", 1)
        w.add_scalars("run", {"a": 1.0, "b": 2.0}, 5)
    acc = accumulator.EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("loss/train")] == \
        [(0, 1.0), (1, 0.5), (2, 0.333333), (3, 0.25)]
    h = acc.Histograms("w")[0].histogram_value
    assert h.num == 100 and h.min == 0 and h.max == 99 and sum(h.bucket) == 100
    assert acc.Tensors("note/text_summary")[0].tensor_proto.string_val == [b"hello"]
    sub = accumulator.EventAccumulator(os.path.join(tmp_path, "run_b"))
    sub.Reload()
    assert sub.Scalars("run")[0].value == 2.0 and sub.Scalars("run")[0].step == 5
