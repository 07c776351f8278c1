"""Tensor's math methods and operators: each one forwards to the op function of the same name.

`x.exp()` is `ember.exp(x)`, `a @ b` is `ember.matmul(a, b)`, `x.add_(y)` is the in-place form.
The op modules import `Tensor`, so they are bound here after the class exists (`bind_ops`).
"""

from __future__ import annotations

from typing import Any

from . import return_types

# Filled in by bind_ops(): the op modules.
arith: Any = None
unary: Any = None
compare: Any = None
reduce: Any = None
movement: Any = None
join: Any = None
indexing: Any = None
linalg: Any = None
softmax: Any = None
convert: Any = None
inplace: Any = None
random: Any = None
creation: Any = None
dtypes: Any = None
Add = Sub = Mul = Div = Pow = None  # hot-path op classes


def bind_ops() -> None:
    global arith, unary, compare, reduce, movement, join, indexing, linalg, softmax, convert
    global inplace, random, creation, dtypes, Add, Sub, Mul, Div, Pow
    from . import creation as _creation  # noqa: PLC0415
    from . import dtypes as _dtypes  # noqa: PLC0415
    from . import random as _random  # noqa: PLC0415
    from .ops import arith as _arith  # noqa: PLC0415
    from .ops import compare as _compare  # noqa: PLC0415
    from .ops import convert as _convert  # noqa: PLC0415
    from .ops import indexing as _indexing  # noqa: PLC0415
    from .ops import inplace as _inplace  # noqa: PLC0415
    from .ops import join as _join  # noqa: PLC0415
    from .ops import linalg as _linalg  # noqa: PLC0415
    from .ops import reduce as _reduce  # noqa: PLC0415
    from .ops import shape as _shape  # noqa: PLC0415
    from .ops import softmax as _softmax  # noqa: PLC0415
    from .ops import unary as _unary  # noqa: PLC0415

    arith, unary, compare, reduce, movement = _arith, _unary, _compare, _reduce, _shape
    join, indexing, linalg, softmax, convert = _join, _indexing, _linalg, _softmax, _convert
    inplace, random, creation, dtypes = _inplace, _random, _creation, _dtypes
    Add, Sub, Mul, Div, Pow = _arith.Add, _arith.Sub, _arith.Mul, _arith.Div, _arith.Pow
    from .ops._util import spell_numpy_names  # noqa: PLC0415

    spell_numpy_names(TensorMethods)  # x.cumprod(axis=0), x.mode(1, keepdims=True), ...


class TensorMethods:
    __slots__ = ()

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Any:
        return Add.apply(self, other)

    def __radd__(self, other: Any) -> Any:
        return Add.apply(other, self)

    def __sub__(self, other: Any) -> Any:
        return arith.sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return arith.rsub(self, other)

    def __mul__(self, other: Any) -> Any:
        return Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return arith.div(self, other)

    def __rtruediv__(self, other: Any) -> Any:  # torch computes reciprocal() * other
        return arith.mul(unary.reciprocal(self), other)

    def __floordiv__(self, other: Any) -> Any:
        return arith.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return arith.floor_divide(other, self)

    def __mod__(self, other: Any) -> Any:
        return arith.remainder(self, other)

    def __rmod__(self, other: Any) -> Any:
        return arith.remainder(other, self)

    def __pow__(self, other: Any) -> Any:
        return Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Any:
        return Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Any:
        return linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return linalg.matmul(other, self)

    def __neg__(self) -> Any:
        return unary.Neg.apply(self)

    def __pos__(self) -> Any:
        return _more("pointwise").positive(self)  # the tensor itself; bool refused, as torch

    def __abs__(self) -> Any:
        return unary.abs(self)

    def __invert__(self) -> Any:
        if self._data.dtype.kind == "f":  # type: ignore[attr-defined]
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                            "tensors")
        return compare.bitwise_not(self)

    def __and__(self, other: Any) -> Any:
        return compare.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Any:
        return compare.bitwise_and(other, self)

    def __or__(self, other: Any) -> Any:
        return compare.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Any:
        return compare.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Any:
        return compare.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Any:
        return compare.bitwise_xor(other, self)

    def __lshift__(self, other: Any) -> Any:
        return compare.bitwise_left_shift(self, other)

    def __rlshift__(self, other: Any) -> Any:
        return compare.bitwise_left_shift(other, self)

    def __rshift__(self, other: Any) -> Any:
        return compare.bitwise_right_shift(self, other)

    def __rrshift__(self, other: Any) -> Any:
        return compare.bitwise_right_shift(other, self)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:
            return False
        return compare.eq(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:
            return True
        return compare.ne(self, other)

    def __lt__(self, other: Any) -> Any:
        return compare.lt(self, other)

    def __le__(self, other: Any) -> Any:
        return compare.le(self, other)

    def __gt__(self, other: Any) -> Any:
        return compare.gt(self, other)

    def __ge__(self, other: Any) -> Any:
        return compare.ge(self, other)

    def __getitem__(self, key: Any) -> Any:
        return indexing.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        inplace.setitem(self, key, value)

    # in-place operators: x += y is x.add_(y)
    def __iadd__(self, other: Any) -> Any:
        return self.add_(other)

    def __isub__(self, other: Any) -> Any:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Any:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Any:
        return self.div_(other)

    def __ifloordiv__(self, other: Any) -> Any:
        return self._inplace(lambda s: arith.floor_divide(s, other), False, other)

    def __imod__(self, other: Any) -> Any:
        return self._inplace(lambda s: arith.remainder(s, other), True, other)

    def __ipow__(self, other: Any) -> Any:
        return self.pow_(other)

    def __iand__(self, other: Any) -> Any:
        return self._inplace(lambda s: compare.bitwise_and(s, other), False, other)

    def __ior__(self, other: Any) -> Any:
        return self._inplace(lambda s: compare.bitwise_or(s, other), False, other)

    def __ixor__(self, other: Any) -> Any:
        return self._inplace(lambda s: compare.bitwise_xor(s, other), False, other)

    # ------------------------------------------------------------------ arithmetic
    def add(self, other: Any, *, alpha: Any = 1) -> Any:
        return arith.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Any:
        return arith.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other: Any) -> Any:
        return arith.mul(self, other)

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        return arith.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def floor_divide(self, other: Any) -> Any:
        return arith.floor_divide(self, other)

    def remainder(self, other: Any) -> Any:
        return arith.remainder(self, other)

    def fmod(self, other: Any) -> Any:
        return arith.fmod(self, other)

    def pow(self, exponent: Any) -> Any:
        return arith.pow(self, exponent)

    def float_power(self, exponent: Any) -> Any:
        return arith.float_power(self, exponent)

    def maximum(self, other: Any) -> Any:
        return arith.maximum(self, other)

    def minimum(self, other: Any) -> Any:
        return arith.minimum(self, other)

    def fmax(self, other: Any) -> Any:
        return arith.fmax(self, other)

    def fmin(self, other: Any) -> Any:
        return arith.fmin(self, other)

    def atan2(self, other: Any) -> Any:
        return arith.atan2(self, other)

    arctan2 = atan2

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return arith.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return arith.addcdiv(self, tensor1, tensor2, value=value)

    def lerp(self, end: Any, weight: Any) -> Any:
        return unary.lerp(self, end, weight)

    # ------------------------------------------------------------------ unary math
    def neg(self) -> Any:
        return unary.neg(self)

    negative = neg

    def abs(self) -> Any:
        return unary.abs(self)

    absolute = abs

    def exp(self) -> Any:
        return unary.exp(self)

    def exp2(self) -> Any:
        return unary.exp2(self)

    def expm1(self) -> Any:
        return unary.expm1(self)

    def log(self) -> Any:
        return unary.log(self)

    def log2(self) -> Any:
        return unary.log2(self)

    def log10(self) -> Any:
        return unary.log10(self)

    def log1p(self) -> Any:
        return unary.log1p(self)

    def sqrt(self) -> Any:
        return unary.sqrt(self)

    def rsqrt(self) -> Any:
        return unary.rsqrt(self)

    def square(self) -> Any:
        return unary.square(self)

    def reciprocal(self) -> Any:
        return unary.reciprocal(self)

    def sin(self) -> Any:
        return unary.sin(self)

    def cos(self) -> Any:
        return unary.cos(self)

    def tan(self) -> Any:
        return unary.tan(self)

    def asin(self) -> Any:
        return unary.asin(self)

    def acos(self) -> Any:
        return unary.acos(self)

    def atan(self) -> Any:
        return unary.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def sinh(self) -> Any:
        return unary.sinh(self)

    def cosh(self) -> Any:
        return unary.cosh(self)

    def tanh(self) -> Any:
        return unary.tanh(self)

    def asinh(self) -> Any:
        return unary.asinh(self)

    def acosh(self) -> Any:
        return unary.acosh(self)

    def atanh(self) -> Any:
        return unary.atanh(self)

    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def sigmoid(self) -> Any:
        return unary.sigmoid(self)

    def logit(self, eps: float | None = None) -> Any:
        return unary.logit(self, eps)

    def relu(self) -> Any:
        return unary.relu(self)

    def erf(self) -> Any:
        return unary.erf(self)

    def erfc(self) -> Any:
        return unary.erfc(self)

    def erfinv(self) -> Any:
        return unary.erfinv(self)

    def floor(self) -> Any:
        return unary.floor(self)

    def ceil(self) -> Any:
        return unary.ceil(self)

    def trunc(self) -> Any:
        return unary.trunc(self)

    fix = trunc

    def round(self, decimals: int = 0) -> Any:
        return unary.round(self, decimals=decimals)

    def sign(self) -> Any:
        return unary.sign(self)

    def frac(self) -> Any:
        return unary.frac(self)

    def clamp(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        return unary.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Any:  # noqa: A002
        return unary.clamp_min(self, min)

    def clamp_max(self, max: Any) -> Any:  # noqa: A002
        return unary.clamp_max(self, max)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Any:
        return unary.nan_to_num(self, nan, posinf, neginf)

    def softmax(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Any:
        return softmax.softmax(self, _required_dim("softmax", dim, axis), dtype=dtype)

    def log_softmax(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Any:
        return softmax.log_softmax(self, _required_dim("log_softmax", dim, axis), dtype=dtype)

    # ------------------------------------------------------------------ comparisons / logic
    def eq(self, other: Any) -> Any:
        return compare.eq(self, other)

    def ne(self, other: Any) -> Any:
        return compare.ne(self, other)

    def lt(self, other: Any) -> Any:
        return compare.lt(self, other)

    def le(self, other: Any) -> Any:
        return compare.le(self, other)

    def gt(self, other: Any) -> Any:
        return compare.gt(self, other)

    def ge(self, other: Any) -> Any:
        return compare.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other: Any) -> bool:
        return compare.equal(self, other)

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Any:
        return compare.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return compare.allclose(self, other, rtol, atol, equal_nan)

    def isnan(self) -> Any:
        return compare.isnan(self)

    def isinf(self) -> Any:
        return compare.isinf(self)

    def isfinite(self) -> Any:
        return compare.isfinite(self)

    def isposinf(self) -> Any:
        return compare.isposinf(self)

    def isneginf(self) -> Any:
        return compare.isneginf(self)

    def signbit(self) -> Any:
        return compare.signbit(self)

    def logical_and(self, other: Any) -> Any:
        return compare.logical_and(self, other)

    def logical_or(self, other: Any) -> Any:
        return compare.logical_or(self, other)

    def logical_xor(self, other: Any) -> Any:
        return compare.logical_xor(self, other)

    def logical_not(self) -> Any:
        return compare.logical_not(self)

    def bitwise_and(self, other: Any) -> Any:
        return compare.bitwise_and(self, other)

    def bitwise_or(self, other: Any) -> Any:
        return compare.bitwise_or(self, other)

    def bitwise_xor(self, other: Any) -> Any:
        return compare.bitwise_xor(self, other)

    def bitwise_not(self) -> Any:
        return compare.bitwise_not(self)

    def bitwise_left_shift(self, other: Any) -> Any:
        return compare.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other: Any) -> Any:
        return compare.bitwise_right_shift(self, other)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.sum(self, dim, keepdim, dtype=dtype)

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
               axis: Any = None, keepdims: Any = None) -> Any:
        dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.nansum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.mean(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim: Any = None, keepdim: bool = False) -> Any:
        return reduce.nanmean(self, dim, keepdim)

    def prod(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.prod(self, dim, keepdim, dtype=dtype)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim: Any = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.min(self, dim, keepdim)

    def amax(self, dim: Any = (), keepdim: bool = False, *,
             axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False, *,
             axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.argmin(self, dim, keepdim)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *,
                  axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.logsumexp(self, dim, keepdim)

    def cumsum(self, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Any:
        return reduce.cumsum(self, _required_dim("cumsum", dim, axis), dtype=dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Any:
        return reduce.cumprod(self, dim, dtype=dtype)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Any:
        return reduce.norm(self, p, dim, keepdim, dtype)

    def all(self, dim: Any = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: Any = None) -> Any:
        if axis is not None or keepdims is not None:  # numpy's names, as torch
            dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.any(self, dim, keepdim)

    def count_nonzero(self, dim: Any = None) -> Any:
        return reduce.count_nonzero(self, dim)

    def median(self, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: Any = None) -> Any:
        dim, keepdim = reduce.numpy_spelling(dim, keepdim, axis, keepdims)
        return reduce.median(self, dim, keepdim)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
             axis: Any = None) -> Any:
        from .ops import sort as _sort  # noqa: PLC0415

        return _sort.topk(self, k, dim if axis is None else axis, largest, sorted)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False, *,
             axis: Any = None) -> Any:
        from .ops import sort as _sort  # noqa: PLC0415

        return _sort.sort(self, dim if axis is None else axis, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False, *,
                axis: Any = None) -> Any:
        from .ops import sort as _sort  # noqa: PLC0415

        return _sort.argsort(self, dim if axis is None else axis, descending, stable=stable)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        from .ops import sort as _sort  # noqa: PLC0415

        return _sort.kthvalue(self, k, dim, keepdim)

    def unique(self, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:
        from .ops import sort as _sort  # noqa: PLC0415

        return _sort.unique(self, sorted, return_inverse, return_counts, dim)

    # ------------------------------------------------------------------ shape and movement
    def reshape(self, *dims: Any, shape: Any = None) -> Any:  # torch also takes shape=
        return movement.reshape(self, *dims) if shape is None else movement.reshape(self, shape)

    def view(self, *dims: Any, size: Any = None) -> Any:  # torch also takes size=
        return movement.view(self, *dims) if size is None else movement.view(self, size)

    def view_as(self, other: Any) -> Any:
        return movement.view(self, other.shape)

    def reshape_as(self, other: Any) -> Any:
        return movement.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        return movement.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Any) -> Any:
        return movement.unflatten(self, dim, sizes)

    def ravel(self) -> Any:
        return movement.ravel(self)

    def squeeze(self, dim: Any = None, *, axis: Any = None) -> Any:
        return movement.squeeze(self, dim if axis is None else axis)

    def unsqueeze(self, dim: Any = None, *, axis: Any = None) -> Any:
        return movement.unsqueeze(self, _required_dim("unsqueeze", dim, axis))

    def permute(self, *order: Any, dims: Any = None) -> Any:  # torch also takes dims=
        return movement.permute(self, *order) if dims is None else movement.permute(self, dims)

    def transpose(self, dim0: int, dim1: int) -> Any:
        return movement.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self) -> Any:
        return movement.t(self)

    @property
    def T(self) -> Any:  # noqa: N802 (torch's name)
        nd = self._data.ndim  # type: ignore[attr-defined]
        return movement.permute(self, *reversed(range(nd))) if nd > 1 else self

    @property
    def mT(self) -> Any:  # noqa: N802
        if self._data.ndim < 2:  # type: ignore[attr-defined]
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")  # type: ignore[attr-defined]
        return movement.transpose(self, -2, -1)

    @property
    def H(self) -> Any:  # noqa: N802 (the conjugate transpose)
        # torch transposes a matrix (TransposeBackward0); .T permutes
        return _more("complex").conj(self.transpose(0, 1) if self.dim() == 2 else self.T)

    @property
    def mH(self) -> Any:  # noqa: N802
        return _more("complex").conj(self.mT)

    def movedim(self, source: Any, destination: Any) -> Any:
        return movement.movedim(self, source, destination)

    moveaxis = movedim

    def expand(self, *sizes: Any, size: Any = None) -> Any:  # torch also takes size=
        return movement.expand(self, *sizes) if size is None else movement.expand(self, size)

    def expand_as(self, other: Any) -> Any:
        return movement.expand_as(self, other)

    def broadcast_to(self, *size: Any) -> Any:  # x.broadcast_to(3, 4) as well as ((3, 4))
        return movement.expand(self, *size)

    def repeat(self, *sizes: Any, repeats: Any = None) -> Any:  # torch also takes repeats=
        return movement.repeat(self, *sizes) if repeats is None else movement.repeat(self, repeats)

    def tile(self, *dims: Any, **kwargs: Any) -> Any:
        """x.tile(2, 1), x.tile((2, 1)) and x.tile(dims=(2, 1)), as torch's method takes them."""
        if "dims" in kwargs:
            dims = (kwargs.pop("dims"),)
        if kwargs:
            raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = tuple(dims[0])
        return movement.tile(self, dims)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Any:
        return movement.repeat_interleave(self, repeats, dim, output_size=output_size)

    def flip(self, *order: Any, dims: Any = None) -> Any:  # torch also takes dims=
        if dims is None:
            dims = tuple(order[0]) if len(order) == 1 and isinstance(order[0], (list, tuple)) \
                else order
        return movement.flip(self, dims)

    def fliplr(self) -> Any:
        return movement.fliplr(self)

    def flipud(self) -> Any:
        return movement.flipud(self)

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        return movement.roll(self, shifts, dims)

    def tril(self, diagonal: int = 0) -> Any:
        return movement.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Any:
        return movement.triu(self, diagonal)

    def clone(self, *, memory_format: Any = None) -> Any:
        return movement.clone(self, memory_format=memory_format)

    def contiguous(self, memory_format: Any = None) -> Any:
        return movement.contiguous(self, memory_format)

    def diag(self, diagonal: int = 0) -> Any:
        return creation.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        return movement.diagonal(self, offset, dim1, dim2)

    def trace(self) -> Any:
        return movement.trace(self)

    def split(self, split_size: Any, dim: int = 0) -> Any:
        return join.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0, *, axis: Any = None) -> Any:
        return join.chunk(self, chunks, dim if axis is None else axis)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> Any:
        return join.tensor_split(self, indices_or_sections, dim)

    def unbind(self, dim: int = 0, *, axis: Any = None) -> Any:
        return join.unbind(self, dim if axis is None else axis)

    def narrow(self, dim: int, start: Any, length: int) -> Any:
        return join.narrow(self, dim, start, length)

    def unfold(self, dimension: int, size: int, step: int) -> Any:
        """Windows of `size` every `step` along `dimension`, as a new last dim: a view, as
        torch (writing through it changes self)."""
        from .ops import strided, windows  # noqa: PLC0415
        from .ops._util import torch_named  # noqa: PLC0415

        nd = self._data.ndim
        if nd == 0 or not 0 <= size <= self.shape[dimension] or step <= 0 \
                or self._sparse_layout or not -nd <= dimension < nd:
            return windows.unfold(self, dimension, size, step)  # checks and the 0-d case
        d = dimension % nd
        shape, strides = list(self.shape), list(self.stride())
        shape[d] = (shape[d] - size) // step + 1
        strides[d] *= step
        out = strided.as_strided(self, shape + [size], strides + [self.stride(d)],
                                 self.storage_offset())
        return torch_named(out, "Unfold")

    # ------------------------------------------------------------------ indexing
    def gather(self, dim: Any = None, index: Any = None, *, axis: Any = None) -> Any:
        return indexing.gather(self, _required_dim("gather", dim, axis), index)

    def take(self, index: Any) -> Any:
        return indexing.take(self, index)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Any:
        return indexing.take_along_dim(self, indices, dim)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Any:
        return indexing.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        return indexing.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *,
                       include_self: bool = True) -> Any:
        return indexing.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_select(self, dim: Any = None, index: Any = None, *, axis: Any = None) -> Any:
        return indexing.index_select(self, _required_dim("index_select", dim, axis), index)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        return indexing.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim: int, index: Any, source: Any) -> Any:
        return indexing.index_copy(self, dim, index, source)

    def index_fill(self, dim: int, index: Any, value: Any) -> Any:
        return indexing.index_fill(self, dim, index, value)

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        return indexing.index_put(self, indices, values, accumulate)

    def masked_fill(self, mask: Any, value: Any) -> Any:
        return indexing.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Any:
        return indexing.masked_select(self, mask)

    def where(self, condition: Any, other: Any) -> Any:
        return indexing.where(condition, self, other)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return indexing.nonzero(self, as_tuple=as_tuple)

    def nonzero_static(self, *, size: int, fill_value: int = -1) -> Any:
        return indexing.nonzero_static(self, size=size, fill_value=fill_value)

    def argwhere(self) -> Any:
        return indexing.argwhere(self)

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, other: Any) -> Any:
        return linalg.matmul(self, other)

    def mm(self, mat2: Any) -> Any:
        return linalg.mm(self, mat2)

    def bmm(self, mat2: Any) -> Any:
        return linalg.bmm(self, mat2)

    def mv(self, vec: Any) -> Any:
        return linalg.mv(self, vec)

    def dot(self, other: Any) -> Any:
        return linalg.dot(self, other)

    def inner(self, other: Any) -> Any:
        return linalg.inner(self, other)

    def vdot(self, other: Any) -> Any:
        return linalg.vdot(self, other)

    def outer(self, vec2: Any) -> Any:
        return linalg.outer(self, vec2)

    ger = outer

    def addmm(self, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    # ------------------------------------------------------------------ dtype and device
    def to(self, *args: Any, **kwargs: Any) -> Any:
        return convert.to(self, *args, **kwargs)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        if dtype is None:
            return _type_name(self)
        from .legacy_types import LegacyTensorType, lookup  # noqa: PLC0415

        if isinstance(dtype, str):
            dtype = lookup(dtype)
        if isinstance(dtype, type) and issubclass(dtype, LegacyTensorType):
            out = self.to("cuda") if dtype.is_cuda and not self.is_cuda else (
                self.to("cpu") if self.is_cuda and not dtype.is_cuda else self)
            return convert.type_conversion(out, dtype.dtype)
        return convert.type_conversion(self, dtypes.to_dtype(dtype))

    def type_as(self, other: Any) -> Any:
        return convert.to(self, other.dtype)

    def float(self) -> Any:
        return convert.type_conversion(self, dtypes.float32)

    def double(self) -> Any:
        return convert.type_conversion(self, dtypes.float64)

    def half(self) -> Any:
        return convert.type_conversion(self, dtypes.float16)

    def bfloat16(self) -> Any:
        """A bfloat16 copy (needs the optional ml_dtypes package)."""
        return convert.type_conversion(self, dtypes.bfloat16)

    def cfloat(self) -> Any:
        return convert.type_conversion(self, dtypes.complex64)

    def cdouble(self) -> Any:
        return convert.type_conversion(self, dtypes.complex128)

    def int(self) -> Any:
        return convert.type_conversion(self, dtypes.int32)

    def long(self) -> Any:
        return convert.type_conversion(self, dtypes.int64)

    def short(self) -> Any:
        return convert.type_conversion(self, dtypes.int16)

    def char(self) -> Any:
        return convert.type_conversion(self, dtypes.int8)

    def byte(self) -> Any:
        return convert.type_conversion(self, dtypes.uint8)

    def bool(self) -> Any:
        return convert.type_conversion(self, dtypes.bool_)

    def cpu(self) -> Any:
        return convert.to(self, "cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Any:
        return convert.to(self, "cuda" if device is None else (
            f"cuda:{device}" if isinstance(device, int) else device))

    def pin_memory(self) -> Any:
        return self  # host memory is already usable for copies; kept for API compatibility

    def is_pinned(self) -> bool:
        return False

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Any:
        return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                               requires_grad=requires_grad)

    def new_zeros(self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Any:  # torch also takes size=
        return creation.zeros(*(sizes if size is None else (size,)), dtype=dtype or self.dtype,
                              device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Any:  # torch also takes size=
        return creation.ones(*(sizes if size is None else (size,)), dtype=dtype or self.dtype,
                             device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Any:  # torch also takes size=
        return creation.empty(*(sizes if size is None else (size,)), dtype=dtype or self.dtype,
                              device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Any:
        return creation.full(size, fill_value, dtype=dtype or self.dtype,
                             device=device or self.device, requires_grad=requires_grad)

    # ------------------------------------------------------------------ in-place versions
    def _inplace(self, compute: Any, saves_input: bool, *others: Any) -> Any:
        return inplace.apply_inplace(self, compute, saves_input, others)

    def add_(self, other: Any, *, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: arith.add(s, other, alpha=alpha), False, other)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: arith.sub(s, other, alpha=alpha), False, other)

    def mul_(self, other: Any) -> Any:
        return self._inplace(lambda s: arith.mul(s, other), True, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        return self._inplace(lambda s: arith.div(s, other, rounding_mode=rounding_mode), True,
                             other)

    true_divide_ = div_

    def pow_(self, exponent: Any) -> Any:
        return self._inplace(lambda s: arith.pow(s, exponent), True, exponent)

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self._inplace(lambda s: arith.addcmul(s, tensor1, tensor2, value=value), False,
                             tensor1, tensor2)

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        return self._inplace(lambda s: arith.addcdiv(s, tensor1, tensor2, value=value), False,
                             tensor1, tensor2)

    def lerp_(self, end: Any, weight: Any) -> Any:
        return self._inplace(lambda s: unary.lerp(s, end, weight), True, end, weight)

    def neg_(self) -> Any:
        return self._inplace(unary.neg, False)

    def abs_(self) -> Any:
        return self._inplace(unary.abs, True)

    def exp_(self) -> Any:
        return self._inplace(unary.exp, True)

    def log_(self) -> Any:
        return self._inplace(unary.log, True)

    def sqrt_(self) -> Any:
        return self._inplace(unary.sqrt, True)

    def sin_(self) -> Any:
        return self._inplace(unary.sin, True)

    def cos_(self) -> Any:
        return self._inplace(unary.cos, True)

    def sigmoid_(self) -> Any:
        return self._inplace(unary.sigmoid, True)

    def tanh_(self) -> Any:
        return self._inplace(unary.tanh, True)

    def relu_(self) -> Any:
        return self._inplace(unary.relu, True)

    def floor_(self) -> Any:
        return self._inplace(unary.floor, False)

    def ceil_(self) -> Any:
        return self._inplace(unary.ceil, False)

    def round_(self, decimals: int = 0) -> Any:
        return self._inplace(lambda s: unary.round(s, decimals=decimals), False)

    def trunc_(self) -> Any:
        return self._inplace(unary.trunc, False)

    def sign_(self) -> Any:
        return self._inplace(unary.sign, False)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        return self._inplace(lambda s: unary.clamp(s, min, max), True, min, max)

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Any:  # noqa: A002
        return self._inplace(lambda s: unary.clamp_min(s, min), True, min)

    def clamp_max_(self, max: Any) -> Any:  # noqa: A002
        return self._inplace(lambda s: unary.clamp_max(s, max), True, max)

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> Any:
        return self._inplace(lambda s: unary.nan_to_num(s, nan, posinf, neginf), True)

    def zero_(self) -> Any:
        return self._fill(0, "ZeroBackward0")

    def fill_(self, value: Any) -> Any:
        if hasattr(value, "_data") and value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        # torch's node: FillBackward2 for a number, FillBackward3 for a tensor value
        return self._fill(value, "FillBackward3" if hasattr(value, "_data") else "FillBackward2")

    def _fill(self, value: Any, name: str) -> Any:
        like = self

        def compute(s: Any) -> Any:
            if hasattr(value, "_data"):
                return value.to(like.dtype).expand(like.shape).clone()
            return creation.full(like.shape, value, dtype=like.dtype, device=like.device)

        return inplace.apply_inplace(self, compute, False, (value,), overwrites=name)

    def copy_(self, src: Any, non_blocking: bool = False) -> Any:
        return inplace.copy_(self, src, non_blocking)

    def masked_fill_(self, mask: Any, value: Any) -> Any:
        return self._inplace(lambda s: indexing.masked_fill(s, mask, value), False, value)

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        return self._inplace(lambda s: indexing.index_put(s, indices, values, accumulate), False,
                             values)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: indexing.index_add(s, dim, index, source, alpha=alpha),
                             False, source)

    def index_copy_(self, dim: int, index: Any, source: Any) -> Any:
        return self._inplace(lambda s: indexing.index_copy(s, dim, index, source), False, source)

    def index_fill_(self, dim: int, index: Any, value: Any) -> Any:
        return self._inplace(lambda s: indexing.index_fill(s, dim, index, value), False, value)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Any:
        return self._inplace(
            lambda s: indexing.scatter(s, dim, index, src, value=value, reduce=reduce),
            reduce == "multiply", src)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Any:
        return self._inplace(lambda s: indexing.scatter_add(s, dim, index, src), False, src)

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *,
                        include_self: bool = True) -> Any:
        return self._inplace(lambda s: indexing.scatter_reduce(
            s, dim, index, src, reduce, include_self=include_self), True, src)

    def tril_(self, diagonal: int = 0) -> Any:
        return self._inplace(lambda s: movement.tril(s, diagonal), False)

    def triu_(self, diagonal: int = 0) -> Any:
        return self._inplace(lambda s: movement.triu(s, diagonal), False)

    # random fills (used by nn.init)
    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Any:
        return random.uniform_(self, a, b, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
        return random.normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Any:
        return random.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Any:
        return random.exponential_(self, lambd, generator=generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Any:
        return random.log_normal_(self, mean, std, generator=generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Any:
        return random.cauchy_(self, median, sigma, generator=generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Any:
        return random.geometric_(self, p, generator=generator)

    def random_(self, *args: Any, generator: Any = None, **kwargs: Any) -> Any:
        return random.random_(self, *args, generator=generator, **kwargs)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> Any:
        return random.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Any:
        return random.multinomial(self, num_samples, replacement, generator=generator)

    # ------------------------------------------------------------------ more math (ops.pointwise,
    # ops.stats, ops.layout, ops.decomp)
    def hypot(self, other: Any) -> Any:
        return _more("pointwise").hypot(self, other)

    def logaddexp(self, other: Any) -> Any:
        return _more("pointwise").logaddexp(self, other)

    def logaddexp2(self, other: Any) -> Any:
        return _more("pointwise").logaddexp2(self, other)

    def xlogy(self, other: Any) -> Any:
        return _more("pointwise").xlogy(self, other)

    def copysign(self, other: Any) -> Any:
        return _more("pointwise").copysign(self, other)

    def lgamma(self) -> Any:
        return _more("pointwise").lgamma(self)

    def digamma(self) -> Any:
        return _more("pointwise").digamma(self)

    def polygamma(self, n: int) -> Any:
        return _more("pointwise").polygamma(n, self)

    def mvlgamma(self, p: int) -> Any:
        return _more("pointwise").mvlgamma(self, p)

    def sinc(self) -> Any:
        return _more("pointwise").sinc(self)

    def deg2rad(self) -> Any:
        return _more("pointwise").deg2rad(self)

    def rad2deg(self) -> Any:
        return _more("pointwise").rad2deg(self)

    def positive(self) -> Any:
        return _more("pointwise").positive(self)

    def heaviside(self, values: Any) -> Any:
        return _more("pointwise").heaviside(self, values)

    def gcd(self, other: Any) -> Any:
        return _more("pointwise").gcd(self, other)

    def lcm(self, other: Any) -> Any:
        return _more("pointwise").lcm(self, other)

    # ------------------------------------------------------------------ complex (ops.complex)
    def isreal(self) -> Any:
        return _more("complex").isreal(self)

    def conj(self) -> Any:
        return _more("complex").conj(self)

    def conj_physical(self) -> Any:
        return _more("complex").conj_physical(self)

    def resolve_conj(self) -> Any:
        return _more("complex").resolve_conj(self)

    def resolve_neg(self) -> Any:
        return _more("complex").resolve_neg(self)

    @property
    def real(self) -> Any:
        return _more("complex").real(self)

    @real.setter
    def real(self, value: Any) -> None:
        self.real.copy_(value)

    @property
    def imag(self) -> Any:
        return _more("complex").imag(self)

    @imag.setter
    def imag(self, value: Any) -> None:
        self.imag.copy_(value)

    def angle(self) -> Any:
        return _more("complex").angle(self)

    def sgn(self) -> Any:
        return _more("complex").sgn(self)

    def stft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
             window: Any = None, center: bool = True, pad_mode: str = "reflect",
             normalized: bool = False, onesided: bool | None = None,
             return_complex: bool | None = None) -> Any:
        return _more("spectral").stft(self, n_fft, hop_length, win_length, window, center,
                                      pad_mode, normalized, onesided, return_complex)

    def istft(self, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
              window: Any = None, center: bool = True, normalized: bool = False,
              onesided: bool | None = None, length: int | None = None,
              return_complex: bool = False) -> Any:
        return _more("spectral").istft(self, n_fft, hop_length, win_length, window, center,
                                       normalized, onesided, length, return_complex)

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Any:
        return _more("pointwise").diff(self, n, dim, prepend, append)

    def cross(self, other: Any, dim: int | None = None) -> Any:
        return _more("pointwise").cross(self, other, dim)

    def ldexp(self, other: Any) -> Any:
        return _more("pointwise").ldexp(self, other)

    def frexp(self) -> Any:
        return _more("pointwise").frexp(self)

    def cummax(self, dim: int) -> Any:
        return _more("stats").cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return _more("stats").cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Any:
        return _more("stats").logcumsumexp(self, dim)

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Any:
        return _more("stats").quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Any:
        return _more("stats").nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return _more("stats").mode(self, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return _more("stats").nanmedian(self, dim, keepdim)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return _more("stats").aminmax(self, dim=dim, keepdim=keepdim)

    def dist(self, other: Any, p: float = 2) -> Any:
        return _more("stats").dist(self, other, p)

    def renorm_(self, p: float, dim: int, maxnorm: float) -> Any:
        return self._inplace(lambda s: s.renorm(p, dim, maxnorm), True)

    def new(self, *args: Any, **kwargs: Any) -> Any:
        """Legacy constructor with self's dtype and device: new(2, 3), new([1, 2]), new()."""
        from .creation import tensor_from_legacy_args  # noqa: PLC0415

        data = tensor_from_legacy_args(args, kwargs.get("dtype", self.dtype),
                                       kwargs.get("device", self.device))
        return creation.as_tensor(data)

    def hardshrink(self, lambd: float = 0.5) -> Any:
        from .nn.functional import hardshrink  # noqa: PLC0415

        return hardshrink(self, lambd)

    def prelu(self, weight: Any) -> Any:
        from .nn.functional import prelu  # noqa: PLC0415

        return prelu(self, weight)

    def cov(self, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Any:
        return _more("stats").cov(self, correction=correction, fweights=fweights,
                                  aweights=aweights)

    def corrcoef(self) -> Any:
        return _more("stats").corrcoef(self)

    def nextafter(self, other: Any) -> Any:
        from . import nextafter  # noqa: PLC0415

        return nextafter(self, other)

    def nextafter_(self, other: Any) -> Any:
        return self._inplace(lambda s: s.nextafter(other), False, other)

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        from . import unique_consecutive  # noqa: PLC0415

        return unique_consecutive(self, return_inverse=return_inverse,
                                  return_counts=return_counts, dim=dim)

    def histogram(self, bins: Any = 100, *, range: Any = None, weight: Any = None,
                  density: bool = False) -> Any:
        return _more("toplevel").histogram(self, bins, range=range, weight=weight,
                                           density=density)

    def unsafe_split(self, split_size: Any, dim: int = 0) -> Any:
        return self.split(split_size, dim)

    def unsafe_chunk(self, chunks: int, dim: int = 0) -> Any:
        return self.chunk(chunks, dim)

    def renorm(self, p: float, dim: int, maxnorm: float) -> Any:
        return _more("stats").renorm(self, p, dim, maxnorm)

    def bincount(self, weights: Any = None, minlength: int = 0) -> Any:
        return _more("stats").bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Any:  # noqa: A002
        return _more("stats").histc(self, bins, min, max)

    def msort(self) -> Any:
        return self.sort(0).values

    def select(self, dim: int, index: int) -> Any:
        return _more("layout").select(self, dim, index)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
        return _more("layout").diag_embed(self, offset, dim1, dim2)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Any:
        return _more("layout").rot90(self, k, dims)

    def kron(self, other: Any) -> Any:
        return _more("layout").kron(self, other)

    def addr(self, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return _more("layout").addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def masked_scatter(self, mask: Any, source: Any) -> Any:
        return _more("layout").masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Any, source: Any) -> Any:
        return self._inplace(lambda s: _more("layout").masked_scatter(s, mask, source), False,
                             source)

    def put(self, index: Any, source: Any, accumulate: bool = False) -> Any:
        return _more("layout").put(self, index, source, accumulate)

    def put_(self, index: Any, source: Any, accumulate: bool = False) -> Any:
        return self._inplace(lambda s: _more("layout").put(s, index, source, accumulate), False,
                             source)

    def inverse(self) -> Any:
        return _more("decomp").inv(self)

    def det(self) -> Any:
        return _more("decomp").det(self)

    def slogdet(self) -> Any:
        return _more("decomp").slogdet(self)

    def logdet(self) -> Any:
        return _more("decomp").logdet(self)

    def cholesky(self, upper: bool = False) -> Any:
        return _more("decomp").cholesky(self, upper=upper)

    def qr(self, some: bool = True) -> Any:
        return _more("decomp").qr(self, "reduced" if some else "complete")

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        return _more("decomp").torch_svd(self, some, compute_uv)

    def pinverse(self, rcond: float = 1e-15) -> Any:
        return _more("decomp").pinv(self, rtol=rcond)

    def matrix_power(self, n: int) -> Any:
        return _more("decomp").matrix_power(self, n)

    def matrix_exp(self) -> Any:
        return _more("matfun").matrix_exp(self)

    # ------------------------------------------------------------------ compositions
    def addbmm(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return _more("composite").addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: _more("composite").addbmm(s, batch1, batch2, beta=beta,
                                                                 alpha=alpha), True)

    def addmm_(self, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: s.addmm(mat1, mat2, beta=beta, alpha=alpha), True)

    def addmv(self, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return _more("linalg").addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: s.addmv(mat, vec, beta=beta, alpha=alpha), True)

    def addr_(self, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: s.addr(vec1, vec2, beta=beta, alpha=alpha), True)

    def baddbmm(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return _more("linalg").baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        return self._inplace(lambda s: s.baddbmm(batch1, batch2, beta=beta, alpha=alpha), True)

    def cumsum_(self, dim: int, *, dtype: Any = None) -> Any:
        return self._inplace(lambda s: s.cumsum(dim, dtype=dtype), False)

    def cumprod_(self, dim: int, *, dtype: Any = None) -> Any:
        return self._inplace(lambda s: s.cumprod(dim, dtype=dtype), True)

    def diagflat(self, offset: int = 0) -> Any:
        return _more("composite").diagflat(self, offset)

    def diagonal_scatter(self, src: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        return _more("composite").diagonal_scatter(self, src, offset, dim1, dim2)

    def select_scatter(self, src: Any, dim: int, index: int) -> Any:
        return _more("composite").select_scatter(self, src, dim, index)

    def slice_scatter(self, src: Any, dim: int = 0, start: Any = None, end: Any = None,
                      step: int = 1) -> Any:
        return _more("composite").slice_scatter(self, src, dim, start, end, step)

    def hsplit(self, indices_or_sections: Any) -> Any:
        return _more("composite").hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> Any:
        return _more("composite").vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> Any:
        return _more("composite").dsplit(self, indices_or_sections)

    def split_with_sizes(self, split_sizes: Any, dim: int = 0) -> Any:
        return _more("composite").split_with_sizes(self, split_sizes, dim)

    def sum_to_size(self, *size: Any) -> Any:
        return _more("composite").sum_to_size(self, *size)

    def narrow_copy(self, dim: int, start: int, length: int) -> Any:
        return _more("composite").narrow_copy(self, dim, start, length)

    def is_nonzero(self) -> bool:
        return _more("composite").is_nonzero(self)

    def is_same_size(self, other: Any) -> bool:
        return _more("composite").is_same_size(self, other)

    def cholesky_solve(self, input2: Any, upper: bool = False) -> Any:
        return _more("composite").cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False) -> Any:
        return _more("composite").cholesky_inverse(self, upper)

    def i0(self) -> Any:
        return _more("composite").i0(self)

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Any:
        """Write fill_value on the main diagonal (all dims equal, or a tall matrix with `wrap`
        restarting the diagonal every n + 1 rows, as numpy.fill_diagonal)."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError("all dimensions of input must be of equal length"
                               if self.ndim > 2 else "dimensions must larger than 1")
        from . import backend as _backend  # noqa: PLC0415

        xp = _backend.module_of(self._data)
        mask = xp.zeros(self.shape, dtype=bool)
        if self.ndim == 2:
            rows, cols = self.shape
            flat = mask.reshape(-1)  # numpy.fill_diagonal's walk: every cols + 1 elements
            flat[:rows * cols if wrap else min(rows, cols) * cols:cols + 1] = True
            mask = flat.reshape(self.shape)
        else:
            idx = xp.arange(self.shape[0])
            mask[(idx,) * self.ndim] = True
        mask_t = type(self)._make(mask)

        def fill(s: Any) -> Any:
            return s.masked_fill(mask_t, fill_value)

        return self._inplace(fill, False)

    def is_inference(self) -> bool:
        """Whether this tensor was made inside inference_mode() (autograd/inference_tensors.py)."""
        from .autograd import inference_tensors  # noqa: PLC0415

        return inference_tensors.is_inference(self)

    def share_memory_(self) -> Any:
        """Move the storage into shared memory, so processes forked afterwards write to the
        same tensor (Hogwild training); a no-op on a GPU, as torch (ember.multiprocessing)."""
        self.untyped_storage().share_memory_()
        return self

    def is_shared(self) -> bool:
        from . import multiprocessing as mp  # noqa: PLC0415

        return self.is_cuda or mp.is_shared_array(self._data)

    # device and layout kinds Ember never has (torch's properties and predicates)
    is_mps = is_xpu = is_quantized = is_nested = is_sparse_csr = is_mkldnn = property(
        lambda self: False)
    is_ipu = is_vulkan = is_xla = is_maia = is_mtia = property(lambda self: False)

    def is_distributed(self) -> bool:
        return False

    def is_coalesced(self) -> bool:
        raise RuntimeError("is_coalesced expected sparse coordinate tensor layout but got "
                           "Strided")

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Any:
        return self if dtype is None else self.to(dtype)

    def adjoint(self) -> Any:
        if self._data.ndim == 0:  # torch: deprecated, but the tensor itself
            import warnings  # noqa: PLC0415

            warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                          UserWarning, stacklevel=2)
            return self
        return self.mH

    def geqrf(self) -> Any:
        return _more("matfun").geqrf(self)

    def orgqr(self, input2: Any) -> Any:
        """The Q of geqrf's reflectors (self) and scales (input2): householder_product."""
        return _more("matfun").householder_product(self, input2)

    def ormqr(self, input2: Any, input3: Any, left: bool = True, transpose: bool = False) -> Any:
        return _more("matfun").ormqr(self, input2, input3, left, transpose)

    def mvlgamma_(self, p: int) -> Any:
        return self._inplace(lambda s: s.mvlgamma(p), True)

    def polygamma_(self, n: int) -> Any:
        return self._inplace(lambda s: _more("pointwise").polygamma(n, s), True)

    def map_(self, tensor: Any, callable: Any) -> Any:  # noqa: A002
        """self[i] = callable(self[i], tensor[i]) with tensor broadcast to self (CPU, no
        autograd), as torch's map_."""
        other = tensor.expand(*self.shape)
        values = [callable(a, b) for a, b in zip(self.reshape(-1).tolist(),
                                                 other.reshape(-1).tolist())]
        with _no_grad():
            self.copy_(creation.tensor(values, dtype=self.dtype).reshape(self.shape))
        return self

    def dim_order(self, *, ambiguity_check: bool | list = False) -> tuple:
        """The dims from outermost to innermost in memory (by decreasing stride). As torch's:
        `ambiguity_check=True` raises where the order is not unique (a size-1 dim, or two
        adjacent dims with equal strides), a list of memory formats raises unless exactly one
        of them describes the tensor."""
        if not isinstance(ambiguity_check, (bool, list)):
            raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                            "formats.")
        strides = self.stride()
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        ambiguous = 1 in self.shape or any(
            a == b for a, b in zip(strides, strides[1:], strict=False))
        if ambiguity_check is not False and ambiguous and \
                sum(self.is_contiguous(memory_format=f) for f in formats) != 1:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
        return tuple(sorted(range(self.ndim), key=lambda d: (-strides[d], d)))

    def as_subclass(self, cls: type) -> Any:
        out = cls.__new__(cls)
        type(self)._init_slots(out, self._data, False, None)
        return out

    def triangular_solve(self, A: Any, upper: bool = True, transpose: bool = False,
                         unitriangular: bool = False) -> Any:
        """torch's older API: (solution of op(A) X = self, A) with op = transpose or not."""
        from . import linalg  # noqa: PLC0415

        M = A.mT if transpose else A
        X = linalg.solve_triangular(M, self, upper=upper != transpose,
                                    unitriangular=unitriangular)
        return return_types.triangular_solve(X, A.clone())

    def is_conj(self) -> bool:
        return False  # Ember's conj() is computed at once: never a lazy conjugate view

    def is_neg(self) -> bool:
        return False

    _sparse_layout = False  # True on ember.sparse.SparseTensor (COO and CSR)

    @property
    def is_sparse(self) -> bool:
        return False

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None,
                  blocksize: Any = None, dense_dim: int | None = None) -> Any:
        """The nonzero entries as a sparse COO tensor (or CSR with layout=ember.sparse_csr)."""
        if layout is dtypes.sparse_csr:
            return self.to_sparse_csr()
        from .ops.sparse_coo import to_sparse  # noqa: PLC0415

        return to_sparse(self, sparse_dim)

    def to_sparse_coo(self) -> Any:
        return self.to_sparse()

    def to_sparse_csr(self, dense_dim: int | None = None) -> Any:
        """A 2-D tensor's nonzero entries as a sparse CSR matrix."""
        from .ops.sparse_csr import to_sparse_csr  # noqa: PLC0415

        return to_sparse_csr(self)

    def sparse_mask(self, mask: Any) -> Any:
        """This tensor's values at the coordinates of the sparse `mask`, as a sparse tensor."""
        from .ops.sparse_coo import sparse_mask  # noqa: PLC0415

        return sparse_mask(self, mask)

    def sparse_dim(self) -> int:
        return 0

    def dense_dim(self) -> int:
        return self.ndim  # type: ignore[attr-defined]

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def layout(self) -> Any:
        from .dtypes import strided  # noqa: PLC0415

        return strided

    def get_device(self) -> int:
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    def apply_(self, callable: Any) -> Any:  # noqa: A002
        """Apply a Python function to every element, in place (CPU tensors, no autograd)."""
        flat = self.reshape(-1).tolist()
        values = creation.tensor([callable(v) for v in flat], dtype=self.dtype)
        with _no_grad():
            return self.copy_(values.reshape(self.shape))

    # in-place view changes: the tensor becomes the view
    def _become(self, view: Any) -> Any:
        if self.grad_fn is None and self._requires_grad:  # type: ignore[attr-defined]
            inplace._check_leaf(self)
        self._data = view._data  # type: ignore[attr-defined]
        if view._requires_grad:
            self.grad_fn, self._output_nr = view.grad_fn, view._output_nr  # type: ignore
        return self

    def squeeze_(self, dim: Any = None) -> Any:
        return self._become(movement.squeeze(self, dim))

    def unsqueeze_(self, dim: int) -> Any:
        return self._become(movement.unsqueeze(self, dim))

    def t_(self) -> Any:
        return self._become(movement.t(self))

    def transpose_(self, dim0: int, dim1: int) -> Any:
        return self._become(movement.transpose(self, dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    # ------------------------------------------------------- memory layout (ops/strided.py)
    def as_strided(self, size: Any, stride: Any, storage_offset: Any = None) -> Any:
        return _more("strided").as_strided(self, size, stride, storage_offset)

    def as_strided_(self, size: Any, stride: Any, storage_offset: Any = None) -> Any:
        return _more("strided").as_strided_(self, size, stride, storage_offset)

    def as_strided_scatter(self, src: Any, size: Any, stride: Any,
                           storage_offset: Any = None) -> Any:
        return _more("strided").as_strided_scatter(self, src, size, stride, storage_offset)

    def new_empty_strided(self, size: Any, stride: Any, *, dtype: Any = None,
                          device: Any = None, requires_grad: bool = False,
                          layout: Any = None, pin_memory: bool = False) -> Any:
        return _more("strided").new_empty_strided(self, size, stride, dtype=dtype,
                                                  device=device, requires_grad=requires_grad)

    def set_(self, source: Any = None, storage_offset: int | None = None, size: Any = None,
             stride: Any = None) -> Any:
        return _more("strided").set_(self, source, storage_offset, size, stride)

    def untyped_storage(self) -> Any:
        """The memory this tensor views, as bytes (an ember.UntypedStorage its views share)."""
        from . import storage  # noqa: PLC0415

        return storage.storage_of(self)

    def storage(self) -> Any:
        """The memory this tensor views, as a TypedStorage of its dtype (deprecated in torch)."""
        from . import storage  # noqa: PLC0415

        storage._warn_typed_storage_removal(stacklevel=2)
        return self._typed_storage()

    def _typed_storage(self) -> Any:
        from . import storage  # noqa: PLC0415

        return storage.TypedStorage(wrap_storage=storage.storage_of(self), dtype=self.dtype,
                                    _internal=True)

    def is_set_to(self, tensor: Any) -> bool:
        """Whether both tensors view the same memory with the same shape and strides."""
        return (self.data_ptr() == tensor.data_ptr() and self.shape == tensor.shape
                and self.stride() == tensor.stride() and self.dtype == tensor.dtype)

    def resize_(self, *sizes: Any, memory_format: Any = None) -> Any:
        return _more("strided").resize_(self, *sizes)

    def resize_as_(self, the_template: Any, *, memory_format: Any = None) -> Any:
        return _more("strided").resize_as_(self, the_template)

    def index_reduce(self, dim: int, index: Any, source: Any, reduce: str, *,
                     include_self: bool = True) -> Any:
        return indexing.index_reduce(self, dim, index, source, reduce,
                                     include_self=include_self)

    def index_reduce_(self, dim: int, index: Any, source: Any, reduce: str, *,
                      include_self: bool = True) -> Any:
        return self._inplace(lambda s: indexing.index_reduce(
            s, dim, index, source, reduce, include_self=include_self), True, source)

    def igamma(self, other: Any) -> Any:
        return _more("incomplete_gamma").igamma(self, other)

    def igammac(self, other: Any) -> Any:
        return _more("incomplete_gamma").igammac(self, other)

    def igamma_(self, other: Any) -> Any:
        return self._inplace(lambda s: _more("incomplete_gamma").igamma(s, other), True, other)

    def igammac_(self, other: Any) -> Any:
        return self._inplace(lambda s: _more("incomplete_gamma").igammac(s, other), True, other)

    def lu(self, pivot: bool = True, get_infos: bool = False) -> Any:
        return _more("lu").lu(self, pivot, get_infos)

    def lu_solve(self, LU_data: Any, LU_pivots: Any) -> Any:  # noqa: N803 (torch's names)
        return _more("lu").lu_solve(self, LU_data, LU_pivots)

    def ldexp_(self, other: Any) -> Any:
        return self._inplace(lambda s: _more("pointwise").ldexp(s, other), True, other)

    def i0_(self) -> Any:
        return self._inplace(lambda s: s.i0(), True)


_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}


def _type_name(t: Any) -> str:
    prefix = "ember.cuda." if t.is_cuda else "ember."
    return prefix + _TYPE_NAMES[t.dtype.name]


_MORE: dict = {}


def _more(name: str) -> Any:
    """The op modules added after the core ones (imported on first use)."""
    mod = _MORE.get(name)
    if mod is None:
        import importlib  # noqa: PLC0415

        mod = _MORE[name] = importlib.import_module(f"ember.ops.{name}")
    return mod


def _no_grad() -> Any:
    from .autograd.grad_mode import no_grad  # noqa: PLC0415

    return no_grad()


# In-place forms `x.op_(...)` of elementwise ops: computed out of place, written back.
_INPLACE_UNARY = {
    "exp2": "unary", "expm1": "unary", "log2": "unary", "log10": "unary", "log1p": "unary",
    "rsqrt": "unary", "reciprocal": "unary", "square": "unary", "tan": "unary", "asin": "unary",
    "acos": "unary", "atan": "unary", "sinh": "unary", "cosh": "unary", "asinh": "unary",
    "acosh": "unary", "atanh": "unary", "erf": "unary", "erfc": "unary", "erfinv": "unary",
    "frac": "unary", "logit": "unary", "logical_not": "compare", "bitwise_not": "compare",
    "lgamma": "pointwise", "digamma": "pointwise", "sinc": "pointwise", "deg2rad": "pointwise",
    "rad2deg": "pointwise",
}
_INPLACE_BINARY = {
    "atan2": "arith", "fmod": "arith", "remainder": "arith", "floor_divide": "arith",
    "float_power": "arith", "hypot": "pointwise", "xlogy": "pointwise",
    "copysign": "pointwise", "logical_and": "compare", "logical_or": "compare",
    "logical_xor": "compare", "bitwise_and": "compare", "bitwise_or": "compare",
    "bitwise_xor": "compare", "bitwise_left_shift": "compare", "bitwise_right_shift": "compare",
    "eq": "compare", "ne": "compare", "lt": "compare", "le": "compare", "gt": "compare",
    "ge": "compare", "gcd": "pointwise", "lcm": "pointwise", "heaviside": "pointwise",
}


def _module(kind: str) -> Any:
    return globals()[kind] if kind in ("unary", "compare", "arith") else _more(kind)


def _make_inplace_unary(name: str, kind: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:  # logit_(eps=...), round_(decimals=)
        fn = getattr(_module(kind), name)
        return self._inplace(lambda s: fn(s, *args, **kwargs), True)

    method.__name__ = method.__qualname__ = name + "_"
    return method


def _make_inplace_binary(name: str, kind: str) -> Any:
    def method(self: Any, other: Any) -> Any:
        fn = getattr(_module(kind), name)
        if kind == "compare":  # the bool result is written back in self's dtype
            return self._inplace(lambda s: fn(s, other).to(s.dtype), True, other)
        return self._inplace(lambda s: fn(s, other), True, other)

    method.__name__ = method.__qualname__ = name + "_"
    return method


for _name, _kind in _INPLACE_UNARY.items():
    setattr(TensorMethods, _name + "_", _make_inplace_unary(_name, _kind))
for _name, _kind in _INPLACE_BINARY.items():
    setattr(TensorMethods, _name + "_", _make_inplace_binary(_name, _kind))
for _alias, _target in (("arcsin_", "asin_"), ("arccos_", "acos_"), ("arctan_", "atan_"),
                        ("arcsinh_", "asinh_"), ("arccosh_", "acosh_"), ("arctanh_", "atanh_"),
                        ("arctan2_", "atan2_"), ("negative_", "neg_"), ("absolute_", "abs_"),
                        ("fix_", "trunc_"), ("sgn_", "sign_"), ("greater_", "gt_"),
                        ("greater_equal_", "ge_"), ("less_", "lt_"), ("less_equal_", "le_"),
                        ("not_equal_", "ne_"), ("multiply_", "mul_"), ("subtract_", "sub_"),
                        ("divide_", "div_")):
    setattr(TensorMethods, _alias, getattr(TensorMethods, _target))


def _required_dim(op: str, dim: Any, axis: Any) -> Any:
    """`dim`, or numpy's `axis=` (torch's argument parser takes both); one is required."""
    if axis is not None:
        return axis
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'dim'")
    return dim
