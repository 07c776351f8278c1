"""CIFAR-10 from the "python version" batches (data_batch_1..5, test_batch).

The batches are pickles, and unpickling can run arbitrary code. They are read with an
unpickler that resolves only the few globals a batch needs to rebuild its numpy array; any
other global (os.system, a class of the file's choosing) is refused before it is called.
"""

from __future__ import annotations

import io
import os
import pathlib
import pickle
from collections.abc import Callable
from typing import Any

import numpy

from ._base import ImageDataset

_TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
_TEST_FILES = ["test_batch"]

# The globals a CIFAR batch (python 2 or 3, any protocol) needs: numpy array reconstruction,
# and _codecs.encode, which protocol 2 uses to write bytes.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}
for _builtin in ("dict", "list", "tuple", "bytes", "bytearray", "str", "int", "float", "set"):
    _ALLOWED_GLOBALS[("builtins", _builtin)] = ("builtins", _builtin)
    _ALLOWED_GLOBALS[("__builtin__", _builtin)] = ("builtins", _builtin)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that only builds builtin containers and numpy arrays."""

    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(
                f"refusing to load the global '{module}.{name}': a CIFAR batch holds only "
                "dicts, lists, bytes, str and numpy arrays (the file may be malicious)")
        return super().find_class(*target)


def load_batch(path: str | os.PathLike) -> tuple[numpy.ndarray, list[int]]:
    """One batch file -> (uint8 images N x 32 x 32 x 3, labels), checked for shape and type."""
    with open(path, "rb") as f:
        raw = f.read()
    try:  # latin1 decodes python 2 strings, including numpy's array bytes, losslessly
        entry = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise pickle.UnpicklingError(f"{path}: {exc}") from None
    except (EOFError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"{path}: not a readable CIFAR-10 batch ({exc})") from None
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: not a CIFAR-10 batch: a {type(entry).__name__}, not a dict")
    entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
    data, labels = entry.get("data"), entry.get("labels")
    if not (isinstance(data, numpy.ndarray) and data.dtype == numpy.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32):
        found = f"{data.dtype} {data.shape}" if isinstance(data, numpy.ndarray) else type(data)
        raise ValueError(f"{path}: not a CIFAR-10 batch: 'data' should be a uint8 array "
                         f"(N, 3072), found {found}")
    if not isinstance(labels, list) or len(labels) != len(data):
        raise ValueError(f"{path}: not a CIFAR-10 batch: 'labels' should be a list of "
                         f"{len(data)} ints")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # rows are planes R, G, B
    return numpy.ascontiguousarray(images), [int(label) for label in labels]


class CIFAR10(ImageDataset):
    """CIFAR-10: 50,000 training or 10,000 test (3x32x32 image, class) pairs.

    `root` holds the batch files, or the `cifar-10-batches-py` folder extracted from
    https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz. Raw images are H x W x C uint8.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]
    how_to_get = ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extract it "
                  "with `tar xzf cifar-10-python.tar.gz`, and pass root=<the directory holding "
                  "cifar-10-batches-py>")

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        if download:
            raise RuntimeError(f"CIFAR10: Ember works offline and does not download; "
                               f"{self.how_to_get}.")
        self.root = os.fspath(root)
        self.train = train
        folder = self._folder()
        parts = [load_batch(folder / name) for name in (_TRAIN_FILES if train else _TEST_FILES)]
        images = numpy.concatenate([p[0] for p in parts])
        labels = numpy.array([label for p in parts for label in p[1]], dtype=numpy.int64)
        super().__init__(images, labels, transform, target_transform)

    def _folder(self) -> pathlib.Path:
        needed = _TRAIN_FILES if self.train else _TEST_FILES
        for folder in (pathlib.Path(self.root), pathlib.Path(self.root) / "cifar-10-batches-py"):
            if all((folder / name).is_file() for name in needed):
                return folder
        raise FileNotFoundError(f"CIFAR10: {', '.join(needed)} not found in {self.root} (nor in "
                                f"{self.root}/cifar-10-batches-py). To get the data, "
                                f"{self.how_to_get}.")

    @property
    def data(self) -> numpy.ndarray:  # type: ignore[override]
        """The images as torchvision has them: a uint8 numpy array N x 32 x 32 x 3."""
        return self._images

    @property
    def targets(self) -> list[int]:  # type: ignore[override]
        """The labels as torchvision has them: a list of ints."""
        return self._labels.tolist()
