"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy caching."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember

from ..tensor import Tensor


def broadcast_all(*values: Any) -> tuple:
    """Turn numbers into tensors (of the tensors' dtype, else the default) and broadcast all.

    Parameters keep their autograd links: broadcasting is a view op, so gradients flow back.
    """
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "ember.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        dtype = like.dtype if like is not None else ember.get_default_dtype()
        device = like.device if like is not None else None
        values = tuple(v if isinstance(v, Tensor) else
                       ember.tensor(float(v), dtype=dtype, device=device) for v in values)
    return tuple(ember.broadcast_tensors(*values))


def as_float_tensor(value: Any) -> Tensor:
    """A Number or Tensor as a Tensor (numbers take the default float dtype)."""
    if isinstance(value, Tensor):
        return value
    return ember.tensor(float(value), dtype=ember.get_default_dtype())


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum over the `dim` rightmost dimensions (the event dimensions)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Keep probabilities inside (0, 1) so that their logs stay finite."""
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid for one binary event, softmax over the last dim for categories."""
    if is_binary:
        return ember.sigmoid(logits)
    return ember.softmax(logits, dim=-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log-odds for one binary event, clamped log-probabilities for categories."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ember.log(ps_clamped) - ember.log1p(-ps_clamped)
    return ember.log(ps_clamped)


def clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) whose gradient at 0 is 1/2 (as torch's Binomial uses)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2



def draw_elementwise(sampler: Any, params: Tensor) -> Tensor:
    """sampler(params) on a flat contiguous copy, reshaped back.

    ember.bernoulli/ember.poisson return a numpy scalar for 0-d input; flattening avoids it.
    """
    return sampler(params.reshape(-1).contiguous()).reshape(params.shape)


class lazy_property:  # noqa: N801 (torch's name)
    """A property computed on first use and then stored on the instance (shadowing itself)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant (torch's name)


def _tril_index(n: int, diag: int, device: Any) -> tuple:
    rows, cols = ember.tril_indices(n, n, offset=diag, device=device)
    return rows, cols


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (on and below diagonal `diag`) of (batched) square matrices, read
    row by row into a vector."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = _tril_index(n, diag, mat.device)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of tril_matrix_to_vec: fill a (batched) D x D lower triangle row by row."""
    # D is the positive root of D^2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 len(vec) = 0
    b = 1 + 2 * diag
    n = (-b + (b**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if abs(round(n) - n) > 1e-6:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    rows, cols = _tril_index(n, diag, vec.device)
    mat[..., rows, cols] = vec
    return mat
