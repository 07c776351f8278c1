"""Loss functions. Each takes `reduction='mean' | 'sum' | 'none'`.

cross_entropy (softmax + negative log-likelihood) and binary_cross_entropy_with_logits are fused
ops computed from logits without overflow: they stay finite for logits of +-1000.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from typing import Any

from ... import dtypes
from ...amp.autocast_mode import float32_op, refuse_unsafe
from ...autograd.node import Op, array_namespace
from ... import backend
from ...backend import errstate, module_of
from ...doctor.flags import flags as _doctor
from ...ops._util import astype, broadcast_shapes, shape_str, sum_last, torch_named
from ...ops.indexing import where
from ...ops.softmax import log_softmax
from ...tensor import Tensor
from .distance import pairwise_distance

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: Any, reduce: Any, reduction: str = "mean") -> str:
    """Map torch's deprecated size_average/reduce flags to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction (expected one of "
                     f"{', '.join(_REDUCTIONS)})")



def _grad_fn_name(name: Any) -> Any:
    """Decorator: the loss's grad_fn shows torch's name (NllLossBackward0, MseLossBackward0...)
    rather than that of the last op Ember built it from; `name` may be a function of the
    call's arguments (None: keep the node's own name)."""
    def deco(func: Any) -> Any:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = func(*args, **kwargs)
            if not isinstance(out, Tensor) or out.grad_fn is None:
                return out
            chosen = name
            if callable(name):
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                chosen = name(bound.arguments)
            return torch_named(out, chosen) if chosen else out

        return wrapper

    return deco


def _named_errors(func: Any) -> Any:
    """Decorator: an error raised inside the loss (a broadcast in one of its ops, a bad
    reduction...) names the loss, e.g. 'margin_ranking_loss: sub: shapes (3) and (4) cannot be
    broadcast'; the exception and its traceback are otherwise unchanged."""
    op = func.__name__

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:
            if exc.args and isinstance(exc.args[0], str) and op not in exc.args[0]:
                exc.args = (f"{op}: {exc.args[0]}",) + exc.args[1:]
            raise

    return wrapper


def _check_floating(op: str, input: Tensor, target: Tensor) -> None:
    """torch computes these losses in a floating dtype only: integer input and target raise."""
    if not (input.is_floating_point() or target.is_floating_point()):
        raise RuntimeError(f"{op}: expected floating point input or target, got {input.dtype} "
                           f"and {target.dtype}; convert them with .float()")


def _nll_name(a: dict) -> str | None:
    target = a["target"]
    if a.get("label_smoothing") or (isinstance(target, Tensor) and target.is_floating_point()):
        return None
    return "NllLoss2D" if a["input"].ndim > 2 else "NllLoss"


def _check_same_shape(op: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: Using a target size ({list(target.shape)}) that is different to "
                         f"the input size ({list(input.shape)}) is not supported. Please ensure "
                         "they have the same size.")


def _warn_broadcast(op: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        try:
            broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except RuntimeError as exc:  # name the loss, not the subtraction inside it
            raise RuntimeError(f"{op}: the input ({shape_str(input.shape)}) and the target "
                               f"({shape_str(target.shape)}) cannot be broadcast: "
                               f"{str(exc).split('cannot be broadcast: ', 1)[-1]}") from None
        if _doctor.target_shape:  # the doctor makes (N, 1) vs (N,) -> (N, N) an error
            _doctor.check_target_shape(op, input, target)
        warnings.warn(
            f"{op}: Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# Cross-entropy family
# ---------------------------------------------------------------------------------------------


class CrossEntropy(Op):
    """Fused log_softmax + NLL over rows of logits (M, C) with class indices (M,).

    loss_i = -sum_c a_ic log p_ic, with a_i = (1 - eps) w[t_i] onehot(t_i) + eps w / C
    (label smoothing eps, class weights w; a_i = 0 for ignored rows). Its gradient with respect
    to the logits is p_i * sum_c a_ic - a_i.
    """

    def forward(self, logits: Any, target: Any, weight: Any, ignore_index: int,
                smoothing: float) -> Any:
        xp = module_of(logits)
        c = logits.shape[1]
        self.save_for_backward(logits)
        self.target, self.args = target, (weight, ignore_index, smoothing, c, logits.dtype)
        shifted = logits - xp.amax(logits, axis=1, keepdims=True)
        if weight is None and not smoothing:  # plain class indices: a_i = onehot(t_i)
            return self._plain_forward(xp, shifted, target, ignore_index)
        log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        self.log_p = log_p
        self.coef = _ce_coefficients(xp, target, *self.args)
        # a -inf logit (a masked class) adds nothing where its coefficient is 0, as in torch's
        # gather, instead of 0 * -inf = nan
        with errstate(xp, invalid="ignore"):
            terms = xp.where(self.coef != 0, self.coef * log_p, 0)
        return -xp.sum(terms, axis=1)

    def _plain_forward(self, xp: Any, shifted: Any, target: Any, ignore_index: int) -> Any:
        """loss_i = log sum_c exp(z_ic - max_i) - (z_it - max_i), in 5 passes over the logits
        instead of the general formula's 13 (a GPT's 2048 x 65 logits: cross_entropy's forward
        0.67 -> 0.34 ms, torch 0.09); the probabilities are kept for backward, whose gradient
        is then p_i - onehot(t_i)."""
        self.valid = valid = target != ignore_index
        self.picks = (xp.arange(shifted.shape[0]), xp.where(valid, target, 0))  # (i, t_i)
        picked = shifted[self.picks]
        probs = xp.exp(shifted, out=shifted)
        total = sum_last(probs)
        probs /= total
        self.probs, self.coef = probs, None
        loss = xp.log(total[:, 0]) - picked
        return loss if bool(valid.all()) else xp.where(valid, loss, 0)

    def backward(self, grad: Any) -> tuple:
        (logits,) = self.saved_tensors
        xp = array_namespace(grad)
        if isinstance(logits, Tensor):  # create_graph: softmax as a function of the logits
            if self.coef is None:  # the plain case keeps no coefficients: build them
                self.coef = _ce_coefficients(module_of(self.target), self.target, *self.args)
            p = xp.exp(log_softmax(logits, 1))
        elif self.coef is None:  # the plain case: dlogits = grad_i (p_i - onehot(t_i))
            valid = self.valid
            scale = grad if bool(valid.all()) else grad * valid
            g = self.probs * xp.expand_dims(scale, 1)  # probs stay intact for retain_graph
            g[self.picks] -= scale
            return g, None, None, None, None
        else:
            p = xp.exp(self.log_p)
        coef = self.coef
        total = module_of(coef).sum(coef, axis=1, keepdims=True)  # a constant array
        return xp.expand_dims(grad, 1) * (p * total - coef), None, None, None, None


def _ce_coefficients(xp: Any, target: Any, weight: Any, ignore_index: int, smoothing: float,
                     c: int, dtype: Any) -> Any:
    m = target.shape[0]
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    w = xp.ones(c, dtype=dtype) if weight is None else weight.astype(dtype, copy=False)
    coef = xp.zeros((m, c), dtype=dtype)
    coef[xp.arange(m), safe] = (1 - smoothing) * w[safe]
    if smoothing:
        coef += (smoothing / c) * w
    coef *= valid[:, None]
    return coef


def _class_dim_last(input: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) and (C,) as (N, C) and (1, C)."""
    if input.ndim == 1:
        return input.reshape(1, -1)
    if input.ndim == 2:
        return input
    c = input.shape[1]
    return input.movedim(1, -1).reshape(-1, c)


def _target_shape_error(input: Tensor, target: Tensor) -> type:
    """torch's exception type for a target of the wrong shape: ValueError when the batch sizes
    differ (or a 1-D input gets several targets), RuntimeError otherwise."""
    if input.ndim == 1:
        return ValueError if target.ndim == 1 else RuntimeError
    batch_differs = target.ndim >= 1 and target.shape[0] != input.shape[0]
    return ValueError if batch_differs else RuntimeError


def _check_index_dtype(op: str, target: Tensor) -> None:
    """torch takes class indices as int64 (Long) or uint8 (Byte) only."""
    if target._data.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte (int64 or uint8), but "
                           f"got {target.dtype}; convert the labels with target.long()")


def _index_target_shape(input: Tensor) -> tuple:
    return () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])


def _check_targets(op: str, input: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """The target, checked against the input's shape and class count (a 1-D input's target of
    shape (1) is read as a scalar, as torch does)."""
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    expected = _index_target_shape(input)
    if input.ndim == 1 and tuple(target.shape) == (1,):
        target = target.reshape(())
    if tuple(target.shape) != expected:
        raise _target_shape_error(input, target)(
            f"{op}: Expected target of shape ({shape_str(expected) if expected else 'scalar'}) "
            f"for input of shape ({shape_str(input.shape)}) (class dim {min(input.ndim - 1, 1)}),"
            f" got target of "
            f"shape ({shape_str(target.shape)})")
    t = target._data
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bool(bad.any()):
        value = int(t[bad].reshape(-1)[0])
        raise IndexError(f"{op}: Target {value} is out of bounds: class indices must be in "
                         f"[0, {c}) for an input with {c} classes (or equal ignore_index="
                         f"{ignore_index})")
    return target


@_named_errors
@float32_op
@_grad_fn_name(_nll_name)
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits: class indices or class probabilities as target.

    input: (N, C), (C,) or (N, C, d1, ...); target: class indices (N,)/(N, d1, ...) or
    probabilities with the input's shape.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if _doctor.loss_input:  # the doctor: softmax output fed to cross_entropy?
        _doctor.check_loss_input("cross_entropy", input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"cross_entropy: expected floating point logits, got {input.dtype}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"cross_entropy: weight should have {c} elements (one per class), "
                           f"got shape ({shape_str(weight.shape)})")
    if target._data.dtype.kind in "fV":  # class probabilities
        if tuple(input.shape) != tuple(target.shape):
            raise _target_shape_error(input, target)(
                f"cross_entropy: class probabilities as target must have the input's shape "
                f"({shape_str(input.shape)}), got a float target of shape "
                f"({shape_str(target.shape)}); for class indices, pass an int64 target of shape "
                f"({shape_str(_index_target_shape(input)) or 'scalar'})")
        t = target * (1 - label_smoothing) + label_smoothing / c if label_smoothing else target
        log_p = log_softmax(input, 0 if input.ndim == 1 else 1)
        if weight is not None:
            shape = (c,) if input.ndim == 1 else (1, c) + (1,) * (input.ndim - 2)
            log_p = log_p * weight.reshape(shape)
        loss = -(t * log_p).sum(0 if input.ndim == 1 else 1)
        return _reduce(loss, reduction)
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"cross_entropy: expected class indices (int64) or probabilities "
                           f"(float) as target, got {target.dtype}")
    _check_index_dtype("cross_entropy", target)
    target = _check_targets("cross_entropy", input, target, ignore_index)
    logits = _class_dim_last(input)
    flat_target = target._data.reshape(-1)
    w = weight._data if weight is not None else None
    losses = CrossEntropy.apply(logits, flat_target, w, ignore_index, label_smoothing)
    return _reduce_nll(losses, flat_target, w, ignore_index, reduction, target.shape)


def _reduce_nll(losses: Tensor, target: Any, weight: Any, ignore_index: int, reduction: str,
                shape: tuple) -> Tensor:
    """'mean' divides by the total weight of the non-ignored targets, as torch does."""
    if reduction == "none":
        return losses.reshape(shape)
    if reduction == "sum":
        return losses.sum()
    xp = module_of(target)
    valid = target != ignore_index
    if not bool(valid.any()):  # every target ignored: nan, with a zero gradient, as in torch
        return losses.sum() * 0.0 + math.nan
    if weight is None:
        denom = float(valid.sum())
    else:
        denom = float(xp.sum(weight[xp.where(valid, target, 0)] * valid))
    return losses.sum() / denom if denom else losses.sum() * math.nan


@_named_errors
@float32_op
@_grad_fn_name(_nll_name)
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: -w[t] * input[t]."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if _doctor.loss_input:  # the doctor: probabilities or raw scores fed to nll_loss?
        _doctor.check_loss_input("nll_loss", input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: expected class indices (int64) as target, got "
                           f"{target.dtype}")
    _check_index_dtype("nll_loss", target)
    if not input.is_floating_point():
        raise RuntimeError(f"nll_loss: expected floating point log-probabilities, got "
                           f"{input.dtype}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"nll_loss: weight tensor should be defined either for all {c} "
                           f"classes or no classes but got weight tensor of shape "
                           f"({shape_str(weight.shape)})")
    target = _check_targets("nll_loss", input, target, ignore_index)
    log_p = _class_dim_last(input)
    t = target._data.reshape(-1)
    xp = module_of(t)
    valid = t != ignore_index
    safe = xp.where(valid, t, 0)
    picked = log_p[xp.arange(t.shape[0]), safe]
    scale = valid.astype(input._data.dtype)
    if weight is not None:
        scale = scale * weight._data[safe].astype(input._data.dtype)
    losses = -picked * Tensor._make(scale)
    w = weight._data if weight is not None else None
    return _reduce_nll(losses, t, w, ignore_index, reduction, target.shape)


class BinaryCrossEntropy(Op):
    """-(t log x + (1 - t) log(1 - x)) with the logs clamped at -100, as torch does."""

    def forward(self, x: Any, t: Any) -> Any:
        xp = module_of(x)
        self.save_for_backward(x, t)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    def backward(self, grad: Any) -> tuple:
        # torch's formula: (x - t) / max(x (1 - x), 1e-12)
        x, t = self.saved_tensors
        xp = array_namespace(grad)
        gx = grad * (x - t) / xp.maximum(x * (1 - x), 1e-12)
        gt = None
        if self.next_edges[1] is not None:  # the clamped logs of the forward (x may be 0 or 1)
            with backend.errstate(xp, divide="ignore"):
                gt = grad * (xp.maximum(xp.log1p(-x), -100) - xp.maximum(xp.log(x), -100))
        return gx, gt


@_named_errors
@float32_op
@_grad_fn_name("BinaryCrossEntropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1] (use binary_cross_entropy_with_logits for logits)."""
    refuse_unsafe("binary_cross_entropy", input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    x = input._data
    if x.size and (bool((x < 0).any()) or bool((x > 1).any())):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and "
                           "1 (pass logits to binary_cross_entropy_with_logits instead)")
    t = target._data
    if t.dtype != x.dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype} but expected "
                           f"{input.dtype}: the target must have the input's dtype (e.g. "
                           f"target.to({input.dtype}))")
    if t.size and (bool((t < 0).any()) or bool((t > 1).any())):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 "
                           f"and 1, got values in [{t.min()}, {t.max()}]")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BCEWithLogits(Op):
    """(1 - t) x + c (log(1 + e^-|x|) + max(-x, 0)), c = 1 + (pos_weight - 1) t: no overflow."""

    def forward(self, x: Any, t: Any, pos_weight: Any) -> Any:
        xp = module_of(x)
        self.save_for_backward(x, t, pos_weight)
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + e^-x)
        c = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        return (1 - t) * x + c * softplus_neg

    def backward(self, grad: Any) -> tuple:
        # d/dx = c sigmoid(x) - pos_weight t
        x, t, pos_weight = self.saved_tensors
        xp = array_namespace(grad)
        s = _sigmoid(x)
        if pos_weight is None:
            gx = grad * (s - t)
        else:
            gx = grad * ((1 + (pos_weight - 1) * t) * s - pos_weight * t)
        gt = gpw = None
        if self.next_edges[1] is not None:  # d/dt = -x - (pos_weight - 1) log(1 + e^-x)
            softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
            pw = 1 if pos_weight is None else pos_weight
            gt = grad * (-x + (pw - 1) * softplus_neg)
        if self.next_edges[2] is not None:
            softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
            gpw = grad * t * softplus_neg
        return gx, gt, gpw


def _sigmoid(x: Any) -> Any:
    from ...ops import special  # noqa: PLC0415

    return x.sigmoid() if isinstance(x, Tensor) else special.sigmoid(x)


@_named_errors
@float32_op
@_grad_fn_name("BinaryCrossEntropyWithLogits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + BCE in one stable op; pos_weight scales the positive term per class."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if _doctor.loss_input:  # the doctor: sigmoid output fed to BCE-with-logits?
        _doctor.check_loss_input("binary_cross_entropy_with_logits", input)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if not input.is_floating_point():
        raise RuntimeError(f"binary_cross_entropy_with_logits: expected floating point logits, "
                           f"got {input.dtype}")
    if not target.is_floating_point():
        raise RuntimeError(f"binary_cross_entropy_with_logits: the target must be floating point "
                           f"(0./1. labels or probabilities), got {target.dtype}; convert it with "
                           f"target.float()")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------------


@_named_errors
@float32_op
@_grad_fn_name("MseLoss")
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2"""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _warn_broadcast("mse_loss", input, target)
    _check_floating("mse_loss", input, target)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_named_errors
@float32_op
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|"""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _warn_broadcast("l1_loss", input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_named_errors
@float32_op
@_grad_fn_name("HuberLoss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 for |d| < delta, else delta (|d| - 0.5 delta)."""
    _warn_broadcast("huber_loss", input, target)
    _check_floating("huber_loss", input, target)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    d = (input - target).abs()
    loss = where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_named_errors
@float32_op
@_grad_fn_name("SmoothL1Loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta for |d| < beta, else |d| - 0.5 beta (huber_loss / beta)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _warn_broadcast("smooth_l1_loss", input, target)
    _check_floating("smooth_l1_loss", input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


@_named_errors
@float32_op
def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || p) pointwise: target (log target - input), with input = log p.

    reduction='batchmean' divides the sum by the batch size (the mathematically correct KL);
    'mean' averages over all elements, as torch does.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_floating("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # target log target is taken as 0 where target is 0 (xlogy)
        safe_log = where(target > 0, target, 1.0).log()
        loss = where(target > 0, target * safe_log, 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


@_named_errors
@float32_op
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target * input (log_input=True)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target
        stirling = t * t.clamp_min(1).log() - t + 0.5 * (2 * math.pi * t.clamp_min(1)).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)


@_named_errors
def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log 2 pi if full)."""
    if isinstance(var, (int, float)):
        var = input.new_full(tuple(input.shape), float(var))
    shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != shape:  # torch's rules: per element, or shared along one dim
        mismatched = [v for i, v in zip(shape, var_shape, strict=False) if i != v]
        if var_shape == shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (len(var_shape) == len(shape) and mismatched == [1]):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size: expected the input's "
                             f"shape ({shape_str(shape)}), or it without its last dim, or with "
                             f"one dim of 1; got var of shape ({shape_str(var_shape)})")
    if bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    # clamped at eps with the gradient passed through unchanged, as torch's in-place clamp
    # under no_grad does
    v = var + (var.clamp_min(eps) - var).detach()
    diff = input - target
    loss = 0.5 * (v.log() + diff * diff / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses
# ---------------------------------------------------------------------------------------------


@_named_errors
@float32_op
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin), y = 1 when x1 should rank higher."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@_named_errors
@float32_op
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """x for y = 1, max(0, margin - x) for y = -1 (other targets get both terms, as torch)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    pos = where(target != -1, input, 0.0)
    neg = where(target != 1, (margin - input).clamp_min(0), 0.0)
    return _reduce(pos + neg, reduction)


@_named_errors
@float32_op
@_grad_fn_name("SoftMarginLoss")
def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)), y in {-1, 1}."""
    from .activation import softplus  # noqa: PLC0415

    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_floating("soft_margin_loss", input, target)
    return _reduce(softplus(-target * input), reduction)


@_named_errors
def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Mean over classes of -(y log s(x) + (1 - y) log s(-x))."""
    from .activation import logsigmoid  # noqa: PLC0415

    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(-1), reduction)


@_named_errors
@float32_op
@_grad_fn_name("MultiMarginLoss")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None,
                      reduce: Any = None, reduction: str = "mean") -> Tensor:
    """sum over wrong classes i of max(0, margin - x[y] + x[i])^p / C."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.ndim > 2 or tuple(target.shape) != tuple(input.shape[:-1]):
        raise RuntimeError(f"multi_margin_loss: expected input of shape (N, C) or (C,) and "
                           f"target of shape (N,) or scalar, got input ({shape_str(input.shape)})"
                           f" and target ({shape_str(target.shape)})")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"multi_margin_loss: expected class indices (int64) as target, got "
                           f"{target.dtype}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target.reshape(-1)
    c = x.shape[1]
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"multi_margin_loss: weight should have {c} elements (one per "
                           f"class), got shape ({shape_str(weight.shape)})")
    if t.numel() and (int(t._data.min()) < 0 or int(t._data.max()) >= c):
        raise RuntimeError(f"multi_margin_loss: target out of range: class indices must be in "
                           f"[0, {c}), got values in [{int(t._data.min())}, {int(t._data.max())}]")
    picked = x.gather(1, t.reshape(-1, 1))
    margins = (margin - picked + x).clamp_min(0)
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * weight[t].reshape(-1, 1)
    from .sparse import one_hot  # noqa: PLC0415

    margins = margins * (1 - one_hot(t, c).to(x.dtype))
    loss = margins.sum(1) / c
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@_named_errors
@float32_op
@_grad_fn_name("MultilabelMarginLoss")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C.

    Each row of `target` lists class indices and ends at the first -1.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: expected class indices (int64) as target, "
                           f"got {target.dtype}")
    if tuple(input.shape) != tuple(target.shape) or input.ndim > 2:
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(target.shape)} for input of size: {list(input.shape)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x.shape)
    xp = module_of(t)
    n, c = x.shape
    if t.size and (int(t.max()) >= c or int(t.min()) < -1):
        raise RuntimeError(f"multilabel_margin_loss: target values must be in [-1, {c}), got "
                           f"values in [{int(t.min())}, {int(t.max())}]")
    # the listed targets are those before the first -1 of each row
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)  # (N, C) over target positions j
    safe = xp.where(valid, t, 0)
    is_target = xp.zeros((n, c), dtype=bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_target[rows[valid], safe[valid]] = True
    picked = x.gather(1, Tensor._make(safe))  # (N, J): x[y_j]
    margins = (1 - picked.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, J, I)
    mask = valid[:, :, None] & ~is_target[:, None, :]
    loss = (margins * Tensor._make(mask.astype(x._data.dtype))).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


class CTCLoss(Op):
    """Connectionist temporal classification over (T, N, C) log-probabilities.

    The forward (alpha) and backward (beta) recursions run in log space over the target with
    blanks between labels. As in torch, the gradient given for log_probs is
    exp(log_probs) - posterior occupancy: the gradient of the logits when log_probs come from
    log_softmax (the usual case, where both formulas agree after log_softmax's backward).
    """

    def forward(self, lp: Any, targets: list, in_lens: list, blank: int,
                zero_infinity: bool) -> Any:
        xp = module_of(lp)
        lp64 = lp.astype("float64")
        t_max, n, c = lp.shape
        losses = xp.zeros(n)
        grads = xp.zeros((t_max, n, c))
        for b in range(n):
            labels = targets[b]
            ext = xp.full(2 * len(labels) + 1, blank, dtype="int64")
            ext[1::2] = labels
            steps = in_lens[b]
            nll, occupancy = _ctc_one(xp, lp64[:steps, b, :], ext, c)
            losses[b] = nll
            if math.isinf(nll):
                if zero_infinity:
                    losses[b] = 0.0
                else:  # no alignment exists: torch's gradient is nan here
                    grads[:steps, b, :] = math.nan
                continue
            grads[:steps, b, :] = xp.exp(lp64[:steps, b, :]) - occupancy
        self.grads = grads.astype(lp.dtype)
        return losses.astype(lp.dtype)

    def backward(self, grad: Any) -> tuple:
        xp = array_namespace(grad)
        return self.grads * xp.reshape(grad, (1, -1, 1)), None, None, None, None


def _ctc_one(xp: Any, lp: Any, ext: Any, c: int) -> tuple:
    """(negative log-likelihood, (T, C) posterior occupancy) of one sequence."""
    steps, length = lp.shape[0], ext.shape[0]
    neg_inf = -math.inf
    emit = lp[:, ext]  # (T, L'): log-prob of each extended label at each step
    # a label may be skipped to from two positions back unless it is a blank or a repeat
    skip = xp.zeros(length, dtype=bool)
    skip[2:] = (ext[2:] != ext[:-2]) & (xp.arange(2, length) % 2 == 1)
    alpha = xp.full((steps, length), neg_inf)
    beta = xp.full((steps, length), neg_inf)
    if steps == 0:
        return (0.0 if length == 1 else math.inf), xp.zeros((0, c))
    alpha[0, 0] = emit[0, 0]
    if length > 1:
        alpha[0, 1] = emit[0, 1]
    def shifted(v: Any, k: int) -> Any:  # v moved k places right (k < 0: left), -inf filled
        out = xp.full(length, neg_inf)
        if abs(k) < length:
            if k > 0:
                out[k:] = v[:-k]
            else:
                out[:k] = v[-k:]
        return out

    for t in range(1, steps):
        prev = alpha[t - 1]
        two = xp.where(skip, shifted(prev, 2), neg_inf)
        alpha[t] = xp.logaddexp(xp.logaddexp(prev, shifted(prev, 1)), two) + emit[t]
    beta[-1, -1] = emit[-1, -1]
    if length > 1:
        beta[-1, -2] = emit[-1, -2]
    skip_next = xp.zeros(length, dtype=bool)  # may position s jump to s + 2?
    skip_next[:-2] = skip[2:]
    for t in range(steps - 2, -1, -1):
        nxt = beta[t + 1]
        two = xp.where(skip_next, shifted(nxt, -2), neg_inf)
        beta[t] = xp.logaddexp(xp.logaddexp(nxt, shifted(nxt, -1)), two) + emit[t]
    last = alpha[-1, -1] if length == 1 else xp.logaddexp(alpha[-1, -1], alpha[-1, -2])
    nll = -float(last)
    if math.isinf(nll):
        return math.inf, xp.zeros((steps, c))
    # occupancy[t, k] = sum over s with ext[s] = k of alpha beta / (p emit)
    both = alpha + beta - emit + nll
    occupancy = xp.zeros((steps, c))
    for k in xp.unique(ext).tolist():
        cols = both[:, ext == k]
        peak = xp.max(cols, axis=1, keepdims=True)
        safe = xp.where(xp.isfinite(peak), peak, 0.0)
        occupancy[:, k] = xp.exp(safe[:, 0]) * xp.sum(xp.exp(cols - safe), axis=1)
    return nll, occupancy


@_named_errors
@float32_op
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of log-probabilities (T, N, C) (or (T, C) unbatched) for targets given padded
    (N, S) or concatenated (sum(target_lengths),); 'mean' divides each loss by its target
    length before averaging over the batch, as torch does."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got "
                           f"({shape_str(log_probs.shape)})")
    if not lp.is_floating_point():
        raise RuntimeError(f"ctc_loss: expected floating point log_probs, got {lp.dtype}")

    def as_list(v: Any) -> list:
        if isinstance(v, Tensor):
            return [int(a) for a in v.reshape(-1).tolist()]
        if isinstance(v, int):
            return [v]
        return [int(a) for a in v]

    in_lens, tgt_lens = as_list(input_lengths), as_list(target_lengths)
    t_max, n, c = lp.shape
    if len(in_lens) != n or len(tgt_lens) != n:
        raise RuntimeError(f"ctc_loss: expected input_lengths and target_lengths to have "
                           f"{n} entries (the batch size), got {len(in_lens)} and "
                           f"{len(tgt_lens)}")
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {c}), got {blank}")
    tgt = targets._data if isinstance(targets, Tensor) else targets
    tgt = tgt.reshape(1, -1) if unbatched and tgt.ndim == 1 else tgt
    if min(tgt_lens, default=0) < 0:
        raise RuntimeError(f"ctc_loss: target_lengths must be non-negative, got {tgt_lens}")
    if tgt.ndim == 2 and tgt.shape[0] != n:
        raise RuntimeError(f"ctc_loss: padded targets must have one row per batch entry ({n}), "
                           f"got shape ({shape_str(tgt.shape)})")
    if tgt.ndim == 1 and tgt.shape[0] != sum(tgt_lens):
        raise RuntimeError(f"ctc_loss: concatenated targets must have sum(target_lengths) = "
                           f"{sum(tgt_lens)} entries, got {tgt.shape[0]}")
    seqs, start = [], 0
    for b in range(n):
        if in_lens[b] > t_max or in_lens[b] < 0:
            raise RuntimeError(f"ctc_loss: Expected input_lengths to have value at most "
                               f"{t_max}, but got value {in_lens[b]}")
        if tgt.ndim == 2:
            seq = tgt[b, :tgt_lens[b]]
        else:
            seq = tgt[start:start + tgt_lens[b]]
            start += tgt_lens[b]
        if len(seq) != tgt_lens[b]:
            raise RuntimeError(f"ctc_loss: target_lengths[{b}] = {tgt_lens[b]} is longer than "
                               f"the targets given")
        if len(seq) and (int(seq.min()) < 0 or int(seq.max()) >= c):
            raise RuntimeError(f"ctc_loss: target labels must be in [0, {c}) for log_probs with "
                               f"{c} classes, got values in [{int(seq.min())}, {int(seq.max())}]")
        seqs.append(seq.astype("int64"))
    losses = CTCLoss.apply(lp, seqs, in_lens, blank, zero_infinity)
    if unbatched:
        losses = losses.reshape(())
    if reduction == "mean":
        xp = module_of(lp._data)
        lens = xp.maximum(xp.asarray(tgt_lens, dtype=lp._data.dtype), 1)
        return (losses / Tensor._make(lens.reshape(losses.shape))).mean()
    return _reduce(losses, reduction)


@_named_errors
@float32_op
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or target.ndim != input1.ndim - 1:
        raise RuntimeError(f"cosine_embedding_loss: expected inputs of shape (N, D) with a target "
                           f"(N,), or (D,) with a scalar target, got input1 "
                           f"({shape_str(input1.shape)}) and target ({shape_str(target.shape)})")
    eps = 1e-12
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    cos = dot / (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    loss = where(target == 1, 1 - cos, where(target == -1, (cos - margin).clamp_min(0), 0.0))
    return _reduce(loss, reduction)


def _check_margin(op: str, margin: float) -> None:
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")


@_named_errors
@float32_op
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the p-norm distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_margin("triplet_margin_loss", margin)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ...ops.arith import minimum  # noqa: PLC0415

        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


@_named_errors
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    _check_margin("triplet_margin_with_distance_loss", margin)
    dist = distance_function or pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        from ...ops.arith import minimum  # noqa: PLC0415

        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


@_named_errors
def contrastive_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 1.0,
                     reduction: str = "mean") -> Tensor:
    """Contrastive loss for embedding pairs (Hadsell, Chopra & LeCun, 2006).

    With d = ||x1 - x2||_2 and y = 1 for a similar pair, 0 for a dissimilar one:

        L = y * d^2 + (1 - y) * max(0, margin - d)^2

    Similar pairs are pulled together; dissimilar pairs are pushed apart until they are at
    least `margin` away. (Not in torch: Ember's own, since the course teaches it.)
    """
    d = pairwise_distance(input1, input2)
    y = astype(target, dtypes.to_dtype(d.dtype).np) if isinstance(target, Tensor) else target
    push = (margin - d).clamp_min(0)
    loss = y * d * d + (1 - y) * push * push
    return _reduce(loss, reduction)

