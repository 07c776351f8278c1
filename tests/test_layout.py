"""Architecture rules that keep the codebase honest, checked on the source itself."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "ember"

# Host-side code that legitimately uses numpy (Python data in, text out, the CPU generator);
# everything that computes on device arrays must get its module from ember.backend.
NUMPY_ALLOWED = {"backend.py", "dtypes.py", "creation.py", "random.py", "_tensor_str.py",
                 "serialization.py", "torch_format.py"}  # the last two read files on the host
# Host-side data packages: they parse files and build batches on the host before any device work.
# ember/kernels: CPU-only loops compiled by numba, which compiles numpy code; they run only on
# numpy arrays, a choice made by kernels.usable (the backend's arrays, checked by class).
NUMPY_ALLOWED_DIRS = {"datasets", "utils/data", "kernels"}


def _imports(path: pathlib.Path) -> set:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _sources() -> list:
    return sorted(PACKAGE.rglob("*.py"))


def test_package_never_imports_torch() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in _sources() if "torch" in _imports(p)]
    assert not offenders, f"torch is a test oracle only, but these modules import it: {offenders}"


def test_only_the_backend_chooses_cupy() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in _sources()
                 if {"cupy", "cupyx"} & _imports(p) and p.name != "backend.py"]
    assert not offenders, f"only ember/backend.py may import cupy: {offenders}"


def test_device_code_gets_numpy_from_the_backend() -> None:
    offenders = [str(p.relative_to(PACKAGE)) for p in _sources()
                 if "numpy" in _imports(p) and p.name not in NUMPY_ALLOWED
                 and p.parent.relative_to(PACKAGE).as_posix() not in NUMPY_ALLOWED_DIRS]
    assert not offenders, f"these modules import numpy directly: {offenders}"
