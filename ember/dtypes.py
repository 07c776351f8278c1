"""Ember's dtypes and PyTorch's type-promotion rules.

Tensors store backend arrays; a `dtype` object names the element type the way torch does
(`ember.float32`) and knows its numpy equivalent. Promotion follows torch, not numpy:
a dimensioned tensor wins over a zero-dim tensor, which wins over a Python scalar, unless the
lower-priority operand is of a higher category (bool < integer < floating < complex).
Complex dtypes are complex64 and complex128; numpy has no complex32 (torch's chalf), so
float16 meeting a complex number promotes to complex64 where torch gives complex32.
bfloat16 comes from the optional ml_dtypes package (numpy has none): without it `bfloat16`
still exists, and using it raises an error that says what to install.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy

from . import backend


class dtype:
    """An element type: `ember.float32`, `ember.int64`, `ember.bool`..."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name: str, np_dtype: Any, category: int) -> None:
        self.name = name
        self.np = numpy.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_signed = category >= 2 or self.np.kind == "i"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        return self.category == 3

    def to_real(self) -> dtype:
        """The dtype of the real and imaginary parts (complex64 -> float32); others: itself."""
        return _REAL_OF.get(self, self)

    def to_complex(self) -> dtype:
        """The complex dtype with this floating dtype's parts (float32 -> complex64)."""
        found = _COMPLEX_OF.get(self)
        if found is None:
            raise RuntimeError(f"Unknown Complex ScalarType for {self.name.capitalize()}")
        return found

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickles as the module-level constant


bool_ = dtype("bool", numpy.bool_, 0)
uint8 = dtype("uint8", numpy.uint8, 1)
int8 = dtype("int8", numpy.int8, 1)
int16 = dtype("int16", numpy.int16, 1)
int32 = dtype("int32", numpy.int32, 1)
int64 = dtype("int64", numpy.int64, 1)
float16 = dtype("float16", numpy.float16, 2)
float32 = dtype("float32", numpy.float32, 2)
float64 = dtype("float64", numpy.float64, 2)
complex64 = dtype("complex64", numpy.complex64, 3)
complex128 = dtype("complex128", numpy.complex128, 3)
cfloat, cdouble = complex64, complex128


class _MissingDtype(dtype):
    """A dtype whose numpy type needs a package that is not installed: naming it works, and
    any use (a tensor, a cast) raises an error saying what to install."""

    __slots__ = ("_hint",)

    def __init__(self, name: str, category: int, itemsize: int, hint: str) -> None:
        self.name = name
        self.category = category
        self.is_floating_point = category == 2
        self.is_signed = True
        self.itemsize = itemsize
        self._hint = hint

    @property
    def np(self) -> Any:  # type: ignore[override]
        raise RuntimeError(f"ember.{self.name} needs {self._hint}")


def _bfloat16() -> dtype:
    if backend.BFLOAT16 is None:
        return _MissingDtype("bfloat16", 2, 2, "the ml_dtypes package (numpy has no bfloat16): "
                             "pip install ml_dtypes  (or pip install 'ember[bf16]')")
    return dtype("bfloat16", backend.BFLOAT16, 2)


bfloat16 = _bfloat16()

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
if backend.BFLOAT16 is not None:
    ALL += (bfloat16,)
FROM_NUMPY = {d.np: d for d in ALL}
_REAL_OF = {complex64: float32, complex128: float64}
# float16 -> complex64: numpy cannot hold torch's complex32 (two float16 halves)
_COMPLEX_OF = {float16: complex64, float32: complex64, float64: complex128, bfloat16: complex64,
               complex64: complex64, complex128: complex128}

_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def default_complex() -> dtype:
    """What a Python complex becomes: complex64, or complex128 under a float64 default (torch
    has none under a bfloat16 default)."""
    if _default_float is bfloat16:
        raise RuntimeError("invalid default scalar type for complex: the default dtype is "
                           "bfloat16 (torch.tensor(1j) refuses it too)")
    return _COMPLEX_OF[_default_float]


def set_default_dtype(d: dtype) -> None:
    """Set the dtype Python floats and float-creating factories produce (float32 by default)."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d
    _promote_cached.cache_clear()


def to_dtype(value: Any) -> dtype:
    """Accept an ember dtype, a numpy dtype or type, a Python type, or a name."""
    if isinstance(value, dtype):
        return value
    if value is float:  # torch maps the Python type to float64, whatever the default dtype
        return float64
    if value is int:
        return int64
    if value is bool:
        return bool_
    if value is complex:
        return complex128
    try:
        np_dtype = numpy.dtype(value)
    except TypeError:
        raise TypeError(f"cannot interpret {value!r} as an ember dtype") from None
    found = FROM_NUMPY.get(np_dtype)
    if found is None:
        raise TypeError(f"ember does not support the dtype {np_dtype} (supported: "
                        f"{', '.join(d.name for d in ALL)})")
    return found


def of_array(array: Any) -> dtype:
    found = FROM_NUMPY.get(array.dtype)
    if found is None:
        raise TypeError(f"ember does not support arrays of dtype {array.dtype}")
    return found


# ---------------------------------------------------------------------------------------------
# Type promotion
# ---------------------------------------------------------------------------------------------

# priority of an operand: 2 = tensor with dimensions, 1 = zero-dim tensor, 0 = Python scalar
DIMENSIONED, ZERO_DIM, SCALAR = 2, 1, 0


def category_of_scalar(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    if isinstance(value, complex):
        return 3
    return 2


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` convert to (torch.promote_types)."""
    if a is b:
        return a
    if a.category != b.category:
        if {a.category, b.category} == {2, 3}:  # complex64 with float64 is complex128
            return promote_types(a.to_complex(), b.to_complex())
        return a if a.category > b.category else b
    if a.category == 0:
        return a
    if {a, b} == {uint8, int8}:
        return int16
    if bfloat16 in (a, b):  # numpy cannot promote ml_dtypes' type: torch's table
        other = b if a is bfloat16 else a
        return float32 if other is float16 else other
    return to_dtype(numpy.promote_types(a.np, b.np))


@cache
def _promote_cached(a: dtype | int, pa: int, b: dtype | int, pb: int) -> dtype:
    # Python scalars are passed as their category (0 bool, 1 int, 2 float).
    operands = [(pa, a), (pb, b)]
    top = max(pa, pb)
    result = None
    for prio, d in operands:
        if prio == top:
            if result is None:
                result = d
            elif isinstance(d, dtype):
                result = promote_types(result, d)
            else:  # two Python scalars: the higher category wins
                result = max(result, d)
    if not isinstance(result, dtype):  # two Python scalars
        result = _scalar_dtypes()[result]
    for prio, d in operands:
        if prio == top:
            continue
        cat = d.category if isinstance(d, dtype) else d
        if cat > result.category:
            if cat == 3 and result.category == 2:  # float meets complex: keep the float's width
                result = result.to_complex()
            elif isinstance(d, dtype):  # a zero-dim tensor of a higher category keeps its dtype
                result = d
            else:
                result = _scalar_dtypes()[cat]
    return result


def _scalar_dtypes() -> dict:
    """The dtype a Python scalar of each category takes (torch's wrapped-number rule)."""
    return {0: bool_, 1: int64, 2: _default_float, 3: _COMPLEX_OF[_default_float]}


def result_type(a: Any, b: Any) -> dtype:
    """torch.result_type for two operands (tensors or Python scalars)."""
    return _promote_cached(*_operand_key(a), *_operand_key(b))


def _operand_key(x: Any) -> tuple[Any, int]:
    data = getattr(x, "_data", None)
    if data is not None:
        return of_array(data), (DIMENSIONED if data.ndim else ZERO_DIM)
    if backend.is_array(x):
        return of_array(x), (DIMENSIONED if x.ndim else ZERO_DIM)
    if isinstance(x, numpy.generic):  # torch treats numpy scalars like Python numbers
        return to_dtype(x.dtype).category, SCALAR
    if isinstance(x, (bool, int, float, complex)):
        return category_of_scalar(x), SCALAR
    raise TypeError(f"unsupported operand of type {type(x).__name__}")


def as_python_number(value: Any) -> Any:
    """A numpy scalar as the Python number torch takes it for (np.float64 subclasses float, but
    numpy 2 computes float32 * np.float64(2) in float64); anything else unchanged."""
    return value.item() if isinstance(value, numpy.generic) else value


def wrap_int_scalar(value: Any, np_dtype: Any) -> Any:
    """A Python int outside an integer array's range, wrapped into it the way torch converts
    scalars (uint8 + 300 adds 44); numpy 2 would raise OverflowError instead."""
    if type(value) is not int or np_dtype.kind not in "iu":
        return value
    bits = 8 * np_dtype.itemsize
    low = -(1 << (bits - 1)) if np_dtype.kind == "i" else 0
    if low <= value < low + (1 << bits):
        return value
    return (value - low) % (1 << bits) + low


def python_scalar_dtype(value: Any) -> dtype:
    return _scalar_dtypes()[category_of_scalar(value)]


def finfo_eps(d: dtype) -> float:
    return float(numpy.finfo(d.np).eps)


class finfo:
    """Machine limits for floating types (torch.finfo)."""

    def __init__(self, type: dtype | None = None) -> None:
        d = to_dtype(type) if type is not None else _default_float
        d = d.to_real()  # a complex dtype's limits are those of its parts, as in torch
        if not d.is_floating_point:
            raise TypeError(f"finfo: expected a floating point dtype, got {d}")
        info = backend.bfloat16_finfo() if d is bfloat16 else numpy.finfo(d.np)
        self.dtype = d.name
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)  # torch's is exact, numpy's is rounded

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits for integer types (torch.iinfo)."""

    def __init__(self, type: dtype) -> None:
        d = to_dtype(type)
        if d.category != 1:
            raise TypeError(f"iinfo: expected an integer dtype, got {d}")
        info = numpy.iinfo(d.np)
        self.dtype = d.name
        self.bits, self.min, self.max = info.bits, int(info.min), int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


class layout:
    """How a tensor's elements are laid out in memory: dense (`strided`) or sparse (`sparse_coo`,
    `sparse_csr`, see ember/sparse)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
