"""ember.save / ember.load: round trips, safety, atomic writes, clear errors, safetensors interop."""

from __future__ import annotations

import dataclasses
import io
import math
import os
import pickle

import numpy as np
import pytest

import ember
from ember.serialization import CheckpointError


def test_model_state_dict_round_trip(tmp_path) -> None:
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    model(ember.randn(5, 3))  # move the running statistics
    path = tmp_path / "model.safetensors"
    ember.save(model.state_dict(), path)
    loaded = ember.load(path)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    fresh = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    fresh.load_state_dict(loaded)
    fresh.eval()
    model.eval()
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_nested_structures_and_every_dtype(tmp_path) -> None:
    obj = {
        "state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.randn(2, 2)}, 1: {}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "name": None,
                          "amsgrad": False}],
        "epoch": 7,
        "best": math.inf,
        "worst": -math.inf,
        "nan": math.nan,
        "text": "ünïcode",
        "tuple_key": {(1, 2): "pair"},
        "dtypes": {name: ember.zeros(2, dtype=getattr(ember, name)) for name in
                   ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                    "uint8", "bool")},
        "scalar": ember.tensor(2.5, dtype=ember.float64),
        "empty": ember.zeros(0, 3),
        "array": np.arange(4, dtype=np.int32),
        "param": ember.nn.Parameter(ember.ones(2)),
    }
    path = tmp_path / "state.ckpt"
    ember.save(obj, path)
    back = ember.load(path)
    assert back["state"][0]["step"].item() == 3.0 and back["state"][1] == {}
    np.testing.assert_array_equal(back["state"][0]["exp_avg"].numpy(),
                                  obj["state"][0]["exp_avg"].numpy())
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["params"] == [0, 1] and back["param_groups"][0]["name"] is None
    assert back["epoch"] == 7 and back["best"] == math.inf and back["worst"] == -math.inf
    assert math.isnan(back["nan"]) and back["text"] == "ünïcode"
    assert back["tuple_key"] == {(1, 2): "pair"}
    for name, t in back["dtypes"].items():
        assert t.dtype == getattr(ember, name)
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert back["empty"].shape == (0, 3)
    np.testing.assert_array_equal(back["array"], np.arange(4))
    assert isinstance(back["param"], ember.nn.Parameter) and back["param"].requires_grad


def test_file_objects_and_map_location() -> None:
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(6).reshape(2, 3)}, buffer)
    buffer.seek(0)
    back = ember.load(buffer, map_location="cpu")
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(6).reshape(2, 3))


def test_callable_map_location_gets_each_tensor_on_the_cpu() -> None:
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(3.0)}, buffer)
    seen = []

    def mapper(storage, location):
        seen.append((storage.device.type, location))
        return storage * 2

    buffer.seek(0)
    back = ember.load(buffer, map_location=mapper)
    assert seen == [("cpu", "cpu")]
    np.testing.assert_array_equal(back["w"].numpy(), [0.0, 2.0, 4.0])


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only error")
def test_gpu_checkpoint_without_a_gpu_says_to_use_map_location(monkeypatch) -> None:
    from ember import serialization

    with pytest.raises(RuntimeError, match="map_location"):
        serialization._saved_device("cuda:0")
    assert serialization._saved_device("cpu") == ember.device("cpu")


def test_saving_objects_with_code_is_refused(tmp_path) -> None:
    with pytest.raises(TypeError, match="cannot save an object of type function"):
        ember.save({"f": lambda: 0}, tmp_path / "x")
    with pytest.raises(TypeError, match="save its state_dict"):
        ember.save(ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1), tmp_path / "x")


def test_whole_module_loads_only_when_trusted(tmp_path) -> None:
    # torch.save(model): the class name and attributes; torch.load needs weights_only=False
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.GELU(), ember.nn.Linear(3, 3))
    shared = ember.nn.Linear(3, 3)
    model.append(shared)
    model.append(shared)
    ember.save(model, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        ember.load(tmp_path / "m.pt")
    loaded = ember.load(tmp_path / "m.pt", weights_only=False)
    assert type(loaded) is ember.nn.Sequential and loaded[3] is loaded[4]
    x = ember.randn(4, 2)
    assert ember.equal(loaded(x), model(x))
    with ember.serialization.safe_globals([ember.nn.Sequential, ember.nn.Linear, ember.nn.GELU]):
        assert ember.equal(ember.load(tmp_path / "m.pt")(x), model(x))


def test_write_is_atomic(tmp_path, monkeypatch) -> None:
    path = tmp_path / "ckpt"
    ember.save({"v": ember.tensor([1.0])}, path)
    before = path.read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.tensor([2.0])}, path)
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temp file left behind
    assert ember.load(path)["v"].item() == 1.0


def test_truncated_and_foreign_files_give_clear_errors(tmp_path) -> None:
    path = tmp_path / "ckpt"
    ember.save({"w": ember.randn(100, 100)}, path)
    raw = path.read_bytes()
    (tmp_path / "cut").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        ember.load(tmp_path / "cut")
    (tmp_path / "tiny").write_bytes(b"abc")
    with pytest.raises(CheckpointError, match="not an Ember checkpoint"):
        ember.load(tmp_path / "tiny")
    (tmp_path / "zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(CheckpointError, match="torch.save"):
        ember.load(tmp_path / "zip")
    (tmp_path / "text").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        ember.load(tmp_path / "text")
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        ember.load(tmp_path / "missing")
    assert isinstance(CheckpointError("x"), RuntimeError)


def test_interoperates_with_the_safetensors_library(tmp_path) -> None:
    st = pytest.importorskip("safetensors.numpy")
    weights = {"a": ember.randn(3, 4), "b": ember.arange(5)}
    path = tmp_path / "ours.safetensors"
    ember.save(weights, path)
    theirs = st.load_file(str(path))
    np.testing.assert_array_equal(theirs["t0"], weights["a"].numpy())
    np.testing.assert_array_equal(theirs["t1"], weights["b"].numpy())
    other = tmp_path / "theirs.safetensors"
    st.save_file({"wte": np.ones((2, 3), np.float32), "h.0.b": np.zeros(3, np.float16)},
                 str(other))
    loaded = ember.load(other)  # a plain safetensors file loads as a flat dict of tensors
    assert set(loaded) == {"wte", "h.0.b"} and loaded["h.0.b"].dtype == ember.float16


# ------------------------------------------------------------------ allowed classes
@dataclasses.dataclass
class _HyperParams:
    lr: float
    sizes: list


class _Outer:
    class Inner:
        def __init__(self, value: int) -> None:
            self.value = value


def test_add_safe_globals_round_trips_registered_classes(tmp_path) -> None:
    import argparse
    import pickle

    path = tmp_path / "ckpt.pt"
    ns = argparse.Namespace(lr=0.1, layers=[1, 2], name="x")
    payload = {"args": ns, "hp": _HyperParams(0.5, [3, 4]), "w": ember.ones(2),
               "inner": _Outer.Inner(7)}
    with pytest.raises(TypeError, match="add_safe_globals"):
        ember.save(payload, path)
    try:
        ember.serialization.add_safe_globals([argparse.Namespace, _HyperParams, _Outer.Inner])
        ember.save(payload, path)
        back = ember.load(path)
        assert back["args"] == ns and back["hp"] == _HyperParams(0.5, [3, 4])
        assert back["inner"].value == 7 and back["w"].tolist() == [1.0, 1.0]
        assert set(ember.serialization.get_safe_globals()) == {
            argparse.Namespace, _HyperParams, _Outer.Inner}
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals"):
        ember.load(path)  # weights_only=True, nothing allowed: refused, as torch
    assert ember.load(path, weights_only=False)["hp"] == _HyperParams(0.5, [3, 4])
    with ember.serialization.safe_globals([argparse.Namespace, _HyperParams, _Outer.Inner]):
        assert ember.load(path)["args"].lr == 0.1
    assert ember.serialization.get_safe_globals() == []
    with pytest.raises(TypeError, match="classes"):
        ember.serialization.add_safe_globals([3])


def test_complex_tensors_round_trip(tmp_path) -> None:
    data = {"c64": ember.tensor([1 + 2j, 3 - 1j]),
            "c128": ember.tensor([[1 + 2j], [5j]], dtype=ember.complex128),
            "scalar": ember.tensor(2 + 1j, dtype=ember.complex128)}
    ember.save(data, tmp_path / "c.pt")
    back = ember.load(tmp_path / "c.pt")
    for key, value in data.items():
        assert back[key].dtype is value.dtype and back[key].shape == value.shape, key
        np.testing.assert_array_equal(back[key].numpy(), value.numpy())
