"""Small helpers for the autograd tests: run the same code on Ember and torch and compare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import ember
from conformance import assert_close

LIBS = (ember, torch)


def leaves(m: Any, *arrays: Any, requires_grad: bool = True) -> list:
    """Fresh leaf tensors of module `m` (ember or torch) holding copies of `arrays`."""
    return [m.tensor(np.array(a, copy=True), requires_grad=requires_grad) for a in arrays]


def rand(*shape: int, seed: int = 0, low: float = -1.0, high: float = 1.0,
         dtype: str = "float64") -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def check_same(fn: Callable, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """fn(m) returns tensors (or nested tuples/lists/None); Ember's must match torch's."""
    theirs = fn(torch)  # torch first: a test that torch itself rejects fails as such
    ours = fn(ember)
    _compare(ours, theirs, rtol, atol, "result")


def _compare(ours: Any, theirs: Any, rtol: float, atol: float, what: str) -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), f"{what}: got {type(ours).__name__}"
        assert len(ours) == len(theirs), f"{what}: {len(ours)} items, torch has {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _compare(o, t, rtol, atol, f"{what}[{i}]")
    elif theirs is None:
        assert ours is None, f"{what}: expected None (as torch), got {ours!r}"
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), f"{what}: expected a Tensor, got {ours!r}"
        assert_close(ours, theirs, rtol, atol, what)
    else:
        assert ours == theirs, f"{what}: {ours!r} != torch's {theirs!r}"


def check_same_error(fn: Callable, *words: str) -> Exception:
    """fn(m) must raise for both libraries, with the same exception type; Ember's message must
    contain every one of `words` (case-insensitive). Returns Ember's exception."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(ember)
    expected = theirs.type
    # torch's own subclasses (e.g. torch.autograd.gradcheck.GradcheckError) map to the builtin
    base = next(c for c in expected.__mro__ if c.__module__ == "builtins")
    assert issubclass(ours.type, base), (
        f"Ember raised {ours.type.__name__}({ours.value}), torch raised "
        f"{expected.__name__}({theirs.value})")
    message = str(ours.value).lower()
    for w in words:
        assert w.lower() in message, f"{w!r} not in Ember's message: {ours.value}"
    return ours.value
