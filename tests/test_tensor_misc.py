"""Integer, boolean and comparison math, sorting and selection, reductions' dtypes, and error
messages, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

A = [[-7, -2, 0], [3, 5, 9]]
B = [[2, 3, -4], [2, -3, 4]]
BOOLS = [[True, False, True], [False, False, True]]
FLOATS = [[-1.5, 0.0, float("nan")], [2.5, float("inf"), -float("inf")]]


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same(e, t):
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t)
        for a, b in zip(e, t, strict=True):
            assert_same(a, b)
        return
    if not isinstance(t, torch.Tensor):
        assert e == t, (e, t)
        return
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape), (tuple(e.shape), tuple(t.shape))
    assert dtype_name(e.dtype) == dtype_name(t.dtype), (e.dtype, t.dtype)
    en, tn = e.detach().numpy(), t.detach().numpy()
    if tn.dtype.kind == "f":
        np.testing.assert_allclose(en, tn, rtol=1e-6, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(en, tn)


def check(fn):
    assert_same(fn(ember), fn(torch))


def I(m, values=A, dtype="int64"):  # noqa: E743
    return m.tensor(values, dtype=getattr(m, dtype))


INT_DTYPES = ["int64", "int32", "int16", "int8", "uint8"]

# ------------------------------------------------------------------ comparisons and logic
LOGIC = {
    "lt": lambda m: I(m) < I(m, B),
    "le_scalar": lambda m: I(m) <= 3,
    "gt_float_scalar": lambda m: I(m) > 2.5,
    "ge_rev": lambda m: 0 >= I(m),
    "eq": lambda m: I(m) == I(m, B),
    "ne_bool": lambda m: I(m, BOOLS, "bool") != True,  # noqa: E712
    "eq_nan": lambda m: m.tensor(FLOATS) == m.tensor(FLOATS),
    "lt_broadcast": lambda m: I(m) < m.tensor([0, 3, 9]),
    "logical_and": lambda m: m.logical_and(I(m), I(m, B)),
    "logical_or_float": lambda m: m.logical_or(m.tensor(FLOATS), I(m, BOOLS, "bool")),
    "logical_xor": lambda m: m.logical_xor(I(m, BOOLS, "bool"), I(m)),
    "logical_not": lambda m: m.logical_not(I(m)),
    "isnan": lambda m: m.isnan(m.tensor(FLOATS)),
    "isinf": lambda m: m.isinf(m.tensor(FLOATS)),
    "isfinite": lambda m: m.isfinite(m.tensor(FLOATS)),
    "isfinite_int": lambda m: m.isfinite(I(m)),
    "isposinf": lambda m: m.isposinf(m.tensor(FLOATS)),
    "isclose": lambda m: m.isclose(m.tensor([1.0, 1.0001, float("nan")]),
                                   m.tensor([1.0, 1.0, float("nan")])),
    "isclose_nan": lambda m: m.isclose(m.tensor([1.0, float("nan")]),
                                       m.tensor([1.1, float("nan")]), rtol=0.2, equal_nan=True),
    "isclose_int": lambda m: m.isclose(I(m), I(m, B)),
    "allclose": lambda m: m.allclose(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0 + 1e-9])),
    "allclose_false": lambda m: m.allclose(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.1])),
    "equal": lambda m: m.equal(I(m), I(m)),
    "equal_shape": lambda m: m.equal(I(m), I(m)[:1]),
    "equal_values": lambda m: m.equal(I(m), I(m, B)),
    "bitwise_and": lambda m: I(m) & I(m, B),
    "bitwise_or_bool": lambda m: I(m, BOOLS, "bool") | I(m, BOOLS, "bool").flip(0),
    "bitwise_xor_scalar": lambda m: I(m) ^ 5,
    "invert_int": lambda m: ~I(m),
    "invert_bool": lambda m: ~I(m, BOOLS, "bool"),
    "invert_uint8": lambda m: ~I(m, [[0, 1, 255]], "uint8"),
    "and_bool_int": lambda m: I(m, BOOLS, "bool") & I(m),
    "bitwise_not": lambda m: m.bitwise_not(I(m, dtype="int8")),
    "and_true": lambda m: I(m, BOOLS, "bool") & True,
    "rand_scalar_or": lambda m: 6 | I(m),
    "lshift": lambda m: I(m) << 2,
    "rshift_negative": lambda m: I(m) >> 1,
    "rlshift": lambda m: 1 << I(m, [[1, 2, 3]]),
    "shift_tensors": lambda m: m.bitwise_right_shift(I(m), I(m, [[1, 2, 0], [0, 1, 2]])),
    "lshift_uint8_overflow": lambda m: I(m, [[1, 2, 3]], "uint8") << 7,
    "lshift_promotes": lambda m: I(m, dtype="int8") << I(m, [[1, 2, 0]], "uint8"),
}


@pytest.mark.parametrize("case", list(LOGIC))
def test_logic(case):
    check(LOGIC[case])


def test_bitwise_on_float_raises():
    for m in (ember, torch):
        with pytest.raises((RuntimeError, TypeError)):
            m.tensor([1.0]) & m.tensor([1.0])
        with pytest.raises((RuntimeError, TypeError)):
            ~m.tensor([1.0])


# ------------------------------------------------------------------ integer arithmetic
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("op", [
    lambda m, x, y: x // y,
    lambda m, x, y: x % y,
    lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
    lambda m, x, y: m.div(x, y, rounding_mode="floor"),
    lambda m, x, y: x / y,
    lambda m, x, y: m.true_divide(x, y),
    lambda m, x, y: m.fmod(x, y),
    lambda m, x, y: m.remainder(x, y),
    lambda m, x, y: x * y + x - y,
    lambda m, x, y: x ** 2,
    lambda m, x, y: x // 2,
    lambda m, x, y: x % 3,
    lambda m, x, y: -7 // y,
    lambda m, x, y: 7 % y,
    lambda m, x, y: x // 2.5,
    lambda m, x, y: x % -2.5,
    lambda m, x, y: m.div(x, 2, rounding_mode="floor"),
    lambda m, x, y: m.abs(x),
    lambda m, x, y: m.clamp(x, -1, 4),
    lambda m, x, y: m.clamp(x, min=2),
    lambda m, x, y: m.clamp(x, max=0.5),
    lambda m, x, y: x.clamp(-3.5, 3.5),
    lambda m, x, y: m.sign(x),
    lambda m, x, y: m.maximum(x, y),
])
def test_integer_arithmetic(dtype, op):
    b = [[2, 3, 4], [2, 3, 4]] if dtype == "uint8" else B
    a = [[7, 2, 0], [3, 5, 9]] if dtype == "uint8" else A
    e = op(ember, I(ember, a, dtype), I(ember, b, dtype))
    t = op(torch, I(torch, a, dtype), I(torch, b, dtype))
    assert_same(e, t)


@pytest.mark.parametrize("op", [
    lambda m, u: u + 300,
    lambda m, u: u * 300,
    lambda m, u: 300 - u,
    lambda m, u: u.add(-1),
    lambda m, u: u % -3,
    lambda m, u: -7 // (u // 2 + 1),
    lambda m, u: u == 256,
    lambda m, u: u < -1,
    lambda m, u: u.clamp(-1, 4),
    lambda m, u: u.to(m.int8) + 200,
    lambda m, u: u.to(m.int8) * -1000,
])
def test_out_of_range_int_scalars_wrap_like_torch(op):
    """torch converts a Python int to the tensor's integer dtype, wrapping around."""
    check(lambda m: op(m, I(m, [[7, 2, 0, 255]], "uint8")))


def test_integer_division_is_exact_for_large_values():
    big = [[2**40 + 1, -(2**40 + 1), 7, -7, 0, 2**62]]
    for mode in ("trunc", "floor"):
        check(lambda m, mode=mode: m.div(I(m, big), 3, rounding_mode=mode))
        check(lambda m, mode=mode: m.div(I(m, big), I(m, [[3, -3, 2, -2, 5, -7]]),
                                         rounding_mode=mode))
    check(lambda m: I(m, big) // -3)
    check(lambda m: I(m, big) % 3)


def test_integer_division_by_zero_raises():
    for m in (ember, torch):
        with pytest.raises(RuntimeError):
            I(m) // 0
        with pytest.raises(RuntimeError):
            I(m) % I(m, [[1, 0, 1], [1, 1, 1]])
    check(lambda m: I(m) / 0)  # true division gives inf / nan


def test_int_true_division_dtype_with_default_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        check(lambda m: I(m) / I(m, B))
        check(lambda m: m.mean(I(m).float()))
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


# ------------------------------------------------------------------ where, nonzero
WHERE = {
    "float_scalar": lambda m: m.where(I(m, BOOLS, "bool"), I(m).float(), 0.5),
    "int_int_scalar": lambda m: m.where(I(m, BOOLS, "bool"), I(m), 2),
    "int_float_scalar": lambda m: m.where(I(m, BOOLS, "bool"), I(m), 2.5),
    "scalar_tensor": lambda m: m.where(I(m, BOOLS, "bool"), 1.0, I(m, dtype="int32")),
    "two_scalars_float": lambda m: m.where(I(m, BOOLS, "bool"), 1.0, 0.0),
    "two_scalars_int": lambda m: m.where(I(m, BOOLS, "bool"), 1, 0),
    "mixed_dtypes": lambda m: m.where(I(m, BOOLS, "bool"), I(m, dtype="int8"),
                                      I(m, B, "int16")),
    "half_and_float": lambda m: m.where(I(m, BOOLS, "bool"), m.ones(3, dtype=m.float16),
                                        m.zeros(2, 1, dtype=m.float64)),
    "zero_dim_tensor": lambda m: m.where(I(m, BOOLS, "bool"), I(m, dtype="int8"),
                                         m.tensor(300)),
    "one_arg": lambda m: m.where(I(m)),
    "nonzero": lambda m: m.nonzero(I(m)),
    "nonzero_tuple": lambda m: m.nonzero(I(m), as_tuple=True),
    "nonzero_1d_tuple": lambda m: m.nonzero(m.tensor([0, 3, 0, 1]), as_tuple=True),
    "nonzero_0d": lambda m: m.nonzero(m.tensor(5)),
    "nonzero_0d_zero": lambda m: m.nonzero(m.tensor(0)),
    "nonzero_0d_tuple": lambda m: m.nonzero(m.tensor(5), as_tuple=True),
    "nonzero_empty": lambda m: m.nonzero(m.zeros(0, 3)),
    "nonzero_method": lambda m: I(m, BOOLS, "bool").nonzero(),
    "argwhere": lambda m: m.argwhere(I(m)),
}


@pytest.mark.parametrize("case", list(WHERE))
def test_where_and_nonzero(case):
    check(WHERE[case])


# ------------------------------------------------------------------ sort, topk, unique
SORTS = {
    "sort": lambda m: m.sort(m.tensor([3, 1, 2, 1, 3, 0])),
    "sort_desc": lambda m: m.tensor([[3.0, 1.0, 2.0], [0.5, 0.5, -1.0]]).sort(dim=1,
                                                                               descending=True),
    "sort_stable_ties": lambda m: m.sort(m.tensor([2, 1, 2, 1, 2, 1, 0]), stable=True),
    "sort_stable_desc": lambda m: m.sort(m.tensor([2, 1, 2, 1, 2, 1, 0]), stable=True,
                                         descending=True),
    "sort_dim0": lambda m: m.sort(I(m, [[3, 1], [1, 3], [2, 2]]), dim=0, stable=True),
    "sort_nan": lambda m: m.sort(m.tensor([1.0, float("nan"), -1.0, float("inf")])),
    "sort_nan_desc": lambda m: m.sort(m.tensor([1.0, float("nan"), -1.0]), descending=True),
    "sort_nan_inf_desc": lambda m: m.sort(m.tensor([[1.0, float("inf"), float("nan"), -2.0],
                                                     [float("nan"), 0.0, 5.0, float("nan")]]),
                                          descending=True, stable=True),
    "sort_nan_dim0_desc": lambda m: m.sort(m.tensor([[1.0, float("nan")], [float("nan"), 2.0]]),
                                           dim=0, descending=True),
    "topk_nan": lambda m: m.topk(m.tensor([1.0, float("nan"), 3.0]), 2),
    "sort_int_extremes_desc": lambda m: m.sort(I(m, [[-128, 127, 0, -1]], "int8"),
                                               descending=True),
    "sort_uint8_desc": lambda m: m.sort(I(m, [[0, 255, 3]], "uint8"), descending=True),
    "sort_bool": lambda m: m.sort(m.tensor([True, False, True]), stable=True),
    "argsort_stable": lambda m: m.argsort(m.tensor([5, 3, 5, 3, 1]), stable=True),
    "argsort_stable_desc": lambda m: m.argsort(m.tensor([5, 3, 5, 3, 1]), descending=True,
                                               stable=True),
    "topk": lambda m: m.topk(m.tensor([1.0, 5.0, 3.0, 4.0]), 2),
    "topk_smallest": lambda m: m.tensor([[1, 5, 3], [9, 0, 2]]).topk(2, dim=1, largest=False),
    "topk_dim0": lambda m: m.topk(m.tensor([[1.0, 5.0], [3.0, 4.0], [0.0, 9.0]]), 1, dim=0),
    "kthvalue": lambda m: m.kthvalue(m.tensor([4.0, 1.0, 3.0, 2.0]), 2),
    "msort": lambda m: m.msort(I(m)),
    "unique": lambda m: m.unique(m.tensor([3, 1, 3, 2, 1])),
    "unique_inverse": lambda m: m.unique(m.tensor([3, 1, 3, 2, 1]), return_inverse=True),
    "unique_counts": lambda m: m.unique(m.tensor([3, 1, 3, 2, 1]), return_counts=True),
    "unique_both": lambda m: m.unique(m.tensor([[3.0, 1.0], [3.0, 2.0]]), return_inverse=True,
                                      return_counts=True),
    "unique_dim": lambda m: m.unique(m.tensor([[1, 2], [0, 1], [1, 2]]), dim=0,
                                     return_inverse=True, return_counts=True),
    "unique_bool": lambda m: m.unique(m.tensor([True, False, True])),
    "unique_consecutive": lambda m: m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1]),
                                                         return_inverse=True,
                                                         return_counts=True),
}


@pytest.mark.parametrize("case", list(SORTS))
def test_sorting(case):
    check(SORTS[case])


def test_sort_and_topk_namedtuples():
    for m in (ember, torch):
        x = m.tensor([[3.0, 1.0, 2.0]])
        s = m.sort(x)
        assert s.values.tolist() == [[1.0, 2.0, 3.0]] and s.indices.tolist() == [[1, 2, 0]]
        values, indices = m.topk(x, 2)
        assert values.tolist() == [[3.0, 2.0]] and indices.tolist() == [[0, 2]]
        assert m.topk(x, 2).indices.dtype == m.int64


# ------------------------------------------------------------------ reductions' dtypes
REDUCTIONS = {
    "cumsum_int32": lambda m: m.cumsum(I(m, dtype="int32"), 1),
    "cumsum_bool": lambda m: m.cumsum(I(m, BOOLS, "bool"), 0),
    "cumsum_uint8": lambda m: I(m, [[200, 100]], "uint8").cumsum(1),
    "cumsum_dtype": lambda m: m.cumsum(I(m), 1, dtype=m.float64),
    "cumprod_int8": lambda m: m.cumprod(I(m, dtype="int8"), 1),
    "sum_bool": lambda m: I(m, BOOLS, "bool").sum(),
    "sum_bool_dim": lambda m: I(m, BOOLS, "bool").sum(0),
    "sum_int8": lambda m: I(m, dtype="int8").sum(),
    "sum_uint8_overflow": lambda m: I(m, [[200, 100]], "uint8").sum(),
    "sum_int32_keepdim": lambda m: I(m, dtype="int32").sum(1, keepdim=True),
    "sum_float16": lambda m: m.tensor([1.5, 2.5], dtype=m.float16).sum(),
    "sum_dtype": lambda m: I(m).sum(dtype=m.float32),
    "sum_dtype_int8_wraps": lambda m: I(m, [[100, 100, 100]]).sum(dtype=m.int8),
    "prod_dtype_int16": lambda m: I(m, [[100, 100, 100]]).prod(dtype=m.int16),
    "cumsum_dtype_int8": lambda m: I(m, [[100, 100, 100]]).cumsum(1, dtype=m.int8),
    "cumprod_dtype_uint8": lambda m: I(m, [[100, 100, 100]]).cumprod(1, dtype=m.uint8),
    "prod_bool": lambda m: I(m, BOOLS, "bool").prod(1),
    "prod_int16": lambda m: I(m, dtype="int16").prod(),
    "mean_float_of_int": lambda m: I(m).float().mean(),
    "mean_dtype": lambda m: I(m).mean(dtype=m.float64),
    "max_int": lambda m: I(m).max(),
    "max_dim": lambda m: I(m).max(dim=1),
    "min_dim_keepdim": lambda m: m.tensor(FLOATS).min(0, keepdim=True),
    "max_nan": lambda m: m.tensor(FLOATS).max(),
    "max_bool": lambda m: I(m, BOOLS, "bool").max(dim=0),
    "max_ties": lambda m: m.tensor([1, 3, 3, 0, 3]).max(0),
    "argmax_ties": lambda m: m.argmax(m.tensor([[1, 3, 3], [2, 2, 0]]), dim=1),
    "argmin": lambda m: m.tensor([4.0, -1.0, -1.0]).argmin(),
    "any_all": lambda m: (I(m).any(), I(m).all(1), I(m, BOOLS, "bool").any(0)),
    "any_uint8": lambda m: I(m, [[0, 7]], "uint8").any(),
    "all_uint8_dim": lambda m: I(m, [[0, 7]], "uint8").all(1, keepdim=True),
    "count_nonzero": lambda m: m.count_nonzero(I(m), dim=0),
    "amax_int": lambda m: m.amax(I(m, dtype="int16"), dim=(0, 1)),
    "median_int": lambda m: m.median(m.tensor([4, 1, 3, 2])),
    "std_mean": lambda m: m.std_mean(m.tensor([1.0, 2.0, 4.0])),
    "var_correction": lambda m: m.var(m.tensor([1.0, 2.0, 4.0]), correction=0),
}


@pytest.mark.parametrize("case", list(REDUCTIONS))
def test_reduction_dtypes(case):
    check(REDUCTIONS[case])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_mean_of_non_float_raises(dtype):
    for m in (ember, torch):
        with pytest.raises(RuntimeError):
            I(m, BOOLS, dtype).mean()
        with pytest.raises(RuntimeError):
            m.mean(I(m, BOOLS, dtype), dim=0)


def test_max_min_namedtuples():
    for m in (ember, torch):
        x = m.tensor([[1.0, 5.0], [7.0, 2.0]])
        r = x.max(dim=1)
        assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
        values, indices = m.min(x, 0)
        assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]
        assert type(r).__name__ == "max" and len(r) == 2 and r[0] is r.values
        assert m.max(x, m.tensor(3.0)).tolist() == [[3.0, 5.0], [7.0, 3.0]]


# ------------------------------------------------------------------ error messages
def test_matmul_mismatch_message():
    with pytest.raises(RuntimeError) as info:
        ember.zeros(32, 784) @ ember.zeros(256, 10)
    assert "matmul: (32x784) @ (256x10): inner dimensions 784 and 256 differ" in str(info.value)
    with pytest.raises(RuntimeError):
        torch.zeros(32, 784) @ torch.zeros(256, 10)
    for m in (ember, torch):
        with pytest.raises(RuntimeError):
            m.zeros(2, 3) @ m.zeros(2)
        with pytest.raises(RuntimeError):
            m.zeros(2, 2, 3) @ m.zeros(3, 3, 2)
        with pytest.raises(RuntimeError):
            m.zeros(()) @ m.zeros(3)


ERRORS = {
    "cat_sizes": (RuntimeError, lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 4)])),
    "cat_ndim": (RuntimeError, lambda m: m.cat([m.zeros(2, 3), m.zeros(3)])),
    "cat_empty_list": (ValueError, lambda m: m.cat([])),
    "stack_empty_list": (RuntimeError, lambda m: m.stack([])),
    "stack_shapes": (RuntimeError, lambda m: m.stack([m.zeros(2), m.zeros(3)])),
    "view_non_contiguous": (RuntimeError, lambda m: m.zeros(3, 4).t().view(12)),
    "view_wrong_size": (RuntimeError, lambda m: m.zeros(3, 4).view(5, 2)),
    "reshape_wrong_size": (RuntimeError, lambda m: m.zeros(3, 4).reshape(5, -1)),
    "reshape_two_minus_one": (RuntimeError, lambda m: m.zeros(3, 4).reshape(-1, -1)),
    "expand_smaller": (RuntimeError, lambda m: m.zeros(3, 4).expand(3, 2)),
    "expand_fewer_dims": (RuntimeError, lambda m: m.zeros(3, 4).expand(4)),
    "expand_non_singleton": (RuntimeError, lambda m: m.zeros(2, 1).expand(3, 5)),
    "squeeze_dim": (IndexError, lambda m: m.zeros(2, 1).squeeze(2)),
    "squeeze_neg_dim": (IndexError, lambda m: m.zeros(2, 1).squeeze(-3)),
    "unsqueeze_dim": (IndexError, lambda m: m.zeros(2, 1).unsqueeze(3)),
    "unsqueeze_neg_dim": (IndexError, lambda m: m.zeros(2, 1).unsqueeze(-4)),
    "sum_dim": (IndexError, lambda m: m.zeros(2).sum(1)),
    "transpose_dim": (IndexError, lambda m: m.zeros(2, 3).transpose(0, 2)),
    "permute_count": (RuntimeError, lambda m: m.zeros(2, 3).permute(0)),
    "permute_repeat": (RuntimeError, lambda m: m.zeros(2, 3).permute(0, 0)),
    "softmax_dim": (IndexError, lambda m: m.softmax(m.zeros(2, 3), dim=2)),
    "mm_dims": (RuntimeError, lambda m: m.mm(m.zeros(2, 3), m.zeros(2, 3))),
    "gather_dims": (RuntimeError, lambda m: m.gather(m.zeros(2, 3), 1, m.zeros(2, dtype=m.long))),
    "split_sizes": (RuntimeError, lambda m: m.split(m.zeros(5), [2, 2])),
    "flatten_dims": (IndexError, lambda m: m.zeros(2, 3).flatten(0, 2)),
    "repeat_fewer": (RuntimeError, lambda m: m.zeros(2, 3).repeat(2)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    exc, fn = ERRORS[case]
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(ember)


def test_view_error_suggests_reshape():
    with pytest.raises(RuntimeError, match="reshape"):
        ember.zeros(3, 4).t().view(12)
    assert ember.zeros(3, 4).t().reshape(12).shape == (12,)


def test_cat_error_names_the_sizes():
    with pytest.raises(RuntimeError) as info:
        ember.cat([ember.zeros(2, 3), ember.zeros(2, 4)])
    assert "3" in str(info.value) and "4" in str(info.value)


def test_reshape_error_names_the_shape():
    with pytest.raises(RuntimeError) as info:
        ember.zeros(3, 4).reshape(5, -1)
    assert "[5, -1]" in str(info.value) and "12" in str(info.value)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_infinite_rows_and_empty_tensors_as_torch(name, recwarn):
    x = np.array([[-np.inf] * 3, [1.0, 2.0, 3.0], [np.inf, 0.0, 1.0]], dtype=np.float32)
    got = getattr(ember, name)(ember.tensor(x), -1).numpy()
    want = getattr(torch, name)(torch.tensor(x), -1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    for shape in [(0, 3), (2, 0)]:
        grads = []
        for lib in (torch, ember):
            a = lib.zeros(*shape, requires_grad=True)
            y = getattr(lib.nn.functional, name)(a, -1)
            y.sum().backward()
            grads.append((tuple(y.shape), tuple(a.grad.shape)))
        assert grads[0] == grads[1]


def test_clone_and_like_keep_the_stride_order_as_torch():
    """preserve_format: a non-overlapping tensor's stride order is kept (transposed, sliced,
    permuted, channels_last); expanded (overlapping) memory becomes contiguous."""
    strides = []
    for lib in (torch, ember):
        x = lib.arange(12.0).reshape(3, 4)
        views = [x.t(), x[:, ::2], x.t()[::2], lib.zeros(2, 3, 4).permute(2, 0, 1),
                 x.unsqueeze(1).expand(3, 5, 4),
                 lib.zeros(2, 3, 4, 5).to(memory_format=lib.channels_last)]
        strides.append([(tuple(v.clone().stride()), tuple(lib.zeros_like(v).stride()),
                         tuple(lib.empty_like(v).stride()), tuple(lib.ones_like(v).stride()),
                         v.clone().is_contiguous()) for v in views])
        np.testing.assert_array_equal(views[2].clone().numpy(), views[2].numpy())
    assert strides[1] == strides[0]


@pytest.mark.parametrize("call", [
    "x.sum(axis=1)", "lib.sum(x, axis=0, keepdims=True)", "x.mean(axis=1, keepdim=True)",
    "lib.mean(x, axis=(0, 1))", "x.prod(axis=0)", "x.std(axis=0)", "x.var(axis=1, keepdims=True)",
    "x.max(axis=1).values", "lib.max(x, axis=0).indices", "x.min(axis=1, keepdims=True).values",
    "lib.amax(x, axis=1)", "x.amin(axis=0, keepdims=True)", "x.argmax(axis=1)",
    "lib.argmin(x, axis=0, keepdims=True)", "lib.logsumexp(x, axis=1)", "(x > 1).all(axis=0)",
    "(x > 1).any(axis=1, keepdims=True)", "lib.cat([x, x], axis=0)", "lib.stack([x, x], axis=1)",
    "x.softmax(axis=1)", "lib.softmax(x, axis=1)", "x.log_softmax(axis=0)",
    "lib.log_softmax(x, axis=1)", "x.reshape(shape=(3, 2))", "x.view(size=(3, 2))",
    "x.expand(size=(2, 2, 3))", "x.permute(dims=(1, 0))", "x.repeat(repeats=(1, 2))",
    "x.nansum(axis=1)", "x.cumsum(axis=0)", "x.median(axis=1).values", "x.topk(2, axis=1).values",
    "x.sort(axis=1).values", "x.argsort(axis=0)", "x[None].squeeze(axis=0)",
    "x.unsqueeze(axis=0)", "x.chunk(2, axis=1)[0]", "x.unbind(axis=0)[1]",
    "x.gather(axis=1, index=lib.zeros(2, 1, dtype=lib.long))",
    "x.index_select(axis=0, index=lib.tensor([1]))",
    # the function forms, and the other dim-taking ops (DDPM's torch.cumprod(alphas, axis=0))
    "lib.cumprod(x, axis=0)", "x.cumprod(axis=1)", "lib.cumsum(x, axis=1)",
    "lib.logcumsumexp(x, axis=1)", "lib.cummax(x, axis=0).values", "x.cummin(axis=1).indices",
    "lib.mode(x, axis=1, keepdims=True).values", "x.kthvalue(1, axis=0).values",
    "lib.count_nonzero(x, axis=0)", "lib.nanmean(x, axis=1, keepdims=True)", "lib.diff(x, axis=0)",
    "lib.narrow(x, axis=1, start=0, length=2)", "x.select(axis=1, index=0)",
    "lib.quantile(x, 0.5, axis=1, keepdims=True)", "lib.aminmax(x, axis=0, keepdims=True).max",
    "lib.nanmedian(x, axis=1).values", "lib.repeat_interleave(x, 2, axis=0)",
    "lib.tensor_split(x, 2, axis=1)[0]", "lib.std_mean(x, axis=1, keepdims=True)[0]",
    "lib.var_mean(x, axis=0)[1]", "lib.trapezoid(x, axis=0)", "lib.cumulative_trapezoid(x, axis=1)",
    "lib.squeeze(x[None], axis=0)", "lib.unsqueeze(x, axis=1)", "lib.topk(x, 2, axis=1).values",
    "lib.sort(x, axis=0, descending=True).values", "lib.argsort(x, axis=1)",
    "lib.median(x, axis=1, keepdims=True).values", "lib.nansum(x, axis=1)",
    "lib.gather(x, axis=1, index=lib.zeros(2, 1, dtype=lib.long))",
    "lib.index_select(x, axis=1, index=lib.tensor([2]))", "lib.unbind(x, axis=1)[0]",
    "lib.chunk(x, 3, axis=1)[1]", "lib.renorm(x, 2, axis=0, maxnorm=1.0)",
    "lib.take_along_dim(x, lib.zeros(2, 1, dtype=lib.long), axis=1)",
    "x.scatter(axis=0, index=lib.zeros(2, 3, dtype=lib.long), src=x)",
    "lib.index_add(x, axis=0, index=lib.tensor([1]), source=x[:1])",
    "x.clone().cumsum_(axis=0)", "x.clone().unsqueeze_(axis=0)",
    "x.clone().index_fill_(axis=1, index=lib.tensor([0]), value=-1.0)",
])
def test_keyword_spellings_torch_accepts(call):
    """torch's argument parser takes numpy's axis=/keepdims= for dim=/keepdim=, and size=,
    shape=, dims=, repeats= for the shape arguments of view/reshape/expand/permute/repeat."""
    results = []
    for lib in (torch, ember):
        x = lib.arange(6.0).reshape(2, 3)
        results.append(eval(call, {"lib": lib, "x": x}).tolist())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


@pytest.mark.parametrize("method", ["softmax", "log_softmax", "cumsum", "unsqueeze"])
def test_methods_still_require_dim(method):
    for lib in (torch, ember):
        with pytest.raises(TypeError):
            getattr(lib.ones(2, 3), method)()


def test_dim_and_axis_together_is_an_error():
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
            lib.cumprod(lib.ones(2), dim=0, axis=0)


@pytest.mark.parametrize("fmt", ["contiguous_format", "preserve_format", None])
def test_clone_never_shares_memory(fmt: str | None) -> None:
    # clone(memory_format=contiguous_format) of a contiguous tensor was the tensor's own memory
    for m in (torch, ember):
        x = m.ones(2, 3)
        y = x.clone() if fmt is None else x.clone(memory_format=getattr(m, fmt))
        x.add_(1)
        assert y.sum().item() == 6.0


def test_numpy_of_a_grad_tensor_under_no_grad() -> None:
    # torch refuses .numpy() of a tensor that requires grad only while grad mode is on (a
    # saved-tensor pack hook `lambda t: t.numpy()` relies on it)
    for m in (torch, ember):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="requires grad"):
            x.numpy()
        with m.no_grad():
            np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


def test_copy_slices_node_name() -> None:
    names = []
    for m in (torch, ember):
        base = m.ones(3, requires_grad=True).clone()
        base[1:].mul_(2)  # an in-place op on a view: the base's graph becomes CopySlices
        names.append((base.grad_fn.name(), repr(base.grad_fn).split(" object")[0]))
    assert names[0] == names[1]


def test_linear_refuses_a_non_tensor_input() -> None:
    for m in (torch, ember):
        with pytest.raises(TypeError, match=r"linear\(\): argument 'input' \(position 1\) must "
                                            r"be Tensor, not dict"):
            m.nn.Linear(2, 2)({"x": 1})


def test_inplace_unary_keywords_and_i0_out() -> None:
    data = [0.2, 0.5, 0.93]
    for m in (torch, ember):
        assert m.tensor(data).logit_(eps=0.3).tolist() == pytest.approx(
            torch.tensor(data).logit(eps=0.3).tolist(), abs=1e-6)
        assert m.tensor([1.26]).round_(decimals=1).tolist() == pytest.approx([1.3])
        out = m.empty(3)
        assert m.i0(m.tensor(data), out=out) is out
        np.testing.assert_allclose(out.numpy(), torch.i0(torch.tensor(data)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "float16", "complex64"])
def test_reflected_division_is_reciprocal_times_number(dtype: str) -> None:
    # torch's __rtruediv__ is reciprocal() * other: 3 / -2.5 is -1.2000000000000002 in float64
    vals = [-2.5, 3.0, 7.0] if dtype != "int64" else [-3, 7, 9]
    out = []
    for m in (torch, ember):
        t = m.tensor(vals, dtype=getattr(m, dtype))
        y = 3 / t
        out.append((y.numpy().tolist(), str(y.dtype).split(".")[-1]))
    assert out[0] == out[1]


def test_orgqr_and_ormqr() -> None:
    a = np.random.default_rng(0).standard_normal((4, 3))
    c = np.arange(8.0).reshape(4, 2)
    res = []
    for m in (torch, ember):
        qr, tau = m.geqrf(m.tensor(a))
        res.append([m.orgqr(qr, tau), qr.orgqr(tau),
                    m.ormqr(qr, tau, m.tensor(c), left=True, transpose=True),
                    qr.ormqr(tau, m.tensor(c).T, False, False)])
    for t, e in zip(*res):
        np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)


def test_resizing_a_non_empty_out_warns_as_torch() -> None:
    import warnings  # noqa: PLC0415

    for m in (torch, ember):
        with pytest.warns(UserWarning, match="was resized since it had shape"):
            m.exp(m.ones(3), out=m.empty(2))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = m.exp(m.ones(3), out=m.empty(0))  # an empty output is resized silently
        assert list(out.shape) == [3]


@pytest.mark.filterwarnings("ignore:Complex modules")
def test_fixes_found_by_the_nn_and_reduction_fuzzing() -> None:
    # float16 norms accumulate in float32; +bool, pdist/cdist argument errors; Module.to(complex)
    out = []
    for m in (torch, ember):
        row = []
        x = m.full((5,), 1e-6, dtype=m.float16, requires_grad=True)
        n = x.norm()
        n.backward()
        row += [n.item(), m.linalg.vector_norm(x.detach(), 3).item(), x.grad.tolist()]
        cases = (lambda: +m.tensor([True]), lambda: m.pdist(m.ones(3, 2), p=-1),
                 lambda: m.pdist(m.ones(3, 2, dtype=m.int64)),
                 lambda: m.cdist(m.ones(3, 2, dtype=m.int64), m.ones(3, 2, dtype=m.int64)),
                 lambda: m.cdist(m.ones(3, 2), m.ones(3, 2, dtype=m.float64)),
                 lambda: m.cdist(m.ones(3, 2), m.ones(3, 2), compute_mode="x"))
        for case in cases:
            try:
                case()
                row.append("ok")
            except (RuntimeError, ValueError) as e:
                row.append(type(e).__name__)
        bn = m.nn.BatchNorm1d(2).to(m.complex64)
        row += [str(bn.weight.dtype).split(".")[-1], str(bn.num_batches_tracked.dtype)[-5:]]
        out.append(row)
    assert out[0] == out[1]
