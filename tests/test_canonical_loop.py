"""The seed's canonical PyTorch training loop runs on Ember with only its import changed."""

from __future__ import annotations

import pathlib
import types

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "canonical_loop.py"


def load_script(use_ember: bool) -> types.ModuleType:
    source = SCRIPT.read_text()
    assert source.count("\nimport torch\n") == 1
    if use_ember:
        source = source.replace("\nimport torch\n", "\nimport ember as torch\n")
    module = types.ModuleType("canonical_loop_ember" if use_ember else "canonical_loop_torch")
    exec(compile(source, str(SCRIPT), "exec"), module.__dict__)
    return module


def test_canonical_loop_runs_unchanged_on_ember(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("sklearn")
    ember_acc = load_script(use_ember=True).main(epochs=5)
    torch_acc = load_script(use_ember=False).main(epochs=5)
    out = capsys.readouterr().out
    assert out.count("test accuracy") == 2
    assert ember_acc > 0.93
    assert abs(ember_acc - torch_acc) < 0.03  # same recipe, same data: the same quality
