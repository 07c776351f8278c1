"""ember.jit: scriptable model code runs unchanged; script/trace run eagerly (no compiler)."""

from __future__ import annotations

import typing

import numpy as np
import pytest
import torch
from conformance import assert_close

import ember


def _block(m: typing.Any) -> typing.Any:
    """A module written the way torchvision writes scriptable code."""

    class Block(m.nn.Module):
        scale: m.jit.Final[float]

        def __init__(self) -> None:
            super().__init__()
            self.fc = m.nn.Linear(4, 3)
            self.scale = 2.0

        @m.jit.unused
        def helper(self, x):  # noqa: ANN001, ANN202
            return x

        @m.jit.ignore
        def debug(self) -> str:
            return "ok"

        @m.jit.export
        def double(self, x):  # noqa: ANN001, ANN202
            return 2 * x

        def forward(self, x):  # noqa: ANN001, ANN202
            out = m.jit.annotate(typing.List[m.Tensor], [])
            out.append(self.fc(x) * self.scale)
            if not m.jit.is_scripting():
                out.append(self.helper(x).sum(1, keepdim=True))
            fut = m.jit.fork(lambda t: t + 1, out[0])
            return m.cat([m.jit.wait(fut), out[1]], 1)

    return Block


def test_scriptable_code_matches_torch_eager() -> None:
    eb, tb = _block(ember)(), _block(torch)()
    tb.load_state_dict({k: torch.tensor(v.numpy()) for k, v in eb.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(eb(ember.tensor(x)), tb(torch.tensor(x)), 1e-5, 1e-6, "forward")
    assert eb.debug() == "ok"
    assert_close(eb.double(ember.tensor(x)), tb.double(torch.tensor(x)), 0, 0, "exported")


def test_script_and_trace_return_runnable_modules() -> None:
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU())
    assert ember.jit.script(model) is model
    seen = []

    def f(x):  # noqa: ANN001, ANN202
        seen.append(ember.jit.is_tracing())
        return x * 2

    traced = ember.jit.trace(f, ember.ones(2))
    assert seen == [True] and not ember.jit.is_tracing()
    assert_close(traced(ember.ones(2)), torch.ones(2) * 2, 0, 0, "traced function")
    assert ember.jit.trace(model, (ember.ones(4, 3),)) is model
    with pytest.raises(RuntimeError, match="in_features=3"):
        ember.jit.trace(model, ember.ones(4, 5))  # the example run surfaces shape errors
    with pytest.raises(RuntimeError, match="example_inputs"):
        ember.jit.trace(model)
    with pytest.raises(RuntimeError, match="expected a Module"):
        ember.jit.script(3)
    assert ember.jit.is_scripting() is torch.jit.is_scripting() is False


def test_freeze_requires_eval_mode_like_torch() -> None:
    model = ember.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="eval mode"):
        ember.jit.freeze(model)
    with pytest.raises(RuntimeError, match="eval mode"):
        torch.jit.freeze(torch.jit.script(torch.nn.Linear(2, 2)))
    assert ember.jit.freeze(model.eval()) is model
    assert not ember.jit.optimize_for_inference(ember.nn.Linear(2, 2)).training


@pytest.mark.parametrize("value,hint", [
    ([1, 2], typing.List[int]), ([1, "a"], typing.List[int]), ({"a": 1.0}, typing.Dict[str, float]),
    ((1, "a"), typing.Tuple[int, str]), ((1, 2), typing.Tuple[int, str]), (None, typing.Optional[int]),
    (3, typing.Optional[int]), ("x", typing.Optional[int]), ([], typing.List[str]),
])
def test_jit_isinstance_matches_torch(value, hint) -> None:
    assert ember.jit.isinstance(value, hint) == torch.jit.isinstance(value, hint)
