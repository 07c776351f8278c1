"""Reductions: sum, mean, prod, var/std, amax/amin, max/min, logsumexp, cumsum/cumprod, norm,
argmax/argmin, all/any, median.

A reduction's backward spreads the output gradient back over the reduced positions; the shape
bookkeeping for that is in `_Reduction`.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import backend, dtypes, return_types
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from ._util import astype, complex_error, numpy_spelling, torch_named, wrap_dim, wrap_dims
from .sort import sort_keys
from .unary import sign_nan_zero


class _Reduction(Op):
    """Remembers the input shape and reduced axes, so gradients can be broadcast back."""

    def setup(self, x: Any, axes: tuple, keepdim: bool) -> None:
        self.in_shape = x.shape
        self.axes = axes
        self.keepdim = keepdim
        self.kept_shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))

    def expand_grad(self, grad: Any) -> Any:
        """Broadcast a reduced gradient back to the input's shape."""
        xp = array_namespace(grad)
        if not self.keepdim:
            grad = xp.reshape(grad, self.kept_shape)
        return xp.broadcast_to(grad, self.in_shape)

    def keep(self, y: Any) -> Any:
        """The output reshaped with the reduced dims kept (for formulas that need it)."""
        if self.keepdim:
            return y
        return array_namespace(y).reshape(y, self.kept_shape)

    def count(self) -> int:
        n = 1
        for a in self.axes:
            n *= self.in_shape[a]
        return n


def _same_int(x: Any) -> Any:
    """numpy accumulates small integers and bools in int64; torch keeps the dtype
    (sum(dtype=int8) wraps, sum(dtype=bool) is a logical or)."""
    return x.dtype if x.dtype.kind in "biu" else None


class Sum(_Reduction):
    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        return backend.module_of(x).sum(x, axis=axes, keepdims=keepdim, dtype=_same_int(x))

    def backward(self, grad: Any) -> Any:
        return self.expand_grad(grad)


class NanSum(_Reduction):
    """Sum treating NaN as 0; the gradient is grad * (x is not NaN), as torch (so a NaN slice
    of nanmean, grad inf, gives NaN there)."""

    def name(self) -> str:
        return "NansumBackward0"

    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        self.save_for_backward(x)
        xp = backend.module_of(x)
        return xp.sum(xp.where(xp.isnan(x), 0.0, x), axis=axes, keepdims=keepdim)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        with backend.errstate(array_namespace(grad), invalid="ignore"):
            return self.expand_grad(grad) * (x == x)


class Mean(_Reduction):
    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        return backend.module_of(x).mean(x, axis=axes, keepdims=keepdim)

    def backward(self, grad: Any) -> Any:
        n = self.count()
        return self.expand_grad(grad / n if n else grad)


class Prod(_Reduction):
    def forward(self, x: Any, axes: tuple, keepdim: bool, whole: bool = False) -> Any:
        self.setup(x, axes, keepdim)
        self.whole = whole
        y = backend.module_of(x).prod(x, axis=axes, keepdims=keepdim, dtype=_same_int(x))
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        # d prod / d x_i = product of the other elements
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        g = self.expand_grad(grad)
        y = self.keep(y)
        if isinstance(grad, Tensor):  # create_graph: differentiable, so second derivatives hold
            if not bool((x == 0).any()):
                return g * (y / x)
            return g * _exclusive_products_of_tensor(x, self.axes)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            zeros = int((x == 0).sum())
            if not zeros:  # as torch: result / x, NaN where x is inf
                return g * (y / x)
            if zeros > 1 and self.whole:  # torch's prod() shortcut: every product has a zero
                return xp.zeros_like(x)
            return g * _exclusive_products(xp, x, self.axes)


def _exclusive_products(xp: Any, x: Any, axes: tuple) -> Any:
    """prod_{j != i} x_j over `axes` (flattened in order) as torch's prod backward with zeros:
    the product of the elements before i times the product of those after it."""
    moved = xp.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    ones = xp.ones_like(flat[..., :1])
    before = _running(xp, "prod", xp.concatenate([ones, flat[..., :-1]], axis=-1), -1)
    after = _running(xp, "prod", xp.concatenate([ones, xp.flip(flat[..., 1:], -1)], axis=-1), -1)
    out = (before * xp.flip(after, -1)).reshape(moved.shape)
    return xp.moveaxis(out, tuple(range(-len(axes), 0)), axes)


def _exclusive_products_of_tensor(x: Tensor, axes: tuple) -> Tensor:
    """_exclusive_products built from differentiable ops (for create_graph)."""
    from .join import cat  # noqa: PLC0415

    ends = tuple(range(-len(axes), 0))
    moved = x.movedim(axes, ends)
    flat = moved.reshape(tuple(moved.shape[:moved.dim() - len(axes)]) + (-1,))
    ones = flat.narrow(-1, 0, 1) * 0 + 1
    n = flat.shape[-1]
    before = cat([ones, flat.narrow(-1, 0, n - 1)], -1).cumprod(-1)
    after = cat([ones, flat.narrow(-1, 1, n - 1).flip(-1)], -1).cumprod(-1).flip(-1)
    return (before * after).reshape(tuple(moved.shape)).movedim(ends, axes)


class Var(_Reduction):
    def forward(self, x: Any, axes: tuple, keepdim: bool, correction: float,
                whole: bool = False) -> Any:
        self.setup(x, axes, keepdim)
        self.save_for_backward(x)
        self.correction = correction
        self.whole = whole
        xp = backend.module_of(x)
        denom = builtins.max(self.count() - correction, 0)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):  # inf - inf, 0 / 0
            dev = x - xp.mean(x, axis=axes, keepdims=True)
            return xp.sum(dev * dev, axis=axes, keepdims=keepdim) / denom

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            return self.var_grad(xp, grad, x)

    def var_grad(self, xp: Any, grad: Any, x: Any) -> Any:
        # d var / dx_i = 2 (x_i - mean) / (N - correction). As torch: without a dim, where
        # N - correction <= 0, inf, and NaN where x_i is the mean (inf * 0); with a dim, the
        # formula as it stands (2 / 0 = inf, and negative past it)
        mean = xp.mean(x, axis=self.axes, keepdims=True)
        dof = self.count() - self.correction
        if dof <= 0 and self.whole:
            fill = xp.where(x == mean, math.nan, math.inf)
            fill = fill if isinstance(fill, Tensor) else fill.astype(x.dtype, copy=False)
            return self.expand_grad(grad) * fill
        # the scale goes on the reduced gradient: one full-size product
        return self.expand_grad(grad * (2 / dof if dof else math.inf)) * (x - mean)


class Std(Var):
    def forward(self, x: Any, axes: tuple, keepdim: bool, correction: float,
                whole: bool = False) -> Any:
        self.setup(x, axes, keepdim)
        self.correction = correction
        self.whole = whole
        xp = backend.module_of(x)
        denom = builtins.max(self.count() - correction, 0)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):  # inf - inf, 0 / 0
            dev = x - xp.mean(x, axis=axes, keepdims=True)
            y = xp.sqrt(xp.sum(dev * dev, axis=axes, keepdims=keepdim) / denom)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        # d std = d var / (2 std); as torch, 0 where std is 0 (a constant slice)
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            g = xp.where(y == 0, 0.0, grad / (2 * y))
            return self.var_grad(xp, g, x)


class AMax(_Reduction):
    """amax/amin: ties share the gradient equally."""

    largest = True
    nan_shares = False  # max()/min()/median() of all elements: a NaN result's NaNs share too

    def name(self) -> str:  # max()/min() rename theirs
        return "AmaxBackward0" if self.largest else "AminBackward0"

    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        xp = backend.module_of(x)
        y = (xp.amax if self.largest else xp.amin)(x, axis=axes, keepdims=keepdim)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        yk = self.keep(y)
        hit = x == yk
        if self.nan_shares:  # as torch's evenly_distribute_backward: a NaN result's NaNs
            if isinstance(yk, Tensor):
                hit = hit | ((x != x) & (yk != yk))
            elif bool((yk != yk).any()):
                hit = hit | (x != x)
        count = astype(xp.sum(hit, axis=self.axes, keepdims=True), grad.dtype)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):  # NaN: no hit, as torch
            return self.expand_grad(grad) * hit / count


class AMin(AMax):
    largest = False


class MaxAll(AMax):
    """max() of all elements: ties share the gradient, and a NaN result's NaNs."""

    nan_shares = True

    def name(self) -> str:
        return "MaxBackward1" if self.largest else "MinBackward1"


class MinAll(MaxAll):
    largest = False


class MedianAll(AMax):
    """median() of all elements: the lower median; like max(), ties share the gradient."""

    nan_shares = True

    def name(self) -> str:
        return "MedianBackward0"

    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        xp = backend.module_of(x)
        flat = x.reshape(-1)
        y = xp.sort(sort_keys(flat))[(flat.shape[0] - 1) // 2]
        if x.dtype.kind in "fV" and xp.isnan(flat).any():
            y = xp.asarray(xp.nan, dtype=x.dtype)
        y = xp.asarray(y, dtype=x.dtype)
        self.save_for_backward(x, y)
        return y


class NanMedianAll(AMax):
    """nanmedian() of all elements: the lower median of the non-NaN values (NaN when there are
    none); ties share the gradient, as torch."""

    nan_shares = True

    def name(self) -> str:
        return "NanmedianBackward0"

    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        xp = backend.module_of(x)
        flat = xp.sort(sort_keys(x.reshape(-1)))  # NaN sorts last
        valid = int((~xp.isnan(flat)).sum()) if x.dtype.kind in "fV" else flat.shape[0]
        y = flat[(valid - 1) // 2] if valid else xp.nan
        y = xp.asarray(y, dtype=x.dtype)
        self.save_for_backward(x, y)
        return y


class LogSumExp(_Reduction):
    def name(self) -> str:
        return "LogsumexpBackward0"

    def forward(self, x: Any, axes: tuple, keepdim: bool) -> Any:
        # log sum exp(x) = m + log sum exp(x - m) with m = max(x): no overflow
        self.setup(x, axes, keepdim)
        xp = backend.module_of(x)
        if x.size == 0:
            with backend.errstate(xp, divide="ignore"):  # log(0) = -inf, as torch
                y = xp.log(xp.sum(xp.exp(x), axis=axes, keepdims=keepdim))
        else:
            m = xp.amax(x, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            with backend.errstate(xp, over="ignore", invalid="ignore", divide="ignore"):
                y = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
            if not keepdim:
                y = xp.squeeze(y, axis=axes)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        # d/dx_i logsumexp(x) = softmax(x)_i
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        with backend.errstate(xp, over="ignore", invalid="ignore"):
            return self.expand_grad(grad) * xp.exp(x - self.keep(y))


def _running(xp: Any, op: str, x: Any, axis: int) -> Any:
    """cumsum/cumprod as torch's CPU kernels: float32 runs accumulate in float64 (torch's
    acc_type), each output rounded once (numpy would keep a float32 running value)."""
    if isinstance(x, Tensor):
        return xp.cumsum(x, axis=axis)
    if getattr(xp, "__name__", "") == "numpy" and x.dtype == "float32":
        ufunc = xp.add if op == "sum" else xp.multiply
        with backend.errstate(xp, over="ignore", invalid="ignore"):  # beyond float32: inf
            return ufunc.accumulate(x, axis=axis, dtype="float64", out=xp.empty_like(x))
    return (xp.cumsum if op == "sum" else xp.cumprod)(x, axis=axis, dtype=_same_int(x))


def _reversed_cumsum(xp: Any, a: Any, d: int) -> Any:
    return xp.flip(_plus_zero(_running(xp, "sum", xp.flip(a, d), d)), d)


def _plus_zero(y: Any) -> Any:
    """A running sum starts at +0.0 in torch, so a leading -0.0 comes out +0.0 (numpy starts
    from the first element and keeps it)."""
    if not isinstance(y, Tensor) and y.dtype.kind == "f":
        y += 0.0
    return y


class Cumsum(Op):
    def forward(self, x: Any, dim: int) -> Any:
        self.dim = dim
        return _plus_zero(_running(backend.module_of(x), "sum", x, dim))

    def backward(self, grad: Any) -> Any:
        # each input feeds every later output: the gradient is a reversed cumulative sum
        return _reversed_cumsum(array_namespace(grad), grad, self.dim)


class Cumprod(Op):
    def forward(self, x: Any, dim: int) -> Any:
        self.dim = dim
        y = _running(backend.module_of(x), "prod", x, dim)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        d = self.dim
        if x.shape[d] == 1:  # y = x: as torch, not g y / x (NaN at inf)
            return grad
        if isinstance(grad, Tensor) and bool((x == 0).any()):
            return _cumprod_grad_of_tensor(x, grad, d)
        if isinstance(grad, Tensor) or not bool((x == 0).any()):
            # sum_{k >= i} g_k y_k / x_i
            return _reversed_cumsum(xp, grad * y, d) / x
        with backend.errstate(xp, divide="ignore", invalid="ignore"):
            return _cumprod_grad_with_zeros(xp, x, grad, y, d)


def _cumprod_grad_of_tensor(x: Tensor, grad: Tensor, d: int) -> Tensor:
    """cumprod's gradient where x has zeros, from differentiable ops (create_graph), as torch:
    g_k-weighted products with x_k left out, one position k at a time (O(n^2))."""
    from .join import cat, stack  # noqa: PLC0415

    n = x.shape[d]
    columns = []
    for k in range(n):
        after = x.narrow(d, k + 1, n - k - 1).cumprod(d)  # prod_{k<j<=i} x_j for i > k
        before = x.narrow(d, 0, k).prod(d, keepdim=True) if k else None
        if before is None:
            omitted = cat([x.narrow(d, 0, 1) * 0 + 1, after], d)
        else:
            omitted = cat([before, before * after], d)
        columns.append((grad.narrow(d, k, n - k) * omitted).sum(d))
    return stack(columns, d)


def _cumprod_grad_with_zeros(xp: Any, x: Any, grad: Any, y: Any, d: int) -> Any:
    """cumprod's gradient where x has zeros, by torch's formula: before a slice's first zero
    the reversed cumsum of g y over x; at the first zero z, prod_{j<z} x_j times
    sum_{z<=k<z2} g_k prod_{z<j<=k} x_j (z2 the second zero); 0 after it."""
    is_zero = x == 0
    zeros_so_far = xp.cumsum(is_zero, axis=d)
    before = zeros_so_far == 0
    out = xp.where(before, _reversed_cumsum(xp, xp.where(before, grad * y, 0.0), d) / x, 0.0)
    segment = zeros_so_far == 1
    first = segment & is_zero
    run = _running(xp, "prod", xp.where(segment & ~is_zero, x, 1.0), d)
    total = xp.sum(run * xp.where(segment, grad, 0.0), axis=d, keepdims=True)
    n = x.shape[d]
    prefix = xp.concatenate([xp.ones_like(xp.take(y, [0], axis=d)),
                             xp.take(y, range(n - 1), axis=d)], axis=d)  # prod_{j<i} x_j
    return xp.where(first, prefix * total, out).astype(x.dtype, copy=False)


class Norm(_Reduction):
    """Vector p-norm over `axes`: (sum |x|^p)^(1/p), with max/min for p = +-inf."""

    def name(self) -> str:  # torch.norm, Tensor.norm and linalg.norm all reach vector_norm
        return "LinalgVectorNormBackward0"

    def forward(self, x: Any, p: float, axes: tuple, keepdim: bool) -> Any:
        self.setup(x, axes, keepdim)
        self.p = p
        xp = backend.module_of(x)
        if x.dtype == xp.float16:  # accumulated in float32 as torch's (1e-6 squared underflows)
            y = self.forward(x.astype(xp.float32), p, axes, keepdim).astype(xp.float16)
            self.save_for_backward(x, y)
            return y
        ax = xp.abs(x)
        if p == 2:
            y = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdim))
        elif p == 1:
            y = xp.sum(ax, axis=axes, keepdims=keepdim)
        elif p == math.inf:
            y = xp.amax(ax, axis=axes, keepdims=keepdim)
        elif p == -math.inf:
            y = xp.amin(ax, axis=axes, keepdims=keepdim)
        elif p == 0:
            y = xp.sum(ax != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
        else:
            with backend.errstate(xp, divide="ignore", over="ignore"):  # 0 ** -1 = inf
                y = xp.sum(ax**p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        x, y = self.saved_tensors
        xp = array_namespace(grad)
        p = self.p
        g = self.expand_grad(grad)
        yk = self.keep(y)  # torch's norm_backward, branch by branch
        if p == 2:  # x / ||x||, and 0 where the norm is 0
            return g * xp.where(yk == 0, 0.0, x / xp.where(yk == 0, 1.0, yk))
        if p == 0:
            return g * 0
        sgn = sign_nan_zero(x)  # 0 at NaN, as torch's sgn
        if p == 1:
            return sgn * g
        ax = xp.abs(x)
        with backend.errstate(xp, divide="ignore", invalid="ignore", over="ignore"):
            if p in (math.inf, -math.inf):  # the extremes share, and so do NaNs
                hit = (ax == yk) | (ax != ax)
                count = astype(xp.sum(hit, axis=self.axes, keepdims=True), grad.dtype)
                return sgn * ((g / count) * hit)
            if p < 1:  # sgn(x) |x|^(p-1) (0 at x = 0) g ||x||^(1-p)
                scaled = xp.where(x == 0, 0.0, sgn * ax ** (p - 1))
                return scaled * g * yk ** (1 - p)
            scaled = sgn * ax ** (p - 1) if p < 2 else x * ax ** (p - 2)
            scale = g / yk ** (p - 1)
            return scaled * xp.where(yk == 0, 0.0, scale)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _axes(x: Tensor, dim: Any, op: str) -> tuple:
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x._data.ndim))
    if x._data.ndim == 0:  # a 0-d tensor takes dim 0 or -1, as torch, and reduces nothing
        wrap_dims(dim, 1, op)
        return ()
    return wrap_dims(dim, x._data.ndim, op)


def _integer_sum_dtype(x: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        return x.to(dtypes.to_dtype(dtype))
    if x._data.dtype.kind in "biu":  # torch sums integers and bools in int64
        return x.to(dtypes.int64)
    return x


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    x = _integer_sum_dtype(input, dtype)
    out = Sum.apply(x, _axes(x, dim, "sum"), keepdim)
    return out if dim is None else torch_named(out, "SumBackward1")  # torch's sum.dim_IntList


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    x = input.to(dtypes.to_dtype(dtype)) if dtype is not None else input
    if x._data.dtype.kind == "c":
        raise RuntimeError("nansum does not support complex inputs")
    if x._data.dtype.kind not in "fV":  # integers have no NaN
        return sum(x, dim, keepdim, dtype=dtype)
    return NanSum.apply(x, _axes(x, dim, "nansum"), keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    if dtype is not None and dtypes.to_dtype(dtype) in (dtypes.float16, dtypes.bfloat16) \
            and input.dtype != dtypes.to_dtype(dtype):
        # torch averages half types in float32 (the input is not rounded to half first)
        out = mean(input.to(dtypes.float32), dim, keepdim).to(dtypes.to_dtype(dtype))
        return torch_named(out, "MeanBackward0" if dim is None else "MeanBackward1")
    x = input.to(dtypes.to_dtype(dtype)) if dtype is not None else input
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {x.dtype.name.capitalize()} (use x.float().mean())"
        )
    out = Mean.apply(x, _axes(x, dim, "mean"), keepdim)
    return out if dim is None else torch_named(out, "MeanBackward1")  # torch's mean.dim


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype} (use x.float().nanmean())")
    keep = ~input.isnan()
    return nansum(input, dim, keepdim) / sum(keep, dim, keepdim)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    x = _integer_sum_dtype(input, dtype)
    out = Prod.apply(x, _axes(x, dim, "prod"), keepdim, dim is None)
    return out if dim is None else torch_named(out, "ProdBackward1")  # torch's prod.dim_int


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None and unbiased is not None:
        raise TypeError("var()/std(): pass either unbiased or correction, not both")
    if correction is not None:
        return float(correction)
    if unbiased is None:
        return 1.0
    return 1.0 if unbiased else 0.0


def _var_args(dim: Any, unbiased: Any, keepdim: Any) -> tuple:
    # torch accepts var(unbiased) and var(dim, unbiased, keepdim) positionally
    if isinstance(dim, bool):
        return None, dim, keepdim
    return dim, unbiased, keepdim


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    dim, unbiased, keepdim = _var_args(dim, unbiased, keepdim)
    if input._data.dtype.kind == "c":  # mean of |z - mean|^2: the parts' variances add up
        from .complex import imag, real  # noqa: PLC0415

        return (var(real(input), dim, unbiased, keepdim, correction=correction)
                + var(imag(input), dim, unbiased, keepdim, correction=correction))
    _require_float(input, "var")
    return Var.apply(input, _axes(input, dim, "var"), keepdim, _correction(unbiased, correction),
                     dim is None)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    dim, unbiased, keepdim = _var_args(dim, unbiased, keepdim)
    if input._data.dtype.kind == "c":
        return var(input, dim, unbiased, keepdim, correction=correction).sqrt()
    _require_float(input, "std")
    return Std.apply(input, _axes(input, dim, "std"), keepdim, _correction(unbiased, correction),
                     dim is None)


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    return (torch_named(var(input, dim, unbiased, keepdim, correction=correction), "VarMean"),
            torch_named(mean(input, dim if not isinstance(dim, bool) else None, keepdim),
                        "VarMean"))


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    return (torch_named(std(input, dim, unbiased, keepdim, correction=correction), "StdMean"),
            torch_named(mean(input, dim if not isinstance(dim, bool) else None, keepdim),
                        "StdMean"))


def _require_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}(): input dtype should be floating point, got {x.dtype}")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    if input._data.dtype.kind == "c":
        raise complex_error("amax", input._data)
    return AMax.apply(input, _nonempty_axes(input, dim, "amax"), keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    if input._data.dtype.kind == "c":
        raise complex_error("amin", input._data)
    return AMin.apply(input, _nonempty_axes(input, dim, "amin"), keepdim)


def _nonempty_axes(input: Tensor, dim: Any, op: str) -> tuple:
    """The reduced axes of an op with no identity (amax, amin): an empty one is an error,
    RuntimeError for all of an empty tensor and IndexError for a named dim, as torch."""
    axes = _axes(input, dim, op)
    shape = input._data.shape
    if input._data.size == 0 and (dim is None or isinstance(dim, (tuple, list)) and not dim):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")
    return axes


def _select_along(input: Tensor, dim: int, keepdim: bool, index: Any, kind: Any,
                  name: str) -> Any:
    """(values, indices) where values are gathered at `index` so gradients go there only;
    `values.grad_fn` shows torch's node `name` for the whole op."""
    from .indexing import gather  # noqa: PLC0415

    idx = Tensor._make(backend.as_array(index).astype("int64", copy=False))
    values = gather(input, dim, idx)
    if not keepdim:
        values = values.squeeze(dim)
        idx = idx.squeeze(dim)
    return kind(torch_named(values, name), idx)


def _max_min(input: Tensor, dim: Any, keepdim: bool, other: Any, largest: bool) -> Any:
    name = "max" if largest else "min"
    if input._data.dtype.kind == "c":
        raise complex_error(name, input._data)
    if isinstance(dim, Tensor) and other is None:  # max(a, b)
        dim, other = None, dim
    if other is not None:
        from .arith import maximum, minimum  # noqa: PLC0415

        return maximum(input, other) if largest else minimum(input, other)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return (MaxAll if largest else MinAll).apply(input, tuple(range(input._data.ndim)), False)
    d = wrap_dim(dim, input._data.ndim, name)
    data = input._data
    if data.ndim and data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    xp = backend.module_of(data)
    index = (xp.argmax if largest else xp.argmin)(data.reshape(data.shape or (1,)), axis=d,
                                                  keepdims=True)
    if data.ndim == 0:
        index = index.reshape(())
    kind = return_types.max if largest else return_types.min
    return _select_along(input, d, keepdim or data.ndim == 0, index, kind,
                         "MaxBackward0" if largest else "MinBackward0")


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        other: Any = None, axis: Any = None, keepdims: Any = None) -> Any:
    """max(x) -> value; max(x, dim) -> (values, indices); max(x, other) -> elementwise."""
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    return _max_min(input, dim, keepdim, other, True)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        other: Any = None, axis: Any = None, keepdims: Any = None) -> Any:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    return _max_min(input, dim, keepdim, other, False)


def _arg(input: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    data = input._data
    if data.dtype.kind == "c":
        raise complex_error("argmax" if largest else "argmin", data)
    xp = backend.module_of(data)
    fn = xp.argmax if largest else xp.argmin
    name = "argmax" if largest else "argmin"
    if data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input (convert with .int())")
    if data.size == 0 and dim is None:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0.")
    if data.size == 0:  # fine along a non-empty dim: an empty result, as torch
        d = wrap_dim(dim, data.ndim)
        if data.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if dim is None:
        out = fn(data.reshape(-1))
        if keepdim:
            out = xp.reshape(out, (1,) * data.ndim)
    else:
        d = wrap_dim(dim, data.ndim)
        out = fn(data, axis=d, keepdims=keepdim) if data.ndim else fn(data.reshape(1))
    return Tensor._make(backend.as_array(out).astype("int64", copy=False))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    return _arg(input, dim, keepdim, True)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    return _arg(input, dim, keepdim, False)


def logsumexp(input: Tensor, dim: Any = None, keepdim: bool = False, *,
              axis: Any = None, keepdims: Any = None) -> Tensor:
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    if input._data.dtype.kind == "c":  # shifted by the largest real part, from complex ops
        axes = _axes(input, dim, "logsumexp")
        m = input.detach().real.amax(axes, keepdim=True)
        m = m.masked_fill(~m.isfinite(), 0.0)
        out = (input - m).exp().sum(axes, keepdim=True).log() + m
        return torch_named(out if keepdim else out.squeeze(axes), "LogsumexpBackward0")
    if input._data.dtype.kind not in "fV":
        input = input.to(dtypes.get_default_dtype())
    return LogSumExp.apply(input, _axes(input, dim, "logsumexp"), keepdim)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _integer_sum_dtype(input, dtype)
    if x._data.dtype.kind == "b":  # only with dtype=bool
        raise NotImplementedError("cumsum: not implemented for 'Bool' (use dtype=ember.int64)")
    if x._data.ndim == 0:
        return x.clone()
    d = wrap_dim(dim, x._data.ndim, "cumsum")
    if x.dtype in (dtypes.float16, dtypes.bfloat16):  # torch accumulates half types in float32
        return torch_named(Cumsum.apply(x.to(dtypes.float32), d).to(x.dtype), "CumsumBackward0")
    return Cumsum.apply(x, d)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _integer_sum_dtype(input, dtype)
    if x._data.dtype.kind == "b":  # only with dtype=bool
        raise NotImplementedError("cumprod: not implemented for 'Bool' (use dtype=ember.int64)")
    if x._data.ndim == 0:
        return x.clone()
    d = wrap_dim(dim, x._data.ndim, "cumprod")
    if x.dtype in (dtypes.float16, dtypes.bfloat16):
        return torch_named(Cumprod.apply(x.to(dtypes.float32), d).to(x.dtype), "CumprodBackward0")
    return Cumprod.apply(x, d)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over `dim` (all elements by default); 'fro' is the 2-norm."""
    if dtype is not None:
        target = dtypes.to_dtype(dtype)
        if input._data.dtype.kind == "f" and target.is_floating_point \
                and target.itemsize < input._data.dtype.itemsize:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({input.dtype}) "
                               "should be convertible without narrowing to the specified dtype "
                               f"({target})")
        input = input.to(target)
    if input._data.dtype.kind == "c":  # the norm of the moduli (differentiable through abs)
        input = input.abs()
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"norm(): input dtype should be floating point, got {input.dtype}")
    if p == "fro" or p is None:
        p = 2.0
    if p == "nuc":
        from .decomp import matrix_norm  # noqa: PLC0415

        return matrix_norm(input, "nuc", (-2, -1) if dim is None else tuple(dim), keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; Ember computes vector norms "
                         "(p a number, inf, -inf or 'fro')")
    return Norm.apply(input, float(p), _axes(input, dim, "norm"), keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False, *,
        axis: Any = None, keepdims: Any = None) -> Tensor:  # noqa: A001
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    xp = backend.module_of(input._data)
    axes = None if dim is None else _axes(input, dim, "all")
    out = backend.as_array(xp.all(input._data, axis=axes, keepdims=keepdim))
    return Tensor._make(out.astype("uint8") if input._data.dtype == "uint8" else out)


def any(input: Tensor, dim: Any = None, keepdim: bool = False, *,
        axis: Any = None, keepdims: Any = None) -> Tensor:  # noqa: A001
    if axis is not None or keepdims is not None:  # numpy's names, as torch
        dim, keepdim = numpy_spelling(dim, keepdim, axis, keepdims)
    xp = backend.module_of(input._data)
    axes = None if dim is None else _axes(input, dim, "any")
    out = backend.as_array(xp.any(input._data, axis=axes, keepdims=keepdim))
    return Tensor._make(out.astype("uint8") if input._data.dtype == "uint8" else out)  # as torch


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    xp = backend.module_of(input._data)
    axes = None if dim is None else _axes(input, dim, "count_nonzero")
    out = xp.count_nonzero(input._data, axis=axes)
    return Tensor._make(backend.as_array(xp.asarray(out, dtype="int64")))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (torch's choice for an even count), with indices when `dim` is given."""
    data = input._data
    xp = backend.module_of(data)
    if data.dtype.kind == "b":
        raise NotImplementedError("median: not implemented for 'Bool' (convert with .int())")
    if dim is None:
        flat = input.reshape(-1)
        n = flat._data.shape[0]
        if n == 0:
            return Tensor._make(xp.asarray(xp.nan, dtype=data.dtype))
        return MedianAll.apply(input, tuple(range(data.ndim)), False)
    d = wrap_dim(dim, data.ndim, "median")
    n = data.shape[d] if data.ndim else 1
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    source = data if data.ndim else data.reshape(1)
    order = xp.argsort(sort_keys(source), axis=d, kind="stable")  # NaNs last, in their order
    index = xp.take(order, [(n - 1) // 2], axis=d)
    if source.dtype.kind in "fcV" and n:  # a slice holding NaN has median NaN: its first NaN
        nans = xp.isnan(source).sum(axis=d, keepdims=True)
        first_nan = xp.take_along_axis(order, xp.minimum(n - nans, n - 1), axis=d)
        index = xp.where(nans > 0, first_nan, index)
    if data.ndim == 0:
        index = index.reshape(())
    return _select_along(input, d, keepdim or data.ndim == 0, index, return_types.median,
                         "MedianBackward1")
