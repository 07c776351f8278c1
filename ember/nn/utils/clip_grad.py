"""Gradient clipping: rescale gradients whose total norm is too large, or clamp each entry.

    total_norm = || (||g_1||, ||g_2||, ...) ||          (the norm of all gradients together)
    g_i       *= min(1, max_norm / (total_norm + 1e-6))
"""

from __future__ import annotations

import functools
import math
import types
import warnings
from collections.abc import Iterable
from typing import Any

from ... import backend
from ...creation import tensor as _tensor
from ...doctor.flags import flags as _doctor
from ...dtypes import of_array, promote_types
from ...tensor import Tensor

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(array: Any, norm_type: float) -> Any:
    """The `norm_type`-norm of all entries of `array`: a 0-d array of its dtype.

    Half-precision gradients are summed in float32, so that squaring them cannot overflow.
    """
    xp = backend.module_of(array)
    flat = xp.abs(array.reshape(-1))
    if flat.dtype.itemsize < 4:
        flat = flat.astype(xp.float32)
    if norm_type == math.inf:
        norm = flat.max() if flat.size else xp.zeros((), flat.dtype)
    elif norm_type == -math.inf:
        norm = flat.min() if flat.size else xp.full((), math.inf, flat.dtype)
    elif norm_type == 0:
        norm = xp.count_nonzero(flat)
    elif norm_type == 1:
        norm = flat.sum()
    elif norm_type == 2:
        norm = xp.sqrt(xp.dot(flat, flat))
    else:
        norm = (flat**norm_type).sum() ** (1.0 / norm_type)
    with backend.errstate(xp, over="ignore"):  # a half norm past 65504 is inf, silently
        return xp.asarray(norm, dtype=array.dtype)


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of the norms of `tensors`: their norm as if they were one concatenated vector."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _tensor(0.0)
    first_device = tensors[0].device
    norms = [backend.to_device(_vector_norm(t._data, norm_type), first_device) for t in tensors]
    xp = backend.module_of(norms[0])
    # torch stacks the norms in their promoted dtype (float16 with bfloat16 is float32)
    dtype = functools.reduce(promote_types, [of_array(norm) for norm in norms]).np
    total = _vector_norm(xp.stack([norm.astype(dtype, copy=False) for norm in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(total)


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data
    xp = backend.module_of(total)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)  # a 0-d array of the norm's dtype
    # a nan or inf norm spreads into the gradients, as in torch, without numpy's warnings
    quiet = backend.errstate(xp, invalid="ignore")
    with quiet:
        for grad in grads:
            grad._data *= backend.to_device(coef, grad.device)
            grad._bump_version()
    if _doctor.watched_grads:  # scaling is not accumulation: tell the doctor's check 2
        _doctor.grads_rescaled(grads)


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients of `parameters` so that their total norm is at most `max_norm`.

    Returns the total norm before clipping (a 0-d tensor), as torch does; `norm_type` may be
    `inf`. With `error_if_nonfinite`, a nan or inf total norm raises instead of spreading.

    >>> loss.backward()
    >>> ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> optimizer.step()
    """
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and len(parameters) == 0:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        grad = param.grad
        if grad is None:
            continue
        xp = backend.module_of(grad._data)
        xp.clip(grad._data, -clip_value, clip_value, out=grad._data)
        grad._bump_version()
        if _doctor.watched_grads:
            _doctor.grads_rescaled([grad])


def clip_grad_norm(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated in torch in favour of clip_grad_norm_ (same behaviour)."""
    import warnings  # noqa: PLC0415

    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
