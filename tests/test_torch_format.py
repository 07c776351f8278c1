"""ember.load on files written by the real torch.save (ember/torch_format.py)."""

import argparse
import io
import pickle
import zipfile

import numpy as np
import pytest
import torch  # noqa: TID251 (the oracle writes the files under test)

import ember
from ember.serialization import CheckpointError, add_safe_globals, clear_safe_globals

DTYPES = ["float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
          "uint8", "bool", "complex64", "complex128"]


def _saved(tmp_path, obj, name="w.pt", **kwargs):
    path = tmp_path / name
    torch.save(obj, path, **kwargs)
    return path


def _same(ember_tensor, torch_tensor):
    """Same dtype, shape, strides, storage offset and values."""
    assert isinstance(ember_tensor, ember.Tensor)
    assert ember_tensor.dtype.name == str(torch_tensor.dtype).removeprefix("torch.")
    assert tuple(ember_tensor.shape) == tuple(torch_tensor.shape)
    assert ember_tensor.stride() == torch_tensor.stride()
    assert ember_tensor.storage_offset() == torch_tensor.storage_offset()
    if torch_tensor.dtype == torch.bfloat16:
        ember_tensor, torch_tensor = ember_tensor.float(), torch_tensor.float()
    np.testing.assert_array_equal(ember_tensor.numpy(), torch_tensor.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("legacy", [False, True])
def test_dtypes_and_values(tmp_path, dtype, legacy):
    t = torch.randn(3, 4, dtype=torch.float64) * 50
    t = (torch.complex(t, -t) if dtype.startswith("complex") else t).to(getattr(torch, dtype))
    path = _saved(tmp_path, {"t": t}, _use_new_zipfile_serialization=not legacy)
    _same(ember.load(path)["t"], t)


def test_layouts_0d_empty_transposed_sliced(tmp_path):
    base = torch.arange(24.0).reshape(4, 6)
    tensors = {"scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3, dtype=torch.int64),
               "transposed": base.t(), "sliced": base[1:, ::2], "column": base[:, 4]}
    loaded = ember.load(_saved(tmp_path, tensors))
    assert set(loaded) == set(tensors)
    for name, t in tensors.items():
        _same(loaded[name], t)
    assert not loaded["transposed"].is_contiguous()


@pytest.mark.parametrize("legacy", [False, True])
def test_views_of_one_storage_share_memory(tmp_path, legacy):
    base = torch.arange(12.0).reshape(3, 4)
    tied = torch.ones(2)
    obj = {"base": base, "slice": base[1:], "t": base.t(), "tied_a": tied, "tied_b": tied}
    loaded = ember.load(_saved(tmp_path, obj, _use_new_zipfile_serialization=not legacy))
    loaded["slice"][0, 0] = -1.0  # base[1, 0]
    assert loaded["base"][1, 0].item() == -1.0
    assert loaded["t"][0, 1].item() == -1.0
    assert loaded["tied_a"] is loaded["tied_b"]
    assert loaded["slice"].untyped_storage().data_ptr() == \
        loaded["base"].untyped_storage().data_ptr()
    assert loaded["slice"].storage_offset() == 4


def test_parameters_and_requires_grad(tmp_path):
    obj = {"p": torch.nn.Parameter(torch.randn(2, 3)),
           "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
           "leaf": torch.randn(2).requires_grad_(), "plain": torch.randn(2)}
    loaded = ember.load(_saved(tmp_path, obj))
    assert isinstance(loaded["p"], ember.nn.Parameter) and loaded["p"].requires_grad
    assert isinstance(loaded["frozen"], ember.nn.Parameter)
    assert not loaded["frozen"].requires_grad
    assert not isinstance(loaded["leaf"], ember.nn.Parameter) and loaded["leaf"].requires_grad
    assert not loaded["plain"].requires_grad
    for name in obj:
        _same(loaded[name].detach(), obj[name].detach())


def test_containers_and_python_values(tmp_path):
    obj = [1, 2.5, "s", None, True, (1, (2, 3)), {4, 5}, frozenset({6}), 1 + 2j, slice(1, 9, 2),
           b"raw", torch.Size([2, 3]), torch.device("cpu"), torch.float16, torch.long,
           {"nested": [torch.arange(3)]}]
    loaded = ember.load(_saved(tmp_path, obj))
    assert loaded[:11] == obj[:11]
    assert isinstance(loaded[11], ember.Size) and tuple(loaded[11]) == (2, 3)
    assert loaded[12] == ember.device("cpu")
    assert loaded[13] is ember.float16 and loaded[14] is ember.int64
    _same(loaded[15]["nested"][0], obj[15]["nested"][0])


def test_numpy_values(tmp_path):
    obj = {"acc": np.float64(0.75), "arr": np.arange(6, dtype=">i4").reshape(2, 3),
           "f": np.ones((2, 2), order="F", dtype=np.float32)}
    loaded = ember.load(_saved(tmp_path, obj))
    assert loaded["acc"] == 0.75 and isinstance(loaded["acc"], np.float64)
    np.testing.assert_array_equal(loaded["arr"], obj["arr"])
    np.testing.assert_array_equal(loaded["f"], obj["f"])


def test_file_objects_and_map_location(tmp_path):
    t = torch.randn(3)
    buffer = io.BytesIO()
    torch.save({"t": t}, buffer)
    buffer.seek(0)
    _same(ember.load(buffer)["t"], t)
    path = _saved(tmp_path, {"t": t})
    seen = []
    for where in ["cpu", ember.device("cpu"), {"cpu": "cpu"},
                  lambda storage, location: seen.append(location) or storage]:
        _same(ember.load(path, map_location=where, weights_only=True)["t"], t)
    assert seen == ["cpu"]


def test_map_location_of_a_gpu_checkpoint(tmp_path):
    t = torch.randn(3)
    cpu_file = _saved(tmp_path, {"t": t})
    gpu_file = tmp_path / "gpu.pt"  # the same file as a GPU machine writes it: location cuda:0
    with zipfile.ZipFile(cpu_file) as src, zipfile.ZipFile(gpu_file, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(name, data)
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            ember.load(gpu_file)
    seen = []
    for where in ["cpu", {"cuda:0": "cpu"}, lambda s, location: seen.append(location) or s]:
        loaded = ember.load(gpu_file, map_location=where)["t"]
        assert loaded.device == ember.device("cpu")
        _same(loaded, t)
    assert seen == ["cuda:0"]


def test_mmap_reads_without_changing_the_file(tmp_path):
    t = torch.arange(5.0)
    path = _saved(tmp_path, {"t": t})
    loaded = ember.load(path, mmap=True)["t"]
    _same(loaded, t)
    loaded.add_(1)
    _same(ember.load(path)["t"], t)
    with pytest.raises(RuntimeError, match="mmap"):
        ember.load(_saved(tmp_path, t, "old.pt", _use_new_zipfile_serialization=False),
                   mmap=True)


def test_big_endian_archive(tmp_path):
    t = {"f": torch.randn(4, dtype=torch.float64), "i": torch.arange(3, dtype=torch.int32)}
    little = _saved(tmp_path, t)
    big = tmp_path / "big.pt"
    with zipfile.ZipFile(little) as src, zipfile.ZipFile(big, "w") as dst:
        dtypes = {"0": np.float64, "1": np.int32}  # keys in the order torch saved them
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in name:
                data = np.frombuffer(data, dtypes[name.rsplit("/", 1)[1]]).byteswap().tobytes()
            dst.writestr(name, data)
    loaded = ember.load(big)
    _same(loaded["f"], t["f"])
    _same(loaded["i"], t["i"])


class Block:
    """One residual block (conv-bn-relu-conv-bn + skip), for torch.nn or ember.nn."""

    @staticmethod
    def make(nn):
        class Residual(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(channels)
                self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(channels)

            def forward(self, x):
                out = self.bn1(self.conv1(x)).relu()
                return (self.bn2(self.conv2(out)) + x).relu()

        return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4),
                             nn.ReLU(), Residual(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(4, 5))


def _trained_torch_model():
    torch.manual_seed(0)
    model = Block.make(torch.nn)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):  # moves the BatchNorm running stats and fills Adam's state
        optimizer.zero_grad()
        model(torch.randn(4, 3, 8, 8)).square().mean().backward()
        optimizer.step()
    return model, optimizer


def test_resnet_state_dict_gives_the_same_outputs(tmp_path):
    model, _ = _trained_torch_model()
    state = ember.load(_saved(tmp_path, model.state_dict()))
    assert state._metadata == model.state_dict()._metadata  # BatchNorm's version included
    ember_model = Block.make(ember.nn)
    ember_model.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    model.eval()
    ember_model.eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = ember_model(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert ember_model[1].num_batches_tracked.item() == 3


def test_checkpoint_with_optimizer_resumes_like_torch(tmp_path):
    model, optimizer = _trained_torch_model()
    path = _saved(tmp_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "epoch": 3})
    checkpoint = ember.load(path)
    assert checkpoint["epoch"] == 3
    ember_model = Block.make(ember.nn)
    ember_model.load_state_dict(checkpoint["model"])
    ember_optimizer = ember.optim.Adam(ember_model.parameters(), lr=0.5)
    ember_optimizer.load_state_dict(checkpoint["optimizer"])
    assert ember_optimizer.param_groups[0]["lr"] == 0.01
    x = np.random.default_rng(1).standard_normal((4, 3, 8, 8)).astype(np.float32)
    optimizer.zero_grad()
    model(torch.from_numpy(x)).square().mean().backward()
    optimizer.step()
    ember_optimizer.zero_grad()
    ember_model(ember.from_numpy(x)).square().mean().backward()
    ember_optimizer.step()
    for (name, p), q in zip(model.named_parameters(), ember_model.parameters(), strict=True):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)


# ------------------------------------------------------------------------- refused files


class Hyper:  # a class of the script's own
    def __init__(self, lr):
        self.lr = lr


def _write_marker(path):
    open(path, "w").close()


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_write_marker, (self.marker,))


def test_disallowed_globals_are_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    path = _saved(tmp_path, {"w": torch.ones(1), "x": Exploit(str(marker))})
    with pytest.raises(pickle.UnpicklingError, match="weights_only") as info:
        ember.load(path)
    assert "add_safe_globals" in str(info.value) and "_write_marker" in str(info.value)
    assert not marker.exists()


def test_allowed_class_loads(tmp_path):
    path = _saved(tmp_path, {"args": argparse.Namespace(lr=0.1), "h": Hyper(0.5)})
    with pytest.raises(pickle.UnpicklingError, match="argparse.Namespace"):
        ember.load(path)
    add_safe_globals([argparse.Namespace, Hyper])
    try:
        loaded = ember.load(path)
    finally:
        clear_safe_globals()
    assert loaded["args"] == argparse.Namespace(lr=0.1)
    assert isinstance(loaded["h"], Hyper) and loaded["h"].lr == 0.5
    assert ember.load(path, weights_only=False)["args"].lr == 0.1


def _archive_with_pickle(tmp_path, payload):
    """A torch zip archive whose data.pkl is `payload` (hand-written opcodes)."""
    path = tmp_path / "crafted.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("crafted/data.pkl", payload)
        archive.writestr("crafted/byteorder", "little")
        archive.writestr("crafted/version", "3\n")
    return path


@pytest.mark.parametrize("payload, match", [
    (b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.", "posix.system"),
    (b"\x80\x02ccollections\nOrderedDict\n}X\x01\x00\x00\x00a\x88sb.", "sets the state"),
    (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.", "zlib"),
])
def test_crafted_pickles_are_refused(tmp_path, payload, match):
    with pytest.raises(pickle.UnpicklingError, match=match):
        ember.load(_archive_with_pickle(tmp_path, payload))


def test_unsupported_contents_raise_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="uint16"):
        ember.load(_saved(tmp_path, torch.ones(2, dtype=torch.uint16)))
    with pytest.raises(CheckpointError, match="sparse"):
        ember.load(_saved(tmp_path, torch.eye(2).to_sparse(), "sparse.pt"))
    with pytest.raises(pickle.UnpicklingError, match="state_dict"):
        ember.load(_saved(tmp_path, torch.nn.Linear(2, 2), "model.pt"))


def test_files_of_neither_format(tmp_path):
    (tmp_path / "text.pt").write_bytes(b"hello, this is not a checkpoint at all")
    with pytest.raises(CheckpointError, match="neither"):
        ember.load(tmp_path / "text.pt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match="without data.pkl"):
        ember.load(tmp_path / "other.zip")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError):
        ember.load(tmp_path / "pickle.pt")
    truncated = _saved(tmp_path, {"t": torch.ones(3)}).read_bytes()[:-40]
    (tmp_path / "truncated.pt").write_bytes(truncated)
    with pytest.raises(CheckpointError, match="torch.save"):
        ember.load(tmp_path / "truncated.pt")


def test_ember_save_still_writes_its_own_format(tmp_path):
    ember.save({"t": ember.ones(2)}, tmp_path / "e.pt")
    raw = (tmp_path / "e.pt").read_bytes()
    assert raw[:2] != b"PK"
    assert ember.load(tmp_path / "e.pt")["t"].tolist() == [1.0, 1.0]
