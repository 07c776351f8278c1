"""repr(tensor) against torch's text, character for character (with 'torch.' -> 'ember.')."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

CASES = {
    "ints": lambda m: m.tensor([1, -20, 300]),
    "int_matrix": lambda m: m.arange(12).reshape(3, 4) - 5,
    "bools": lambda m: m.tensor([[True, False], [False, True]]),
    "floats": lambda m: m.tensor([1.5, -2.25, 3.0]),
    "small_floats": lambda m: m.tensor([0.001, 0.02, 0.3]),
    "tiny_floats": lambda m: m.tensor([1e-5, 2e-3, 0.5]),
    "large_floats": lambda m: m.tensor([1e9, 2.5, -3.0]),
    "wide_range": lambda m: m.tensor([1e-3, 1.0, 1e3, 1e4]),
    "ints_as_floats": lambda m: m.tensor([1.0, -2.0, 300.0]),
    "big_ints_as_floats": lambda m: m.tensor([1.0, 1e9]),
    "int_floats_wide": lambda m: m.tensor([1.0, 2000.0]),
    "inf_nan": lambda m: m.tensor([float("inf"), float("nan"), 1.5, -float("inf")]),
    "inf_nan_ints": lambda m: m.tensor([float("inf"), float("nan"), 2.0]),
    "only_nan": lambda m: m.tensor([float("nan")]),
    "zeros": lambda m: m.zeros(3),
    "neg_zero": lambda m: m.tensor([-0.0, 1.0]),
    "negative": lambda m: m.tensor([[-1.25, 2.5], [3.75, -4.0]]),
    "zero_dim_float": lambda m: m.tensor(3.14159),
    "zero_dim_int": lambda m: m.tensor(-7),
    "zero_dim_bool": lambda m: m.tensor(True),
    "zero_dim_sci": lambda m: m.tensor(1.5e-7),
    "zero_dim_int_float": lambda m: m.tensor(5.0),
    "empty_1d": lambda m: m.zeros(0),
    "empty_2d": lambda m: m.zeros(2, 0),
    "empty_3d_int": lambda m: m.zeros(0, 3, 1, dtype=m.int64),
    "empty_int32": lambda m: m.zeros(0, dtype=m.int32),
    "empty_bool": lambda m: m.zeros(0, dtype=m.bool),
    "empty_float64": lambda m: m.zeros(0, 2, dtype=m.float64),
    "summarized_1d": lambda m: m.arange(2000),
    "summarized_float": lambda m: m.arange(1500) / 7,
    "summarized_2d": lambda m: m.arange(3000.0).reshape(50, 60),
    "summarized_3d": lambda m: m.arange(2400).reshape(10, 12, 20),
    "three_d": lambda m: m.arange(24.0).reshape(2, 3, 4) / 4,
    "four_d": lambda m: m.arange(16).reshape(2, 2, 2, 2),
    "float64": lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    "float16": lambda m: m.tensor([1.5, 2.0, 0.1], dtype=m.float16),
    "int32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "uint8": lambda m: m.tensor([[0, 255]], dtype=m.uint8),
    "int8_zero_dim": lambda m: m.tensor(-3, dtype=m.int8),
    "requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_zero_dim": lambda m: m.tensor(1.0, requires_grad=True),
    "requires_grad_float64": lambda m: m.ones(2, dtype=m.float64, requires_grad=True),
    "requires_grad_empty": lambda m: m.zeros(0, 2, requires_grad=True),
    "long_row": lambda m: m.arange(40.0) * 1.5,
    "long_int_row": lambda m: m.arange(100) * 1000,
    "long_rows_2d": lambda m: (m.arange(60.0).reshape(2, 30) - 20) / 3,
    "long_row_float64": lambda m: (m.arange(25, dtype=m.float64) - 12) / 12,
    "linspace_float64": lambda m: m.linspace(-1, 1, 24, dtype=m.float64),
    "long_row_grad": lambda m: m.linspace(0, 1, 30).requires_grad_(),
    "sci_matrix": lambda m: m.tensor([[1e-6, 1.0], [2.0, 3e5]]),
    "sci_negative": lambda m: m.tensor([-1e10, 1.0]),
    "half_precision_sci": lambda m: m.tensor([1e-4, 60000.0], dtype=m.float16),
    "transposed": lambda m: m.arange(6.0).reshape(2, 3).t(),
    "expanded": lambda m: m.tensor([[1.0], [2.0]]).expand(2, 3),
    "random_normal": lambda m: m.tensor(np.random.default_rng(0).normal(size=(4, 5)) * 10),
}


@pytest.mark.parametrize("case", list(CASES))
def test_repr_matches_torch(case):
    expected = repr(CASES[case](torch)).replace("torch.", "ember.")
    assert repr(CASES[case](ember)) == expected


@pytest.mark.parametrize("case", ["floats", "ints", "zero_dim_float", "three_d"])
def test_str_matches_torch(case):
    assert str(CASES[case](ember)) == str(CASES[case](torch)).replace("torch.", "ember.")


def test_repr_with_grad_fn_has_a_grad_fn_suffix():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    text = repr(x * 2)
    assert text.startswith("tensor([2., 4.], grad_fn=<") and text.endswith(">)")


@pytest.fixture
def restore_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


OPTIONS = [
    dict(precision=2),
    dict(precision=6),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(linewidth=40),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in
                                                                       o.items()))
@pytest.mark.parametrize("case", ["floats", "small_floats", "wide_range", "summarized_2d",
                                  "long_row", "ints", "three_d", "zero_dim_float"])
def test_printoptions(restore_printoptions, options, case):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    expected = repr(CASES[case](torch)).replace("torch.", "ember.")
    assert repr(CASES[case](ember)) == expected


def test_printoptions_restored(restore_printoptions):
    ember.set_printoptions(precision=2)
    ember.set_printoptions(profile="default")
    assert repr(ember.tensor([math.pi])) == "tensor([3.1416])"
