"""Broadcasting, property-tested: any mutually broadcastable shapes give torch's values and
gradients; shapes that do not broadcast raise an error naming the op and the shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import Input, compare
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember

SETTINGS = settings(max_examples=40, deadline=None)
TWO = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                    max_side=4)
THREE = mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=0,
                                      max_side=4)

BINARY = {
    "add": lambda m, x, y: x + y,
    "mul": lambda m, x, y: m.mul(x, y),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "sub_alpha": lambda m, x, y: m.sub(x, y, alpha=2),
}


@pytest.mark.parametrize("op", list(BINARY))
@SETTINGS
@given(shapes=TWO, seed=st.integers(0, 2**16))
def test_binary_broadcast(op, shapes, seed):
    a, b = shapes.input_shapes
    compare(BINARY[op], [a, b], seed=seed)


@SETTINGS
@given(shapes=THREE, seed=st.integers(0, 2**16))
def test_where_broadcast(shapes, seed):
    cond, a, b = shapes.input_shapes
    mask = Input(cond, dtype="bool", grad=False)
    compare(lambda m, c, x, y: m.where(c, x, y), [mask, a, b], seed=seed)


@SETTINGS
@given(shapes=THREE, seed=st.integers(0, 2**16))
def test_three_operand_chain(shapes, seed):
    a, b, c = shapes.input_shapes
    compare(lambda m, x, y, z: m.addcmul(x, y, z, value=0.5), [a, b, c], seed=seed)
    compare(lambda m, x, y, z: (x * y + z).sum(), [a, b, c], seed=seed)


@SETTINGS
@given(shapes=THREE)
def test_broadcast_shapes_and_tensors(shapes):
    assert ember.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
    assert tuple(torch.broadcast_shapes(*shapes.input_shapes)) == shapes.result_shape
    tensors = [ember.zeros(s) for s in shapes.input_shapes]
    for out in ember.broadcast_tensors(*tensors):
        assert tuple(out.shape) == shapes.result_shape
    x = ember.zeros(shapes.input_shapes[0])
    assert tuple(x.expand(shapes.result_shape).shape) == shapes.result_shape
    assert tuple(ember.broadcast_to(x, shapes.result_shape).shape) == shapes.result_shape


@st.composite
def incompatible_pair(draw):
    """Two shapes with one dim whose sizes differ and neither is 1."""
    a, b = draw(TWO).input_shapes
    ndim = max(len(a), len(b), 1)
    a = (1,) * (ndim - len(a)) + tuple(a)
    b = (1,) * (ndim - len(b)) + tuple(b)
    dim = draw(st.integers(0, ndim - 1))
    sa, sb = draw(st.sampled_from([(2, 3), (3, 2), (0, 2), (4, 3), (2, 0)]))
    a = a[:dim] + (sa,) + a[dim + 1:]
    b = b[:dim] + (sb,) + b[dim + 1:]
    lead = draw(st.integers(0, dim))  # drop some leading dims of one shape
    if draw(st.booleans()):
        a = a[lead:]
    else:
        b = b[lead:]
    return a, b


def shape_text(shape) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "where"])
@SETTINGS
@given(pair=incompatible_pair())
def test_incompatible_shapes_raise(op, pair):
    a, b = pair
    calls = {
        "add": lambda m, x, y: x + y,
        "mul": lambda m, x, y: x * y,
        "maximum": lambda m, x, y: m.maximum(x, y),
        "where": lambda m, x, y: m.where(m.ones(x.shape, dtype=m.bool), x, y),
    }
    with pytest.raises(RuntimeError):
        calls[op](torch, torch.zeros(a), torch.zeros(b))
    with pytest.raises(RuntimeError) as info:
        calls[op](ember, ember.zeros(a), ember.zeros(b))
    message = str(info.value)
    assert op in message, message
    assert f"({shape_text(a)})" in message and f"({shape_text(b)})" in message, message


def test_broadcast_shapes_error_matches():
    with pytest.raises(RuntimeError):
        torch.broadcast_shapes((2, 3), (3, 2))
    with pytest.raises(RuntimeError, match="broadcast"):
        ember.broadcast_shapes((2, 3), (3, 2))


def test_inplace_cannot_grow_the_left_operand():
    """x += y may broadcast y to x, never x to a bigger shape."""
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.zeros(2, 3))
    with pytest.raises(RuntimeError):
        ember.zeros(3).add_(ember.zeros(2, 3))
    x = ember.zeros(2, 3)
    x += ember.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.numpy(), np.tile([1.0, 2.0, 3.0], (2, 1)))
