"""`SparseTensor`: a Tensor whose `_data` is a COO or CSR payload instead of a dense array.

It is a subclass so that the dense `Tensor` pays nothing: every sparse behaviour is an
override here (operators, to_dense, indices...), and Python tries a subclass's reflected
operator first, so `dense + sparse` and `dense @ sparse` reach this class too. Methods a sparse
tensor does not override run the dense code, which meets the payload and raises
NotImplementedError naming the operation and the layout (see storage.py).
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..tensor import Tensor
from .inplace import SparseInPlace
from .storage import COO, CSR, SparseStorage

_new = object.__new__


def sparse_apply(cls: type, *args: Any) -> SparseTensor:
    """`cls.apply(*args)` for an op whose output is a sparse payload: the result's class."""
    out = cls.apply(*args)
    out.__class__ = SparseTensor
    return out


def _coo() -> Any:
    from ..ops import sparse_coo  # noqa: PLC0415 (the ops import this module)

    return sparse_coo


def _csr() -> Any:
    from ..ops import sparse_csr  # noqa: PLC0415

    return sparse_csr


def _index() -> Any:
    from ..ops import sparse_index  # noqa: PLC0415

    return sparse_index


def _named(out: Tensor, name: str) -> Tensor:
    from ..ops._util import torch_named  # noqa: PLC0415

    return torch_named(out, name)


def _unary(name: str) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        return _coo().map_values(self, lambda v: getattr(v, name)())

    method.__name__ = name
    method.__doc__ = f"{name} of the specified entries (zero stays zero), as torch's sparse {name}."
    return method


def _to(dtype: Any) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        return self.to(dtype)

    return method


class SparseTensor(SparseInPlace, Tensor):
    """A sparse COO (`layout=ember.sparse_coo`) or CSR (`ember.sparse_csr`) tensor.

    Build one with `ember.sparse_coo_tensor`, `ember.sparse_csr_tensor` or `dense.to_sparse()`.
    """

    __slots__ = ()
    _data: Any
    _sparse_layout = True

    @staticmethod
    def _wrap(payload: SparseStorage, requires_grad: bool = False) -> SparseTensor:
        t = _new(SparseTensor)
        Tensor._init_slots(t, payload, requires_grad, None)
        return t

    # ------------------------------------------------------------------ layout and shape
    @property
    def layout(self) -> Any:
        return dtypes.sparse_csr if isinstance(self._data, CSR) else dtypes.sparse_coo

    @property
    def is_sparse(self) -> bool:
        return isinstance(self._data, COO)

    @property
    def is_sparse_csr(self) -> bool:
        return isinstance(self._data, CSR)

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._data.values)

    def stride(self, dim: int | None = None) -> Any:
        raise RuntimeError("Sparse tensors do not have strides")

    def is_contiguous(self, memory_format: Any = None) -> bool:
        raise RuntimeError("Sparse tensors do not have is_contiguous")

    def sparse_dim(self) -> int:
        return self._data.sparse_dim if isinstance(self._data, COO) else 2

    def dense_dim(self) -> int:
        return self.ndim - self.sparse_dim()

    def _nnz(self) -> int:
        return self._data.nnz

    def is_coalesced(self) -> bool:
        self._require_coo("is_coalesced")
        return self._data.coalesced

    def _require_coo(self, op: str) -> None:
        if not isinstance(self._data, COO):
            raise RuntimeError(f"{op} expected sparse coordinate tensor layout but got "
                               "SparseCsr")

    def _require_csr(self, op: str) -> None:
        if not isinstance(self._data, CSR):
            raise RuntimeError(f"{op} expected sparse compressed tensor layout but got Sparse")

    # ------------------------------------------------------------------ parts
    def indices(self) -> Tensor:
        """The (sparse_dim, nnz) coordinates of a coalesced tensor."""
        self._require_coo("indices")
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return Tensor._make(self._data.indices)

    def _indices(self) -> Tensor:
        self._require_coo("_indices")
        return Tensor._make(self._data.indices)

    def values(self) -> Tensor:
        """The entries (differentiable); COO tensors must be coalesced, as in torch."""
        if isinstance(self._data, CSR):
            return _csr().values(self)
        return _coo().values(self)

    def _values(self) -> Tensor:
        return Tensor._make(self._data.values)  # not differentiable, as torch's _values()

    def crow_indices(self) -> Tensor:
        self._require_csr("crow_indices")
        return Tensor._make(self._data.crow_indices)

    def col_indices(self) -> Tensor:
        self._require_csr("col_indices")
        return Tensor._make(self._data.col_indices)

    # ------------------------------------------------------------------ conversions
    def coalesce(self) -> SparseTensor:
        self._require_coo("coalesce")
        return _coo().coalesce(self)

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        return _coo().to_dense(self, dtype)

    def to_sparse(self, sparse_dim: int | None = None, *, layout: Any = None,
                  blocksize: Any = None, dense_dim: int | None = None) -> SparseTensor:
        if layout is dtypes.sparse_csr:
            return self.to_sparse_csr()
        return _coo().to_sparse(self, sparse_dim)

    def to_sparse_coo(self) -> SparseTensor:
        return _coo().to_sparse(self)

    def to_sparse_csr(self, dense_dim: int | None = None) -> SparseTensor:
        return _csr().to_sparse_csr(self)

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        from ..ops.convert import _parse_to_args  # noqa: PLC0415

        kwargs.pop("memory_format", None)
        device, dtype, _ = _parse_to_args(self, args, kwargs)
        if device is not None and device.type == "cuda" and device.index is None:
            device = backend.device("cuda", 0)
        if device == self.device:
            device = None
        if dtype is not None and dtype.np == self._data.dtype:
            dtype = None
        if device is None and dtype is None:
            return self
        return sparse_apply(_coo().ToCopy, self, None if dtype is None else dtype.np, device)

    def cpu(self) -> SparseTensor:
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> SparseTensor:
        return self.to("cuda" if device is None else (
            f"cuda:{device}" if isinstance(device, int) else device))

    def float(self) -> SparseTensor:
        return self.to(dtypes.float32)

    def double(self) -> SparseTensor:
        return self.to(dtypes.float64)

    def half(self) -> SparseTensor:
        return self.to(dtypes.float16)

    bfloat16, long, int, short = (_to(dtypes.bfloat16), _to(dtypes.int64), _to(dtypes.int32),
                                  _to(dtypes.int16))
    char, byte, bool = _to(dtypes.int8), _to(dtypes.uint8), _to(dtypes.bool_)

    def type_as(self, other: Any) -> SparseTensor:
        return self.to(other.dtype)

    def clone(self, *, memory_format: Any = None) -> SparseTensor:
        return sparse_apply(_coo().Clone, self)

    def detach(self) -> SparseTensor:
        out = SparseTensor._wrap(self._data)
        out._vc = self._shared_version_counter()
        return out

    def zero_(self) -> SparseTensor:
        """Drop every entry (torch's sparse zero_)."""
        self._require_coo("zero_")
        self._data.fill(0)
        self._bump_version()
        return self

    def __deepcopy__(self, memo: dict) -> SparseTensor:
        if id(self) in memo:
            return memo[id(self)]
        out = SparseTensor._wrap(self._data.copy(), self._requires_grad)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: int) -> Any:
        raise NotImplementedError("pickling sparse tensors is not implemented; save "
                                  "(indices, values, size) or to_dense() instead")

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from .._tensor_str import _add_suffixes  # noqa: PLC0415

        data = self._data
        if isinstance(data, CSR):
            parts = [("crow_indices", data.crow_indices), ("col_indices", data.col_indices),
                     ("values", data.values)]
        else:
            parts = [("indices", data.indices), ("values", data.values)]
        lines = []
        for i, (name, array) in enumerate(parts):
            head = ("tensor(" if i == 0 else " " * 7) + f"{name}="
            part = Tensor._make(array)
            inner = repr(part).replace(f", dtype={part.dtype!r}", "")  # the outer suffix says it
            if array.size == 0:  # torch always shows an empty part's size here
                inner = f"tensor([], size={tuple(array.shape)})"
            inner = inner.replace("\n", "\n" + " " * len(head))
            lines.append(head + inner)
        text = ",\n".join(lines)
        suffixes = [f"size={tuple(self.shape)}", f"nnz={data.nnz}"]
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.default_complex(),
                              dtypes.int64, dtypes.bool_):
            suffixes.append(f"dtype={self.dtype!r}")
        suffixes.append(f"layout={self.layout!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        if isinstance(data, CSR):  # torch starts CSR's suffixes on the values line
            return _add_suffixes(text, suffixes, 7)
        return _add_suffixes(text + ",\n" + " " * 7 + suffixes[0], suffixes[1:], 7)

    # ------------------------------------------------------------------ arithmetic
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _named(_coo().add(self, other, alpha), "Add")

    def __add__(self, other: Any) -> Tensor:
        return self.add(other)

    def __radd__(self, other: Any) -> Tensor:
        return _coo().add(other, self)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _named(_coo().add(self, other, -alpha), "Sub")

    def __sub__(self, other: Any) -> Tensor:
        return self.sub(other)

    def __rsub__(self, other: Any) -> Tensor:
        return _coo().add(other, self, -1)

    def mul(self, other: Any) -> SparseTensor:
        return _named(_coo().mul(self, other), "Mul")

    __mul__ = __rmul__ = multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> SparseTensor:
        """Divide the entries by a number or a 0-d dense tensor (zero stays zero); with a
        rounding_mode the result is coalesced, as torch's."""
        if isinstance(other, Tensor) and (other.ndim > 0 or other._sparse_layout):
            raise RuntimeError(f"Sparse division requires a scalar or zero-dim dense tensor "
                               f"divisor (got shape [{', '.join(map(str, other.shape))}] for "
                               f"divisor)")
        c = other.item() if isinstance(other, Tensor) else other
        if rounding_mode is not None:
            out = _coo().map_values(self, lambda v: v.div(c, rounding_mode=rounding_mode))
            return _named(out, "DivBackward2")
        x = self
        if self._data.dtype.kind in "biu":  # true division of integers gives floats
            x = self.to(dtypes.get_default_dtype())
        return _named(sparse_apply(_coo().Div, x, c), "Div")

    __truediv__ = divide = true_divide = div

    def floor_divide(self, other: Any) -> SparseTensor:
        return self.div(other, rounding_mode="floor")

    __floordiv__ = floor_divide

    def __neg__(self) -> SparseTensor:
        return _named(_coo().scale(self, -1), "Neg")

    neg = negative = __neg__

    def __matmul__(self, other: Any) -> Tensor:
        return _coo().mm(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _coo().mm(other, self)

    matmul = mm = __matmul__

    def t(self) -> SparseTensor:
        self._require_coo("t")
        return _coo().t(self)

    def transpose(self, dim0: int, dim1: int) -> SparseTensor:
        self._require_coo("transpose")
        return _coo().transpose(self, dim0, dim1)

    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """torch.sparse.sum; keepdim puts each summed dim back with size 1 (unsqueeze)."""
        from ..ops._util import wrap_dims  # noqa: PLC0415
        from ..ops.sparse_reduce import sparse_sum  # noqa: PLC0415

        if keepdim and dim is None:
            raise TypeError("sum(): keepdim=True needs dim (torch's sum(dtype) overload has "
                            "no keepdim)")
        out = sparse_sum(self, dim, dtype)
        if keepdim:
            for d in sorted(wrap_dims(dim, self.ndim, "sum")):
                out = out.unsqueeze(d)
            _named(out, "SumBackward1")
        return out

    # ------------------------------------------------------------------ indexing and shape
    def __getitem__(self, key: Any) -> Tensor:
        return _index().getitem(self, key)

    def select(self, dim: int, index: int) -> Tensor:
        return _index().select(self, dim, index)

    def index_select(self, dim: int, index: Tensor) -> SparseTensor:
        return _index().index_select(self, dim, index)

    def narrow_copy(self, dim: int, start: int, length: int) -> SparseTensor:
        return _index().narrow_copy(self, dim, start, length)

    def narrow(self, dim: int, start: Any, length: int) -> SparseTensor:
        from .storage import not_implemented  # noqa: PLC0415

        raise not_implemented("narrow (a strided view; narrow_copy copies)",
                              self._data.layout_name)

    def unsqueeze(self, dim: int) -> SparseTensor:
        return _index().unsqueeze(self, dim)

    def permute(self, *dims: Any) -> SparseTensor:
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _index().permute(self, dims)

    def pow(self, exponent: Any) -> SparseTensor:
        if not isinstance(exponent, (int, float)) or exponent <= 0:
            raise NotImplementedError("pow of a sparse tensor needs a positive number exponent "
                                      "(zero must stay zero)")
        return _coo().map_values(self, lambda v: v ** exponent)

    __pow__ = pow

    abs = _unary("abs")
    sqrt = _unary("sqrt")
    square = _unary("square")
    sin = _unary("sin")
    tan = _unary("tan")
    tanh = _unary("tanh")
    sinh = _unary("sinh")
    asin = _unary("asin")
    atan = _unary("atan")
    asinh = _unary("asinh")
    atanh = _unary("atanh")
    expm1 = _unary("expm1")
    log1p = _unary("log1p")
    relu = _unary("relu")
    sign = _unary("sign")
    sgn = _unary("sgn")
    floor = _unary("floor")
    ceil = _unary("ceil")
    round = _unary("round")
    trunc = _unary("trunc")
    frac = _unary("frac")
    erf = _unary("erf")
    deg2rad = _unary("deg2rad")
    rad2deg = _unary("rad2deg")
    erfinv = _unary("erfinv")
    fix = _unary("trunc")
    absolute = abs
    isnan = _unary("isnan")  # bool results: no gradient
    isinf = _unary("isinf")
    isposinf = _unary("isposinf")
    isneginf = _unary("isneginf")
    signbit = _unary("signbit")

    def positive(self) -> SparseTensor:
        return self

    def conj_physical(self) -> SparseTensor:
        if self._data.dtype.kind != "c":
            return self.clone()
        return _coo().map_values(self, lambda v: v.conj_physical())

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> SparseTensor:
        return _coo().map_values(self, lambda v: v.nan_to_num(nan, posinf, neginf))
