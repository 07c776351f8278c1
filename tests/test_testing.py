"""ember.testing.assert_close and make_tensor behave as torch.testing's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _outcome(lib, actual, expected, **kw):
    try:
        lib.testing.assert_close(actual, expected, **kw)
        return None
    except Exception as exc:  # noqa: BLE001 (the kind is what is compared)
        return type(exc).__name__


CASES = [
    # (actual, expected, kwargs), built per library by `m`
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.0]), {}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.00001]), {}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.000001]), {}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.1]), {"rtol": 0.1, "atol": 0}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.1]), {"rtol": 0.01, "atol": 0}),
    (lambda m: m.tensor([1.0]), lambda m: m.tensor([1.0], dtype=m.float64), {}),
    (lambda m: m.tensor([1.0]), lambda m: m.tensor([1.0], dtype=m.float64),
     {"check_dtype": False}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.0, 3.0]), {}),
    (lambda m: m.tensor([1, 2]), lambda m: m.tensor([1, 3]), {}),
    (lambda m: m.tensor([float("nan")]), lambda m: m.tensor([float("nan")]), {}),
    (lambda m: m.tensor([float("nan")]), lambda m: m.tensor([float("nan")]), {"equal_nan": True}),
    (lambda m: m.tensor([float("inf")]), lambda m: m.tensor([float("inf")]), {}),
    (lambda m: m.tensor([1.0]), lambda m: 1.0, {}),
    (lambda m: 1.0, lambda m: 1.0 + 1e-9, {}),
    (lambda m: 1.0, lambda m: 1.1, {}),
    (lambda m: 1, lambda m: 1, {}),
    (lambda m: 1, lambda m: 2, {}),
    (lambda m: [m.tensor([1.0]), 2.0], lambda m: [m.tensor([1.0]), 2.0], {}),
    (lambda m: [m.tensor([1.0]), 2.0], lambda m: [m.tensor([1.5]), 2.0], {}),
    (lambda m: {"a": m.tensor([1.0])}, lambda m: {"a": m.tensor([1.0])}, {}),
    (lambda m: {"a": m.tensor([1.0])}, lambda m: {"b": m.tensor([1.0])}, {}),
    (lambda m: [m.tensor([1.0])], lambda m: [m.tensor([1.0]), m.tensor([2.0])], {}),
    (lambda m: m.tensor([1.0]), lambda m: m.tensor([1.0]), {"rtol": 0.1}),
    (lambda m: m.tensor([True, False]), lambda m: m.tensor([True, True]), {}),
    (lambda m: m.zeros(0, 3), lambda m: m.zeros(0, 3), {}),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_assert_close_outcome_matches_torch(i) -> None:
    make_a, make_e, kw = CASES[i]
    expected = _outcome(torch, make_a(torch), make_e(torch), **kw)
    assert _outcome(ember, make_a(ember), make_e(ember), **kw) == expected


def test_assert_close_message_names_the_worst_element() -> None:
    with pytest.raises(AssertionError) as ours:
        ember.testing.assert_close(ember.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                   ember.tensor([[1.0, 2.0], [3.5, 4.0]]))
    with pytest.raises(AssertionError) as theirs:
        torch.testing.assert_close(torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                   torch.tensor([[1.0, 2.0], [3.5, 4.0]]))
    for line in ("Mismatched elements: 1 / 4 (25.0%)", "at index (1, 0)"):
        assert line in str(theirs.value) and line in str(ours.value)
    with pytest.raises(AssertionError, match="custom"):
        ember.testing.assert_close(ember.tensor(1.0), ember.tensor(2.0), msg="custom")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
def test_make_tensor_ranges_and_flags_follow_torch(dtype) -> None:
    ember.manual_seed(0)
    t = ember.testing.make_tensor(200, dtype=getattr(ember, dtype))
    r = torch.testing.make_tensor(200, dtype=getattr(torch, dtype), device="cpu")
    assert t.dtype == getattr(ember, dtype) and tuple(t.shape) == tuple(r.shape)
    if dtype != "bool":
        values = t.numpy().astype(np.float64)
        ref = r.numpy().astype(np.float64)
        assert ref.min() >= -9 and values.min() >= -9
        assert values.max() <= 10 and ref.max() <= 10
        assert (values.min() < 0) == (ref.min() < 0)  # signed dtypes reach below zero
    low = ember.testing.make_tensor(50, 3, dtype=getattr(ember, dtype), low=1, high=4)
    if dtype != "bool":
        assert low.numpy().min() >= 1 and low.numpy().max() <= 4
    if dtype.startswith("float"):
        g = ember.testing.make_tensor((2, 3), dtype=getattr(ember, dtype), requires_grad=True,
                                      noncontiguous=True, exclude_zero=True)
        assert g.requires_grad and not g.is_contiguous() and bool((g != 0).all())
    else:
        with pytest.raises(ValueError):
            torch.testing.make_tensor(2, dtype=getattr(torch, dtype), device="cpu",
                                      requires_grad=True)
        with pytest.raises(ValueError):
            ember.testing.make_tensor(2, dtype=getattr(ember, dtype), requires_grad=True)
