"""numpy's names for Ember's differentiable ops, so one backward formula serves two purposes.

Backward code asks `array_namespace(grad)` for its functions. On raw arrays that is numpy (or
cupy); under `create_graph=True` the gradients are Tensors and it is this module, whose
functions record the backward pass itself for higher-order derivatives.
"""

from __future__ import annotations

from typing import Any

from . import node as _node


def _ops() -> Any:
    import ember  # noqa: PLC0415 (ember imports this module while it loads)

    return ember


def _dims(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


def exp(x: Any) -> Any:
    return _ops().exp(x)


def log(x: Any) -> Any:
    return _ops().log(x)


def sqrt(x: Any) -> Any:
    return _ops().sqrt(x)


def sin(x: Any) -> Any:
    return _ops().sin(x)


def cos(x: Any) -> Any:
    return _ops().cos(x)


def sinh(x: Any) -> Any:
    return _ops().sinh(x)


def cosh(x: Any) -> Any:
    return _ops().cosh(x)


def abs(x: Any) -> Any:  # noqa: A001
    return _ops().abs(x)


def sign(x: Any) -> Any:
    return _ops().sgn(x)  # numpy's sign of a complex number is z / |z|: torch's sgn


def floor(x: Any) -> Any:
    return _ops().floor(x)


def trunc(x: Any) -> Any:
    return _ops().trunc(x)


def isfinite(x: Any) -> Any:
    return _ops().isfinite(x)


def maximum(a: Any, b: Any) -> Any:
    return _ops().maximum(a, b)


def where(cond: Any, a: Any, b: Any) -> Any:
    return _ops().where(cond, a, b)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _ops().sum(x, _dims(axis), keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _ops().mean(x, _dims(axis), keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    axes = _dims(axis)
    ember = _ops()
    if isinstance(axes, tuple):  # torch's prod reduces one dim at a time
        out = x
        for a in sorted(axes, reverse=True):
            out = ember.prod(out, a, True)
        return out if keepdims else out.squeeze(axes)
    return ember.prod(x, axes, keepdims)


def reshape(x: Any, shape: Any) -> Any:
    return _ops().reshape(x, tuple(shape))


def broadcast_to(x: Any, shape: Any) -> Any:
    return x.expand(*tuple(shape))


def expand_dims(x: Any, axis: int) -> Any:
    return x.unsqueeze(axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    return x.squeeze(axis)


def transpose(x: Any, axes: Any = None) -> Any:
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    return x.permute(*axes)


def swapaxes(x: Any, a: int, b: int) -> Any:
    return x.transpose(a, b)


def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    return x.movedim(source, destination)


def matmul(a: Any, b: Any) -> Any:
    return _ops().matmul(a, b)


def flip(x: Any, axis: Any) -> Any:
    return _ops().flip(x, axis if isinstance(axis, (tuple, list)) else (axis,))


def cumsum(x: Any, axis: int) -> Any:
    return _ops().cumsum(x, axis)


def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    return _ops().roll(x, shift, axis)


def tril(x: Any, k: int = 0) -> Any:
    return _ops().tril(x, k)


def triu(x: Any, k: int = 0) -> Any:
    return _ops().triu(x, k)


def zeros_like(x: Any) -> Any:
    return _ops().zeros_like(x)


def ones_like(x: Any) -> Any:
    return _ops().ones_like(x)


_node.tensor_math = __import__(__name__, fromlist=["*"])
