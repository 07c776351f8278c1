"""Bad input: Ember raises torch's exception type, with a message that names the op.

Each case runs the same code against torch and Ember (`T` is the library, `F` its
nn.functional); Ember must raise an instance of the builtin type torch raises (a subclass such as
LayerInputError is fine), and its message must match the case's pattern (the op's name and what
was wrong), never a bare numpy error.
"""

from __future__ import annotations

import builtins
import re

import numpy
import pytest
import torch

import ember

CASES = [
    # (id, code, pattern Ember's message must match)
    ("outer_2d", "T.outer(T.randn(3, 2), T.randn(3))", r"outer: Expected 1-D argument self"),
    ("trace_3d", "T.trace(T.randn(2, 2, 2))", r"trace: expected a matrix.*dim 3"),
    ("flatten_0d", "nn.Flatten()(T.tensor(1.))", r"flatten: Dimension out of range"),
    ("cat_two_tensors", "T.cat(T.randn(2, 3), T.randn(2, 3))", r"cat\(\).*tuple of Tensors"),
    ("stack_one_tensor", "T.stack(T.randn(2, 3))", r"stack\(\).*tuple of Tensors"),
    ("narrow_start", "T.randn(2, 3).narrow(1, 5, 0)", r"narrow\(\): start out of range"),
    ("narrow_length", "T.randn(2, 3).narrow(1, 2, 3)", r"narrow\(\): start \(2\) \+ length \(3\)"),
    ("narrow_negative_length", "T.randn(2, 3).narrow(1, 1, -1)", r"narrow\(\): length"),
    ("tensor_split_0", "T.randn(6).tensor_split(0)", r"tensor_split: number of sections"),
    ("repeat_interleave_sizes", "T.randn(3).repeat_interleave(T.tensor([1, 2]))",
     r"repeat_interleave: repeats must have the same size.*size\(0\) = 2"),
    ("repeat_interleave_negative", "T.randn(3).repeat_interleave(T.tensor([1, -1, 1]))",
     r"repeat_interleave: repeats can not be negative"),
    ("histc_min_max", "T.histc(T.randn(3), bins=4, min=2, max=1)", r"histc: max must be larger"),
    ("histc_bins_0", "T.histc(T.randn(3), bins=0)", r"histc: bins must be > 0"),
    ("bincount_float", "T.bincount(T.tensor([1., 2.]))", r"bincount: not implemented for"),
    ("softmax_int", "F.softmax(T.arange(3), dim=0)", r"softmax: expected a floating point"),
    ("tensor_ragged", "T.tensor([[1, 2], [3]])",
     r"tensor\(\): expected sequence of length 2 at dim 1 \(got 1\)"),
    ("tensor_ragged_scalar", "T.tensor([[1, 2], 3])", r"tensor\(\): expected sequence of length"),
    ("tensor_str", "T.tensor(['a', 'b'])", r"tensor\(\): cannot build a tensor from strings"),
    ("permute_count", "T.randn(2, 3, 4).permute(0, 1)", r"^permute: number of dimensions"),
    # indexing: torch refuses negative indices except in index_fill
    ("index_select_oob", "T.randn(3, 4).index_select(0, T.tensor([0, 3]))",
     r"index_select\(\): index 3 is out of bounds for dimension 0 with size 3"),
    ("index_select_negative", "T.randn(3).index_select(0, T.tensor([-1]))",
     r"index_select\(\): index -1 is out of bounds"),
    ("gather_negative", "T.zeros(3, 4).gather(1, T.tensor([[-1]] * 3))",
     r"gather\(\): index -1 is out of bounds for dimension 1 with size 4"),
    ("scatter_negative", "T.zeros(3, 4).scatter(1, T.tensor([[-1]] * 3), 1.)",
     r"scatter\(\): index -1 is out of bounds"),
    ("index_add_negative", "T.zeros(3, 4).index_add(0, T.tensor([-1]), T.ones(1, 4))",
     r"index_add\(\): index -1 is out of bounds"),
    ("index_copy_negative", "T.zeros(3, 4).index_copy(0, T.tensor([-1]), T.ones(1, 4))",
     r"index_copy\(\): index -1 is out of bounds"),
    ("index_fill_oob", "T.zeros(3, 4).index_fill(0, T.tensor([3]), 1.)",
     r"index_fill\(\): index 3 is out of bounds"),
    ("embedding_negative", "nn.Embedding(10, 4)(T.tensor([-1]))",
     r"embedding: index -1 is out of range for an embedding table of 10 rows"),
    # linear algebra: the error names the op called
    ("mm_shapes", "T.mm(T.randn(3, 4), T.randn(5, 6))",
     r"mm: mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x6\)"),
    ("mv_shapes", "T.mv(T.randn(3, 4), T.randn(5))", r"^mv: \(3x4\) @ \(5\)"),
    ("bmm_shapes", "T.bmm(T.randn(2, 3, 4), T.randn(2, 5, 5))", r"^bmm: .*inner dimensions 4"),
    ("bmm_dtypes", "T.bmm(T.randn(2, 3, 4), T.randn(2, 4, 2, dtype=T.float64))",
     r"^bmm: expected m1 and m2 to have the same dtype"),
    # losses
    ("ce_float_target_shape", "F.cross_entropy(T.randn(4, 3), T.rand(4, 5))",
     r"cross_entropy: class probabilities as target must have the input's shape \(4x3\)"),
    ("ce_float_target_batch", "F.cross_entropy(T.randn(4, 3), T.rand(5, 3))",
     r"cross_entropy: class probabilities"),
    ("ce_target_2d", "F.cross_entropy(T.randn(4, 10), T.zeros(4, 1, dtype=T.long))",
     r"cross_entropy: Expected target of shape \(4\).*got target of shape \(4x1\)"),
    ("ce_batch", "F.cross_entropy(T.randn(4, 10), T.zeros(3, dtype=T.long))",
     r"cross_entropy: Expected target of shape \(4\)"),
    ("nll_3d_layout", "F.nll_loss(T.randn(2, 5, 3), T.zeros(2, 5, dtype=T.long))",
     r"nll_loss: Expected target of shape \(2x3\)"),
    ("ce_int32_target", "F.cross_entropy(T.randn(4, 10), T.tensor([0, 1, 2, 3], dtype=T.int32))",
     r"cross_entropy: expected target dtype to be Long or Byte"),
    ("nll_int32_target", "F.nll_loss(T.randn(4, 3), T.tensor([0, 1, 2, 1], dtype=T.int32))",
     r"nll_loss: expected target dtype to be Long or Byte"),
    ("nll_weight_size", "F.nll_loss(T.randn(4, 3), T.tensor([0, 1, 2, 1]), weight=T.ones(4))",
     r"nll_loss: weight tensor should be defined either for all 3 classes"),
    ("ce_label_smoothing", "F.cross_entropy(T.randn(3, 4), T.tensor([0, 1, 2]), "
     "label_smoothing=1.5)", r"cross_entropy: label_smoothing must be between"),
    ("bce_target_range", "F.binary_cross_entropy(T.rand(4), T.tensor([0., 1., 2., 0.]))",
     r"binary_cross_entropy: all elements of target should be between 0 and 1"),
    ("bce_long_target", "F.binary_cross_entropy(T.rand(4), T.tensor([0, 1, 1, 0]))",
     r"binary_cross_entropy: Found dtype .*int64 but expected .*float32"),
    ("bce_double_target", "F.binary_cross_entropy(T.rand(4), T.rand(4, dtype=T.float64))",
     r"binary_cross_entropy: Found dtype"),
    ("bce_logits_long_target",
     "F.binary_cross_entropy_with_logits(T.randn(4), T.tensor([0, 1, 1, 0]))",
     r"binary_cross_entropy_with_logits: the target must be floating point"),
    ("gaussian_nll_var", "F.gaussian_nll_loss(T.randn(3, 2), T.randn(3, 2), T.ones(3, 3))",
     r"gaussian_nll_loss: var is of incorrect size"),
    ("multi_margin_target", "F.multi_margin_loss(T.randn(3, 4), T.tensor([0, 1, 4]))",
     r"multi_margin_loss: target out of range"),
    ("mse_shapes", "F.mse_loss(T.randn(8, 3), T.randn(8, 2))",
     r"mse_loss: the input \(8x3\) and the target \(8x2\) cannot be broadcast"),
    ("l1_shapes", "F.l1_loss(T.randn(8, 3), T.randn(8, 2))", r"^l1_loss: the input"),
    # pooling and normalization
    ("adaptive_avg_empty", "F.adaptive_avg_pool2d(T.randn(1, 1, 0, 4), 2)",
     r"adaptive_avg_pool2d: Expected input to have non-zero size.*dimension 2 being empty"),
    ("adaptive_max_empty", "F.adaptive_max_pool2d(T.randn(1, 1, 0, 4), 2)",
     r"adaptive_max_pool2d: Expected input to have non-zero size"),
    ("adaptive_avg1d_empty", "F.adaptive_avg_pool1d(T.randn(1, 1, 0), 2)",
     r"Expected input to have non-zero size"),
    ("adaptive_avg3d_empty", "F.adaptive_avg_pool3d(T.randn(1, 1, 0, 4, 4), 2)",
     r"adaptive_avg_pool3d: Expected input to have non-zero size"),
    ("batchnorm_long", "nn.BatchNorm1d(4)(T.ones(2, 4, dtype=T.long))",
     r'"batch_norm" not implemented for .*int64'),
    ("batchnorm_eval_long", "nn.BatchNorm1d(4).eval()(T.ones(2, 4, dtype=T.long))",
     r'"batch_norm" not implemented'),
    ("layer_norm_long", "F.layer_norm(T.ones(2, 4, dtype=T.long), (4,))",
     r'"layer_norm" not implemented'),
    ("instance_norm_long", "nn.InstanceNorm1d(4)(T.ones(2, 4, 3, dtype=T.long))",
     r'"instance_norm" not implemented'),
]


def _run(lib: object, code: str) -> BaseException | None:
    env = {"T": lib, "nn": lib.nn, "F": lib.nn.functional}
    try:
        exec(code, env)  # noqa: S102 (test code from the table above)
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def _builtin_base(exc: BaseException) -> type:
    return next(c for c in type(exc).__mro__ if c.__module__ == "builtins")


@pytest.mark.parametrize(("code", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_type_and_message_as_torch(code: str, pattern: str) -> None:
    expected = _run(torch, code)
    assert expected is not None, f"torch accepts {code}: not an error case"
    got = _run(ember, code)
    assert got is not None, f"Ember silently accepts {code} (torch: {expected!r})"
    base = _builtin_base(expected)
    assert isinstance(got, base), f"Ember raised {type(got).__name__}: {got}; torch {base.__name__}"
    assert re.search(pattern, str(got)), f"message {str(got)!r} does not match {pattern!r}"
    for bare in ("operands could not be broadcast", "numpy", "ndarray", "out of bounds for axis"):
        assert bare not in str(got)


# valid calls near the new checks: same results as torch
VALID = [
    "F.cross_entropy(T.tensor([1., 2., 3.]), T.tensor([1]), reduction='none')",
    "F.nll_loss(T.tensor([-1., -2., -3.]), T.tensor([2]))",
    "F.cross_entropy(T.arange(12.).reshape(4, 3), T.tensor([0, 1, 2, 1], dtype=T.uint8))",
    "F.binary_cross_entropy_with_logits(T.ones(4), T.tensor([0., 1., 1., 0.], dtype=T.float64))",
    "F.binary_cross_entropy(T.full((4,), 0.25), T.tensor([0., 1., 1., 0.]))",
    "T.zeros(3, 4).index_fill(0, T.tensor([-1]), 1.)",
    "F.gaussian_nll_loss(T.ones(3, 2), T.zeros(3, 2), T.full((3,), 2.))",
    "F.gaussian_nll_loss(T.ones(3, 2), T.zeros(3, 2), T.full((3, 1), 2.))",
    "T.flatten(T.tensor(3.), 0, -1)",
    "T.arange(3.).repeat_interleave(T.tensor([2]))",
    "T.cat([p * (i + 1) for i, p in enumerate(T.arange(6.).tensor_split(4))])",
    "T.arange(6.).narrow(0, -2, 2)",
    "F.adaptive_avg_pool2d(T.ones(0, 1, 4, 4), 2)",
    "T.outer(T.arange(3.), T.arange(2.))",
]


@pytest.mark.parametrize("code", VALID)
def test_valid_calls_still_match_torch(code: str) -> None:
    want = eval(code, {"T": torch, "F": torch.nn.functional})  # noqa: S307
    got = eval(code, {"T": ember, "F": ember.nn.functional})  # noqa: S307
    assert tuple(got.shape) == tuple(want.shape)
    numpy.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-6)


def test_builtin_base_helper() -> None:
    assert _builtin_base(ember.nn.errors.LayerInputError("x")) is RuntimeError
    assert builtins.IndexError is _builtin_base(IndexError("x"))
