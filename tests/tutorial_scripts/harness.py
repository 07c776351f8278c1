"""Run one tutorial-style PyTorch script on torch and on Ember and compare what it returns.

A script is ordinary PyTorch code (``import torch``, ``import torch.nn as nn``,
``from torch.utils.data import DataLoader``...) with a ``main(sync, workdir)`` function that
returns a dict of results (tensors, numbers, strings, nested lists/dicts of them). The harness
loads it twice: once as written, once with every ``torch`` import rewritten to ``ember``
(``import torch`` -> ``import ember as torch``, ``from torch.nn import X`` ->
``from ember.nn import X``) and nothing else.

``sync(module)`` is the only concession to the two frameworks' different random generators:
on the torch run it records the module's freshly initialised state_dict, on the Ember run it
loads that record into the Ember module (in call order), so both runs train the same weights.
Data comes from numpy generators in the scripts.
"""

from __future__ import annotations

import pathlib
import re
import sys
import tempfile
import types
from typing import Any

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent

_IMPORT = re.compile(r"^(\s*)import torch(\s|$)", re.M)
_IMPORT_SUB = re.compile(r"^(\s*)import torch\.([\w.]+) as (\w+)", re.M)
_IMPORT_PACKAGE = re.compile(r"^([ \t]*)import torch\.([\w.]+)[ \t]*$", re.M)
_FROM = re.compile(r"^(\s*)from torch(\.[\w.]+)? import", re.M)


def to_ember_source(source: str) -> str:
    """Rewrite the torch imports of a script to Ember's and change nothing else."""
    source = _IMPORT_SUB.sub(r"\1import ember.\2 as \3", source)
    source = _IMPORT_PACKAGE.sub(r"\1import ember.\2\n\1import ember as torch", source)
    source = _IMPORT.sub(r"\1import ember as torch\2", source)
    return _FROM.sub(lambda m: f"{m.group(1)}from ember{m.group(2) or ''} import", source)


def load(name: str, use_ember: bool) -> types.ModuleType:
    path = HERE / f"{name}.py"
    source = path.read_text()
    if use_ember:
        source = to_ember_source(source)
        assert "torch." not in "".join(
            line for line in source.splitlines(True) if line.lstrip().startswith(("import", "from"))
        ).replace("as torch", "")
    module = types.ModuleType(f"tutorial_{name}_{'ember' if use_ember else 'torch'}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickle look classes up there
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


class Recorder:
    """`sync` for the torch run: keep each module's initial state_dict as numpy arrays."""

    def __init__(self) -> None:
        self.states: list[dict[str, np.ndarray]] = []

    def __call__(self, module: Any) -> Any:
        self.states.append(
            {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}
        )
        return module


class Replayer:
    """`sync` for the Ember run: load the recorded state_dicts in the same order."""

    def __init__(self, states: list[dict[str, np.ndarray]], framework: Any) -> None:
        self.states = list(states)
        self.framework = framework

    def __call__(self, module: Any) -> Any:
        state = self.states.pop(0)
        result = module.load_state_dict({k: self.framework.tensor(v) for k, v in state.items()})
        assert not result.missing_keys and not result.unexpected_keys, result
        return module


def to_plain(value: Any) -> Any:
    """Tensors -> numpy arrays; containers recursively; numbers and strings as they are."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    if type(value).__name__ in ("dtype", "device"):  # torch.float32 / ember.float32
        return str(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


_DECIMAL = re.compile(r"-?\d+\.(\d+)")


def _same_text(expected: str, actual: str) -> bool:
    """Equal text, except that a printed decimal may differ by one unit in its last digit: a
    loss formatted with 4 decimals lands on either side of a rounding boundary when the two
    frameworks' float32 results differ in the 7th digit ('6.7060' against '6.7059')."""
    if expected == actual:
        return True
    if _DECIMAL.sub("#", expected) != _DECIMAL.sub("#", actual):
        return False
    pairs = zip(_DECIMAL.finditer(expected), _DECIMAL.finditer(actual), strict=True)
    return all(abs(float(e.group()) - float(a.group())) <= 1.01 * 10.0 ** -len(e.group(1))
               for e, a in pairs)


def assert_same(expected: Any, actual: Any, path: str, rtol: float, atol: float) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual)}"
        assert sorted(expected) == sorted(actual), f"{path}: keys {sorted(actual)}"
        for key in expected:
            assert_same(expected[key], actual[key], f"{path}.{key}", rtol, atol)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{path}[{i}]", rtol, atol)
    elif isinstance(expected, str):
        # printed dtypes and module paths name the framework: ember.float32 is torch.float32
        assert _same_text(expected, actual.replace("ember", "torch")), (
            f"{path}: torch {expected!r}, ember {actual!r}"
        )
    elif isinstance(expected, (bool, type(None))):
        assert expected == actual, f"{path}: torch {expected!r}, ember {actual!r}"
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{path}: {type(actual)}"
        assert expected.shape == actual.shape, f"{path}: shape {expected.shape} vs {actual.shape}"
        assert expected.dtype == actual.dtype, f"{path}: dtype {expected.dtype} vs {actual.dtype}"
        if expected.dtype.kind in "biu":
            np.testing.assert_array_equal(actual, expected, err_msg=path)
        else:
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=path)
    else:
        assert type(expected) is type(actual), f"{path}: {type(expected)} vs {type(actual)}"
        if isinstance(expected, float):
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=path)
        else:
            assert expected == actual, f"{path}: torch {expected!r}, ember {actual!r}"


def compare(name: str) -> None:
    """Run the script on torch and on Ember and assert equal results."""
    import torch

    import ember

    torch_script = load(name, use_ember=False)
    ember_script = load(name, use_ember=True)
    tol = getattr(torch_script, "TOLERANCE", {"rtol": 1e-4, "atol": 1e-5})
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as workdir:
        torch.manual_seed(0)
        expected = to_plain(torch_script.main(recorder, pathlib.Path(workdir)))
    with tempfile.TemporaryDirectory() as workdir:
        ember.manual_seed(0)
        replayer = Replayer(recorder.states, ember)
        actual = to_plain(ember_script.main(replayer, pathlib.Path(workdir)))
    assert not replayer.states, "the Ember run synced fewer modules than the torch run"
    assert_same(expected, actual, name, **tol)
