"""Activation functions, each with its derivative written next to it.

relu, sigmoid and tanh live in ember.ops.unary (they are tensor methods too); the others are
here. Functions with `inplace=True` write the result into the input, as torch's do.
"""

from __future__ import annotations

import math
from typing import Any

from ... import kernels
from ...autograd.node import array_namespace
from ...backend import module_of, numpy
from ...ops import special
from ...ops._util import torch_named
from ...ops.softmax import log_softmax, softmax
from ...ops.unary import UnaryOp, pass_where, sigmoid, tanh
from ...ops.unary import relu as _relu
from ...tensor import Tensor

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _inplace(input: Tensor, fn: Any, *args: Any) -> Tensor:
    return input._inplace(lambda s: fn(s, *args), True)


class LeakyRelu(UnaryOp):
    def forward(self, x: Any, slope: float) -> Any:
        self.save_for_backward(x)
        self.slope = slope
        return module_of(x).where(x > 0, x, x * slope)

    def backward(self, grad: Any) -> Any:
        # 1 for x > 0, negative_slope otherwise (also at 0, as torch)
        (x,) = self.saved_tensors
        return array_namespace(grad).where(x > 0, grad, grad * self.slope)


class Elu(UnaryOp):
    """alpha (e^x - 1) for x <= 0; scale and input_scale cover SELU and CELU."""

    def forward(self, x: Any, alpha: float, scale: float, input_scale: float) -> Any:
        xp = module_of(x)
        self.save_for_backward(x)
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale
        return xp.where(x > 0, x * scale, xp.expm1(x * input_scale) * (alpha * scale))

    def backward(self, grad: Any) -> Any:
        # d/dx = scale for x > 0, else alpha * scale * input_scale * e^(x * input_scale)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        negative = xp.exp(x * self.input_scale) * (self.alpha * self.scale * self.input_scale)
        return xp.where(x > 0, grad * self.scale, grad * negative)


class Gelu(UnaryOp):
    """x * Phi(x) (Phi: the standard normal CDF), or its tanh approximation. float16 is
    computed in float32 and rounded once, as torch does (float16 loses the tanh form's
    derivative to cancellation, and Phi comes back as float64)."""

    def forward(self, x: Any, approximate: str) -> Any:
        if x.dtype == numpy.float16 and module_of(x) is numpy:
            return self._forward(x.astype(numpy.float32), approximate).astype(x.dtype)
        return self._forward(x, approximate)

    def backward(self, grad: Any) -> Any:
        if grad.dtype == numpy.float16 and module_of(grad) is numpy:
            return self._backward(grad.astype(numpy.float32)).astype(grad.dtype)
        return self._backward(grad)

    def _forward(self, x: Any, approximate: str) -> Any:
        xp = module_of(x)
        self.approximate = approximate
        if kernels.usable(numpy.float32, x):  # one fused loop (ember/kernels/gelu.py)
            if approximate == "tanh":
                self.save_for_backward(x)
                return kernels.load("gelu").tanh_forward(x)
            y, cdf = kernels.load("gelu").exact_forward(x)
            self.save_for_backward(x, cdf)
            return y
        if approximate == "tanh":
            self.save_for_backward(x)
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + xp.tanh(inner))
        cdf = special.normal_cdf(x)
        self.save_for_backward(x, cdf)  # backward reuses Phi(x) rather than recompute it
        return x * cdf

    def _backward(self, grad: Any) -> Any:
        x, *rest = self.saved_tensors
        if kernels.usable(numpy.float32, grad, x):
            if self.approximate == "tanh":
                return kernels.load("gelu").tanh_backward(grad, x)
            return kernels.load("gelu").exact_backward(grad, x, rest[0])
        xp = array_namespace(grad)
        if self.approximate == "tanh":
            # d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        # d/dx x Phi(x) = Phi(x) + x phi(x); under create_graph Phi is rebuilt from x so
        # that it is differentiable again
        if isinstance(x, Tensor):
            pdf = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
            return grad * (_normal_cdf(x) + x * pdf)
        d = x * x  # the same formula on arrays, in place: one temporary instead of six
        d *= -0.5
        xp.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
        d += rest[0]
        d *= grad
        return d


def _normal_cdf(x: Any) -> Any:
    return 0.5 * (1 + (x / _SQRT_2).erf()) if isinstance(x, Tensor) else special.normal_cdf(x)


def _sigmoid(x: Any) -> Any:
    return x.sigmoid() if isinstance(x, Tensor) else special.sigmoid(x)


class Silu(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return (x * special.sigmoid(x)).astype(x.dtype, copy=False)

    def backward(self, grad: Any) -> Any:
        # d/dx x s(x) = s(x) (1 + x (1 - s(x)))
        (x,) = self.saved_tensors
        s = _sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


class Softplus(UnaryOp):
    """log(1 + e^(beta x)) / beta, linear above `threshold` (computed without overflow)."""

    def forward(self, x: Any, beta: float, threshold: float) -> Any:
        xp = module_of(x)
        self.save_for_backward(x)
        self.beta, self.threshold = beta, threshold
        bx = x * beta
        return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta).astype(x.dtype)

    def backward(self, grad: Any) -> Any:
        # d/dx = sigmoid(beta x) below the threshold, 1 above
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        bx = x * self.beta
        return xp.where(bx > self.threshold, grad, grad * _sigmoid(bx))


class Mish(UnaryOp):
    """x tanh(softplus(x))"""

    def forward(self, x: Any) -> Any:
        xp = module_of(x)
        self.save_for_backward(x)
        return x * xp.tanh(xp.logaddexp(0, x)).astype(x.dtype)

    def backward(self, grad: Any) -> Any:
        # d/dx = tanh(sp) + x sech^2(sp) sigmoid(x), sp = softplus(x)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        t = xp.tanh(_softplus(x))
        return grad * (t + x * (1 - t * t) * _sigmoid(x))


def _softplus(x: Any) -> Any:
    if isinstance(x, Tensor):
        return Softplus.apply(x, 1.0, 20.0)
    return module_of(x).logaddexp(0, x).astype(x.dtype)


class Hardtanh(UnaryOp):
    float_result = False

    def forward(self, x: Any, lo: float, hi: float) -> Any:
        self.save_for_backward(x)
        self.lo, self.hi = lo, hi
        return module_of(x).clip(x, lo, hi)

    def backward(self, grad: Any) -> Any:
        # 1 strictly inside (min_val, max_val), 0 (never -0.0) outside, on the bounds and at
        # NaN (as torch's vectorised loop)
        (x,) = self.saved_tensors
        return pass_where(grad, (x > self.lo) & (x < self.hi))


class Hardsigmoid(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return module_of(x).clip(x + 3, 0, 6) / 6  # torch's formula, to the last bit

    def backward(self, grad: Any) -> Any:
        # 1/6 strictly inside (-3, 3), 0 elsewhere (a NaN input included, as torch)
        (x,) = self.saved_tensors
        return pass_where(grad / 6, (x > -3) & (x < 3))


class Hardswish(UnaryOp):
    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return x * module_of(x).clip(x + 3, 0, 6) / 6

    def backward(self, grad: Any) -> Any:
        # 0 for x <= -3, (2x + 3) / 6 in between, 1 for x >= 3 (a NaN input gives NaN, as
        # torch's: it fails both tests)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        middle = grad * (x / 3 + 0.5)
        return xp.where(x <= -3, 0.0, xp.where(x >= 3, grad, middle))


class Softsign(UnaryOp):
    def name(self) -> str:  # torch computes softsign as x / (1 + |x|)
        return "DivBackward0"

    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return x / (1 + module_of(x).abs(x))

    def backward(self, grad: Any) -> Any:
        # torch differentiates the quotient x / d, d = 1 + |x|: grad / d - grad x sign(x) / d^2
        # (equal to grad / d^2, except at +-inf where torch's inf / inf gives NaN)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        d = 1 + xp.abs(x)
        return grad / d - grad * x / (d * d) * xp.sign(x)


class LogSigmoid(UnaryOp):
    def forward(self, x: Any) -> Any:
        # log s(x) = min(x, 0) - log(1 + e^-|x|): no overflow
        xp = module_of(x)
        self.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return grad * _sigmoid(-x)  # d/dx log s(x) = 1 - s(x) = s(-x)


class Threshold(UnaryOp):
    float_result = False

    def forward(self, x: Any, threshold: float, value: float) -> Any:
        self.save_for_backward(x)
        self.threshold = threshold
        # torch tests x <= threshold: a NaN input stays NaN and passes the gradient
        return module_of(x).where(x <= threshold, value, x).astype(x.dtype)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        return pass_where(grad, ~(x <= self.threshold))


class Shrink(UnaryOp):
    """softshrink (soft=True) and hardshrink: zero inside [-lambd, lambd]."""

    def name(self) -> str:
        return "SoftshrinkBackward0" if self.soft else "HardshrinkBackward0"

    def forward(self, x: Any, lambd: float, soft: bool) -> Any:
        xp = module_of(x)
        self.save_for_backward(x)
        self.lambd, self.soft = lambd, soft
        # 0 inside [-lambd, lambd]; a NaN input stays NaN (as torch)
        inside = (x >= -lambd) & (x <= lambd)
        if soft:
            return xp.where(inside, 0, x - xp.sign(x) * lambd).astype(x.dtype)
        return xp.where(inside, 0, x).astype(x.dtype)

    def backward(self, grad: Any) -> Any:
        # 1 outside [-lambd, lambd], 0 (never -0.0) inside and at NaN (as torch)
        (x,) = self.saved_tensors
        return pass_where(grad, (x > self.lambd) | (x < -self.lambd))


# ---------------------------------------------------------------------------------------------
# Functions (torch.nn.functional names)
# ---------------------------------------------------------------------------------------------


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); `inplace=True` writes into `input` (torch's F.relu signature)."""
    if inplace:
        return _inplace(input, _relu)
    return _relu(input)


def relu_(input: Tensor) -> Tensor:
    return _inplace(input, _relu)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, LeakyRelu.apply, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Elu.apply, alpha, 1.0, 1.0)
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Elu.apply, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    if inplace:
        return _inplace(input, Elu.apply, alpha, 1.0, 1.0 / alpha)
    return torch_named(Elu.apply(input, alpha, 1.0, 1.0 / alpha), "Celu")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"'{approximate}'")
    return Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Silu.apply)
    return Silu.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Mish.apply)
    return Mish.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta, threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, Hardtanh.apply, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Hardsigmoid.apply)
    return Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Hardswish.apply)
    return Hardswish.apply(input)


def softsign(input: Tensor) -> Tensor:
    return Softsign.apply(input)


def logsigmoid(input: Tensor) -> Tensor:
    return LogSigmoid.apply(input)


def tanhshrink(input: Tensor) -> Tensor:
    return input - tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    _floating_only("softshrink_check", input)
    return Shrink.apply(input, lambd, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    _floating_only("hardshrink_cpu", input)
    return Shrink.apply(input, lambd, False)


def _floating_only(kernel: str, input: Tensor) -> None:
    if isinstance(input, Tensor) and input._data.dtype.kind in "iub":
        from ...ops.unary import not_implemented  # noqa: PLC0415

        raise not_implemented(kernel, input._data)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    if inplace:
        return _inplace(input, Threshold.apply, threshold, value)
    return Threshold.apply(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _inplace(input, Threshold.apply, threshold, value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a * x otherwise; `weight` has one slope or one per channel (dim 1)."""
    from ...ops.indexing import where  # noqa: PLC0415

    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    # torch's channels: dim 1, or a single channel for input of fewer than 2 dims
    channels = input.shape[1] if input.ndim > 1 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(
            f"prelu: mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {weight.numel()} and channel size = {channels}.")
    if input.ndim > 1:
        weight = weight.reshape([1, -1] + [1] * (input.ndim - 2))
    else:
        weight = weight.reshape(())  # one slope: the result keeps the input's shape
    return torch_named(where(input > 0, input, weight * input), "PreluKernel")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: a random slope in [lower, upper] while training, the mean in eval."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ...ops.indexing import where  # noqa: PLC0415
    from ...random import rand_like  # noqa: PLC0415

    slope = rand_like(input) * (upper - lower) + lower
    if inplace:
        return input._inplace(lambda s: where(s >= 0, s, s * slope), True)
    return where(input >= 0, input, input * slope)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where a, b are the two halves of `input` along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return torch_named(a * sigmoid(b), "Glu")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    return softmax(-input, dim, dtype=dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Samples from the Gumbel-softmax distribution; `hard=True` returns one-hot vectors whose
    gradient is the soft sample's (straight-through estimator)."""
    from ...random import rand_like  # noqa: PLC0415

    # -log(Exponential(1)) is a Gumbel(0, 1) sample; the exponential comes from -log(U)
    u = rand_like(logits.detach())
    gumbels = -((-(u.clamp(min=1e-20)).log()).log())
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = y_soft.detach() * 0
    y_hard = y_hard.scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


__all__ = [
    "celu", "celu_", "elu", "elu_", "gelu", "gumbel_softmax", "leaky_relu_", "selu_", "threshold_",
    "rrelu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "hardtanh_", "leaky_relu", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6",
    "relu_", "rrelu", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink",
    "softsign", "tanh", "tanhshrink", "threshold",
]
