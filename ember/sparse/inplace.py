"""In-place ops of sparse COO tensors (mul_, add_, div_, t_, copy_, sparse_resize_...).

An in-place op computes its result out of place and then gives the tensor the result's payload
and history (`_update`). The old payload is replaced, never written to, so whatever an earlier
op kept of it for backward stays valid; the version counter still moves, as torch's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import backend
from ..tensor import Tensor
from .storage import COO

if TYPE_CHECKING:
    from .tensor import SparseTensor


def _require_coalesced(t: SparseTensor, op: str) -> None:
    """torch's zero-preserving in-place ops want one value per coordinate."""
    t._require_coo(op)
    if not t._data.coalesced:
        raise RuntimeError(f"{op} requires coalesced input")


def _unary_(name: str) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        _require_coalesced(self, f"{name}_")
        return self._update(lambda s: getattr(s, name)())

    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place {name} of the specified entries."
    return method


class SparseInPlace:
    """The in-place methods of `SparseTensor` (a mixin: SparseTensor(SparseInPlace, Tensor))."""

    __slots__ = ()
    _data: Any

    def _update(self, compute: Any) -> SparseTensor:
        """An in-place op: `compute(self)` out of place, whose payload and history then become
        this tensor's. The old payload is replaced, not written to, so what earlier ops kept of
        it stays valid."""
        from ..autograd.grad_mode import state  # noqa: PLC0415

        if state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation. Wrap parameter updates in `with ember.no_grad():`, "
                               "or use the out-of-place op.")
        result = compute(self)
        data = result._data
        if type(data) is not type(self._data):
            raise RuntimeError(f"in-place operation on a {self.layout!r} tensor gave a "
                               f"{result.layout!r} result")
        if data.dtype != self._data.dtype:
            from ..ops.complex import _dtype_name  # noqa: PLC0415

            order = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}
            if order[data.dtype.kind] > order[self._data.dtype.kind]:
                raise RuntimeError(f"result type {_dtype_name(data)} can't be cast to the "
                                   f"desired output type {_dtype_name(self._data)}")
            data = data.like(data.values.astype(self._data.dtype))
        self._data = data
        self._bump_version()
        if result._requires_grad and state.enabled:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
            self._requires_grad = True
        return self

    def add_(self, other: Any, *, alpha: Any = 1) -> SparseTensor:
        return self._update(lambda s: s.add(other, alpha=alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> SparseTensor:
        return self._update(lambda s: s.sub(other, alpha=alpha))

    def mul_(self, other: Any) -> SparseTensor:
        return self._update(lambda s: s.mul(other))

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> SparseTensor:
        return self._update(lambda s: s.div(other, rounding_mode=rounding_mode))

    true_divide_ = div_

    def floor_divide_(self, other: Any) -> SparseTensor:
        return self.div_(other, rounding_mode="floor")

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> SparseTensor:
        _require_coalesced(self, "nan_to_num_")
        return self._update(lambda s: s.nan_to_num(nan, posinf, neginf))

    def t_(self) -> SparseTensor:
        return self._update(lambda s: s.t())

    def transpose_(self, dim0: int, dim1: int) -> SparseTensor:
        return self._update(lambda s: s.transpose(dim0, dim1))

    def copy_(self, src: Any, non_blocking: bool = False) -> SparseTensor:
        """Take src's entries (and size), converted to this tensor's dtype and device."""
        from ..ops.complex import _dtype_name  # noqa: PLC0415

        if not getattr(src, "_sparse_layout", False):
            source = f"ember.{_dtype_name(src._data)}Tensor" if isinstance(src, Tensor) else \
                type(src).__name__
            raise RuntimeError(f"copy_() between dense and sparse Tensors is not implemented! "
                               f"Found self type = ember.sparse.{_dtype_name(self._data)}Tensor "
                               f"and src type = {source}")
        self._require_coo("copy_")
        return self._update(lambda s: src.to(device=self.device, dtype=self.dtype).clone())

    def _check_resizable(self) -> None:
        from ..autograd.grad_mode import state  # noqa: PLC0415

        self._require_coo("sparse_resize_")
        if state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")

    def sparse_resize_(self, size: Any, sparse_dim: int, dense_dim: int) -> SparseTensor:
        """Resize in place (torch's rules: a tensor with entries keeps its numbers of sparse and
        dense dims and may only grow its sparse sizes; new dense room is zero)."""
        self._check_resizable()
        size = tuple(int(n) for n in size)
        _check_resize_rank(size, sparse_dim, dense_dim)
        data = self._data
        if data.nnz == 0:
            return self.sparse_resize_and_clear_(size, sparse_dim, dense_dim)
        old = (data.sparse_dim, self.ndim - data.sparse_dim)
        for kind, was, now in (("sparse", old[0], sparse_dim), ("dense", old[1], dense_dim)):
            if was != now:
                raise RuntimeError(f"changing the number of {kind} dimensions (from {was} to "
                                   f"{now}) on a non-empty sparse tensor is not supported."
                                   + _RESIZE_HELP)
        if any(new < was for new, was in zip(size[:sparse_dim], data.sparse_shape)):
            raise RuntimeError(f"shrinking the size of sparse dimensions (from "
                               f"[{', '.join(map(str, data.sparse_shape))}] to "
                               f"[{', '.join(map(str, size[:sparse_dim]))}]) on a non-empty "
                               f"sparse tensor is not supported." + _RESIZE_HELP)
        values = data.values
        if size[sparse_dim:] != data.dense_shape:
            xp = backend.module_of(values)
            values = xp.zeros((data.nnz,) + size[sparse_dim:], values.dtype)
            common = (slice(None),) + tuple(slice(0, min(a, b)) for a, b in
                                            zip(size[sparse_dim:], data.dense_shape))
            values[common] = data.values[common]
        self._data = COO(data.indices, values, size, data.coalesced)
        self._bump_version()
        return self

    def sparse_resize_and_clear_(self, size: Any, sparse_dim: int,
                                 dense_dim: int) -> SparseTensor:
        """Resize in place and drop every entry."""
        self._check_resizable()
        size = tuple(int(n) for n in size)
        _check_resize_rank(size, sparse_dim, dense_dim)
        data = self._data
        xp = backend.module_of(data.values)
        self._data = COO(xp.zeros((sparse_dim, 0), data.indices.dtype),
                         xp.zeros((0,) + size[sparse_dim:], data.values.dtype), size, True)
        self._bump_version()
        return self

    def pow_(self, exponent: Any) -> SparseTensor:
        from .storage import not_implemented  # noqa: PLC0415

        raise not_implemented("pow_ (in place; pow works)", self._data.layout_name)

    def square_(self) -> SparseTensor:
        return self.pow_(2)

    def neg_(self) -> SparseTensor:
        return self._update(lambda s: -s)

    negative_ = neg_
    abs_, absolute_, sqrt_, sin_, tan_, tanh_ = (_unary_("abs"), _unary_("abs"), _unary_("sqrt"),
                                                 _unary_("sin"), _unary_("tan"), _unary_("tanh"))
    sinh_, asin_, atan_, asinh_, atanh_ = (_unary_("sinh"), _unary_("asin"), _unary_("atan"),
                                           _unary_("asinh"), _unary_("atanh"))
    expm1_, log1p_, relu_, sign_, sgn_ = (_unary_("expm1"), _unary_("log1p"), _unary_("relu"),
                                          _unary_("sign"), _unary_("sgn"))
    floor_, ceil_, round_, trunc_, fix_, frac_ = (_unary_("floor"), _unary_("ceil"),
                                                  _unary_("round"), _unary_("trunc"),
                                                  _unary_("trunc"), _unary_("frac"))
    erf_, erfinv_, deg2rad_, rad2deg_ = (_unary_("erf"), _unary_("erfinv"), _unary_("deg2rad"),
                                         _unary_("rad2deg"))

_RESIZE_HELP = """
You could try the following options:
1. If you need an empty sparse tensor of this size, call `x = ember.sparse_coo_tensor(size)`.
2. If you need to resize this tensor, you have the following options:
    1. For both sparse and dense dimensions, keep the number of them constant and the size of \
them non-shrinking, and then try the same call again.
    2. Or, create a new sparse tensor with the correct indices and values from this sparse \
tensor."""


def _check_resize_rank(size: tuple, sparse_dim: int, dense_dim: int) -> None:
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                           f"{len(size)}, sparse_dim = {sparse_dim}, dense_dim = {dense_dim}")
