"""Indexing against torch: x[key] (values and gradients) and x[key] = value, for basic,
advanced and mixed keys, on float and integer tensors; out-of-range keys raise IndexError."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import compare
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

SHAPE = (4, 5, 6)


def T(m, values, dtype=None):
    return m.tensor(values, dtype=getattr(m, dtype) if dtype else None)


# Each key is built from the module, so index tensors are that library's tensors.
READ_KEYS = {
    "int": lambda m: 2,
    "neg_int": lambda m: -1,
    "int_int": lambda m: (1, -2),
    "int_int_int": lambda m: (3, 4, -6),
    "slice": lambda m: slice(1, 3),
    "slice_step": lambda m: slice(None, None, 2),
    "slice_neg_bounds": lambda m: (slice(-3, -1), slice(None, -2, 3)),
    "slice_past_end": lambda m: slice(2, 100),
    "slice_empty": lambda m: slice(3, 1),
    "none": lambda m: None,
    "none_middle": lambda m: (slice(None), None, 1),
    "ellipsis": lambda m: (Ellipsis, 0),
    "ellipsis_none": lambda m: (1, Ellipsis, None),
    "ellipsis_middle": lambda m: (0, Ellipsis, slice(1, 4)),
    "list": lambda m: [0, 2, 2],
    "list_neg": lambda m: [-1, 0],
    "list_2d": lambda m: ([[0, 1], [3, 3]],),
    "list_in_tuple": lambda m: (slice(None), [0, 4], [[1], [2]]),
    "tensor_1d": lambda m: T(m, [3, 0, 1, 3]),
    "tensor_2d": lambda m: T(m, [[0, 1, 2], [2, 2, 0]]),
    "tensor_int32": lambda m: T(m, [1, 2], "int32"),
    "tensor_0d": lambda m: T(m, 2),
    "two_tensors": lambda m: (T(m, [0, 1, 3]), T(m, [4, 0, 1])),
    "two_tensors_broadcast": lambda m: (T(m, [[0], [2]]), T(m, [1, 3, 4])),
    "three_tensors": lambda m: (T(m, [0, 3]), T(m, [1, 1]), T(m, [5, -6])),
    "tensor_and_slice": lambda m: (slice(1, 3), T(m, [4, 0])),
    "slice_tensor_slice": lambda m: (slice(None), T(m, [[1, 2]]), slice(None, 2)),
    "int_and_tensor": lambda m: (1, T(m, [0, 4, 4])),
    "separated_advanced": lambda m: (T(m, [0, 2]), slice(None), T(m, [1, 5])),
    "separated_int_tensor": lambda m: (T(m, [0, 2]), slice(1, 3), 3),
    "adjacent_after_slice": lambda m: (slice(None), T(m, [0, 2]), T(m, [1, 5])),
    "ellipsis_tensor": lambda m: (Ellipsis, T(m, [0, 5, 1])),
    "tensor_ellipsis_tensor": lambda m: (T(m, [0, 1]), Ellipsis, T(m, [2, 3])),
    "tensors_around_empty_ellipsis": lambda m: (slice(None), T(m, [0, 1]), Ellipsis, T(m, [2, 3])),
    "none_and_tensor": lambda m: (None, T(m, [1, 2]), slice(None), 0),
    "int_slice_tensor": lambda m: (0, slice(None), T(m, [5, 1, 1])),
    "slice_tensor_slice_int": lambda m: (slice(None), T(m, [0, 3]), 2),
    "zero_dim_tensor_select": lambda m: (slice(None), T(m, 1), T(m, [0, 2])),
    "mask_full": lambda m: (m.arange(120).reshape(SHAPE) % 3) == 0,
    "mask_first_dim": lambda m: T(m, [True, False, True, True]),
    "mask_two_dims": lambda m: (m.arange(20).reshape(4, 5) % 2) == 1,
    "mask_after_slice": lambda m: (slice(None), T(m, [False, True, False, True, True])),
    "mask_and_int": lambda m: (T(m, [True, False, False, True]), 2),
    "mask_all_false": lambda m: T(m, [False, False, False, False]),
    "bool_scalar_true": lambda m: True,
    "bool_scalar_false": lambda m: False,
    "empty_list": lambda m: T(m, [], "int64"),
    "byte_mask": lambda m: T(m, [0, 1, 1, 0], "uint8"),
    "byte_mask_zero_dim": lambda m: T(m, 1, "uint8"),
    "int32_zero_dim_select": lambda m: (slice(None), T(m, 2, "int32"), T(m, [0, 1], "int32")),
}


@pytest.mark.parametrize("key", list(READ_KEYS))
def test_getitem_values_and_grads(key):
    compare(lambda m, x: x[READ_KEYS[key](m)], [SHAPE])


@pytest.mark.parametrize("key", ["int", "slice_step", "tensor_2d", "two_tensors_broadcast",
                                 "separated_advanced", "mask_full", "mask_after_slice"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
def test_getitem_other_dtypes(key, dtype):
    compare(lambda m, x: x[READ_KEYS[key](m)], [SHAPE], dtype=dtype, grad=False)


@st.composite
def mixed_keys(draw, shape=(4, 4, 4)):
    """Keys of ints, slices, None, an Ellipsis, index arrays and masks (numpy, for both).

    All dims have one size, so an Ellipsis anywhere keeps every item in range."""
    items, dim = [], 0
    ellipsis = draw(st.booleans())
    while dim < len(shape) and draw(st.integers(0, 4)):
        n = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "array", "array2d", "mask"]))
        if kind == "none":
            items.append(None)
            continue
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            items.append(slice(draw(st.none() | st.integers(-n, n)),
                               draw(st.none() | st.integers(-n, n)),
                               draw(st.none() | st.integers(1, 3))))
        elif kind == "mask":
            items.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        else:
            size = (2,) if kind == "array" else (draw(st.integers(1, 2)), 1)
            items.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(size)),
                                                max_size=int(np.prod(size))))).reshape(size))
        dim += 1
    if ellipsis:
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return tuple(items)


def _key_for(m, key):
    return tuple(m.tensor(k) if isinstance(k, np.ndarray) else k for k in key)


@settings(max_examples=60, deadline=None)
@given(key=mixed_keys())
def test_mixed_keys_match_torch(key):
    try:
        torch.zeros(4, 4, 4)[_key_for(torch, key)]
    except IndexError:
        with pytest.raises(IndexError):
            ember.zeros(4, 4, 4)[_key_for(ember, key)]
        return
    compare(lambda m, x: x[_key_for(m, key)], [(4, 4, 4)])


@settings(max_examples=40, deadline=None)
@given(key=mixed_keys())
def test_mixed_keys_setitem_match_torch(key):
    try:
        shape = tuple(torch.zeros(4, 4, 4)[_key_for(torch, key)].shape)
    except IndexError:
        with pytest.raises(IndexError):
            ember.zeros(4, 4, 4)[_key_for(ember, key)] = 1.0
        return
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    e, t = ember.zeros(4, 4, 4), torch.zeros(4, 4, 4)
    e[_key_for(ember, key)] = ember.tensor(values)
    t[_key_for(torch, key)] = torch.tensor(values)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_getitem_repeated_index_grad_accumulates():
    compare(lambda m, x: x[T(m, [1, 1, 1, 0])] * 2, [(3, 2)])
    compare(lambda m, x: x[T(m, [[0, 0]]), T(m, [[2, 2]])], [(3, 4)])


def test_basic_indexing_is_a_view():
    for m in (ember, torch):
        x = m.zeros(3, 4)
        x[1][2] = 5.0
        x[:, 0][1:] = 7.0
        x[..., -1].fill_(1.0)
        assert x.tolist() == [[0.0, 0.0, 0.0, 1.0], [7.0, 0.0, 5.0, 1.0], [7.0, 0.0, 0.0, 1.0]]


def test_advanced_indexing_copies():
    x = ember.zeros(3)
    y = x[[0, 1]]
    y[0] = 1.0
    assert x.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("key", [
    lambda m: 4,
    lambda m: -5,
    lambda m: (0, 5),
    lambda m: (0, 0, 6),
    lambda m: [0, 4],
    lambda m: T(m, [1, -5]),
    lambda m: (T(m, [0]), T(m, [7])),
    lambda m: (0, 0, 0, 0),
    lambda m: T(m, [True, False]),
])
def test_getitem_out_of_range_raises(key):
    with pytest.raises(IndexError):
        torch.zeros(SHAPE)[key(torch)]
    with pytest.raises(IndexError):
        ember.zeros(SHAPE)[key(ember)]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_getitem_small_int_or_float_index_tensor_raises(dtype):
    with pytest.raises(IndexError):
        torch.zeros(3)[torch.tensor([0, 1], dtype=getattr(torch, dtype))]
    with pytest.raises(IndexError):
        ember.zeros(3)[ember.tensor([0, 1], dtype=getattr(ember, dtype))]


def test_getitem_float_index_raises():
    with pytest.raises(IndexError):
        torch.zeros(3)[torch.tensor([0.0])]
    with pytest.raises(IndexError):
        ember.zeros(3)[ember.tensor([0.0])]
    with pytest.raises((IndexError, TypeError)):
        ember.zeros(3)[1.5]


def test_zero_dim_indexing():
    for m in (ember, torch):
        x = m.tensor(3.5)
        assert x[()].item() == 3.5 and x[...].shape == () and x[None].shape == (1,)
        with pytest.raises(IndexError):
            x[0]


# ------------------------------------------------------------------ __setitem__
WRITE_CASES = {
    "int_scalar": (lambda m: 1, lambda m: 3.0),
    "neg_int_row": (lambda m: -1, lambda m: m.arange(30).reshape(5, 6)),
    "slice_broadcast_row": (lambda m: slice(1, 3), lambda m: m.arange(6)),
    "slice_step_scalar": (lambda m: (slice(None), slice(None, None, 2)), lambda m: -1),
    "ellipsis_col": (lambda m: (Ellipsis, 0), lambda m: m.ones(4, 1)),
    "none": (lambda m: (None, 0), lambda m: 2),
    "list": (lambda m: [0, 3], lambda m: 9),
    "tensor_1d": (lambda m: T(m, [2, 0]), lambda m: m.arange(60).reshape(2, 5, 6)),
    "tensor_2d_broadcast": (lambda m: T(m, [[1], [3]]), lambda m: m.arange(6)),
    "two_tensors": (lambda m: (T(m, [0, 1]), T(m, [4, 2])), lambda m: m.tensor([[1], [2]])),
    "separated": (lambda m: (T(m, [0, 3]), slice(1, 3), T(m, [5, 0])),
                  lambda m: m.arange(4).reshape(2, 2)),
    "mask_full_scalar": (lambda m: (m.arange(120).reshape(SHAPE) % 4) == 0, lambda m: -7),
    "mask_full_values": (lambda m: (m.arange(120).reshape(SHAPE) % 4) == 0,
                         lambda m: m.arange(30)),
    "mask_first_dim": (lambda m: T(m, [False, True, True, False]), lambda m: m.ones(5, 6)),
    "mask_partial_broadcast": (lambda m: (slice(None), T(m, [True, False, True, False, False])),
                               lambda m: m.arange(6)),
    "zero_dim_tensor_value": (lambda m: (0, 0), lambda m: m.tensor(4)),
}


def _write(m, dtype: str, key_fn, value_fn):
    x = m.arange(120).reshape(SHAPE).to(getattr(m, dtype))
    value = value_fn(m)
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        value = value.to(getattr(m, dtype))
    x[key_fn(m)] = value
    return x


@pytest.mark.parametrize("case", list(WRITE_CASES))
@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_setitem(case, dtype):
    key_fn, value_fn = WRITE_CASES[case]
    e = _write(ember, dtype, key_fn, value_fn)
    t = _write(torch, dtype, key_fn, value_fn)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_setitem_casts_value_to_target_dtype():
    for value in (2.7, -1.5, True):
        e, t = ember.zeros(3, dtype=ember.int64), torch.zeros(3, dtype=torch.int64)
        e[1], t[1] = value, value
        assert e.tolist() == t.tolist() and e.dtype is ember.int64
    e, t = ember.zeros(2, dtype=ember.bool), torch.zeros(2, dtype=torch.bool)
    e[0], t[0] = 3, 3
    assert e.tolist() == t.tolist()
    e, t = ember.zeros(2), torch.zeros(2)
    e[0], t[0] = ember.tensor(5), torch.tensor(5)
    assert e.tolist() == t.tolist() and e.dtype is ember.float32


def test_setitem_negative_int_wraps_into_uint8():
    for value in (-1, -128, -255):
        e, t = ember.zeros(3, dtype=ember.uint8), torch.zeros(3, dtype=torch.uint8)
        e[1:], t[1:] = value, value
        assert e.tolist() == t.tolist()


@pytest.mark.parametrize("dtype,value", [("uint8", 300), ("int8", -129), ("uint8", -256)])
def test_setitem_out_of_range_scalar_raises(dtype, value):
    with pytest.raises(RuntimeError):
        torch.zeros(3, dtype=getattr(torch, dtype))[1:] = value
    with pytest.raises(RuntimeError):
        ember.zeros(3, dtype=getattr(ember, dtype))[1:] = value


def test_setitem_shape_mismatch_raises():
    with pytest.raises(RuntimeError):
        torch.zeros(3, 4)[0] = torch.ones(3)
    with pytest.raises(RuntimeError):
        ember.zeros(3, 4)[0] = ember.ones(3)


@pytest.mark.parametrize("key", [lambda m: 3, lambda m: (0, -5), lambda m: T(m, [0, 3]),
                                 lambda m: [True, False]])
def test_setitem_out_of_range_raises(key):
    with pytest.raises(IndexError):
        torch.zeros(3, 4)[key(torch)] = 1.0
    with pytest.raises(IndexError):
        ember.zeros(3, 4)[key(ember)] = 1.0


def test_setitem_gradients():
    """Writing into a non-leaf: the overwritten part gets no gradient, the values get theirs."""
    def fn(m, x, v):
        y = x * 1.0
        y[T(m, [0, 2]), 1:3] = v
        y[..., 0] = 0.0
        return y

    compare(fn, [(3, 4), (2, 1)])

    def masked(m, x, v):
        y = x.clone()
        y[x > 0] = v.sum()
        return y

    compare(masked, [(3, 4), (2,)])


def test_setitem_on_leaf_requiring_grad_raises():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x[0] = 1.0
    with torch.no_grad(), ember.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_setitem_view_writes_through():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        row = x[1]
        row[T(m, [0, 2])] = 4.0
        x[0, 1:] = m.tensor([1.0, 2.0])
        assert x.tolist() == [[0.0, 1.0, 2.0], [4.0, 0.0, 4.0]]


def test_index_tensor_methods():
    """index_put_ with accumulate, masked_fill with a 0-dim tensor."""
    for accumulate in (False, True):
        e, t = ember.zeros(5), torch.zeros(5)
        e.index_put_((ember.tensor([0, 2, 0]),), ember.tensor([1.0, 2.0, 3.0]), accumulate)
        t.index_put_((torch.tensor([0, 2, 0]),), torch.tensor([1.0, 2.0, 3.0]), accumulate)
        if accumulate:
            assert e.tolist() == t.tolist()
        else:  # a repeated index without accumulate keeps one of the writes (torch: undefined)
            assert e[2].item() == t[2].item() == 2.0 and e[0].item() in (1.0, 3.0)
    compare(lambda m, x: x.masked_fill(x > 0, m.tensor(-1.0)), [(3, 4)])


def test_accumulating_rows_with_repeated_and_negative_indices_matches_torch() -> None:
    """index_put_(accumulate=True) and the gradients of row lookups sum every repeat, with -1
    and n-1 naming the same row (the sorted segmented-sum path of the row scatter)."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 3)).astype(np.float32)
    index = np.array([5, -1, 0, 2, 0, -6, 3, 5], dtype=np.int64)
    values = rng.standard_normal((8, 3)).astype(np.float32)
    ours = ember.tensor(base).index_put_((ember.tensor(index),), ember.tensor(values),
                                         accumulate=True)
    theirs = torch.tensor(base).index_put_((torch.tensor(index),), torch.tensor(values),
                                           accumulate=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    weight = ember.tensor(base, requires_grad=True)
    weight[ember.tensor(index)].mul(ember.tensor(values)).sum().backward()
    t_weight = torch.tensor(base, requires_grad=True)
    t_weight[torch.tensor(index)].mul(torch.tensor(values)).sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), t_weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    emb = ember.tensor(base, requires_grad=True)
    ember.nn.functional.embedding(ember.tensor(index % 6), emb).mul(ember.tensor(values)).sum() \
        .backward()
    t_emb = torch.tensor(base, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(index % 6), t_emb).mul(torch.tensor(values)).sum() \
        .backward()
    np.testing.assert_allclose(emb.grad.numpy(), t_emb.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("write", [
    lambda a: a[(4,) if a.ndim == 1 else (1, 4)].fill_(9),
    lambda a: (a[-1] if a.ndim == 1 else a[-1, -1]).add_(2),
    lambda a: (a[2] if a.ndim == 1 else a[1][2]).copy_(a.reshape(-1)[0] + 5),
    lambda a: (a[(1,)] if a.ndim == 1 else a[(0, 3)]).mul_(3),
])
@pytest.mark.parametrize("shape", [(5,), (2, 5)])
def test_integer_indexing_gives_a_view_that_writes_through(write, shape):
    """x[i] with every dim taken by an integer is a 0-d view in torch, not a copy."""
    results = []
    for lib in (torch, ember):
        a = lib.arange(float(np.prod(shape))).reshape(shape) + 1
        write(a)
        results.append(a.numpy())
    np.testing.assert_array_equal(results[1], results[0])
