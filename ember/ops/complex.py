"""Complex numbers: real/imag views, view_as_real/complex, conj, angle, sgn, complex(), polar.

These ops are not holomorphic, so each writes its backward in torch's convention directly
(the gradient of a real loss L with respect to z = x + iy is dL/dx + i dL/dy; see
autograd/complex_grad.py). Holomorphic ops (mul, exp, matmul...) need nothing here.

Differences from torch: `conj()` of a complex tensor returns a new tensor (numpy has no lazy
conjugate bit), so `is_conj()` is always False and writing into `x.conj()` does not change x.
`x.real`, `x.imag`, `view_as_real` and `view_as_complex` share memory with their input as in
torch; an in-place op through them on a tensor that is part of an autograd graph raises.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, dtypes
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Op, array_namespace, op_watch, record, refresh_view
from ..tensor import Tensor
from ._util import broadcast_error, sum_to_shape
from .shape import ViewOp, mark_view

_new = object.__new__
_PyComplex = complex  # the builtin: this module defines torch's complex() below


def is_complex_array(x: Any) -> bool:
    return x.dtype.kind == "c"


def _dtype_name(x: Any) -> str:
    """torch's scalar-type name for messages: ComplexFloat, Float, Long..."""
    names = {"complex64": "ComplexFloat", "complex128": "ComplexDouble", "float16": "Half",
             "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(str(x.dtype), str(x.dtype))


def reject_complex(op: str, *values: Any) -> None:
    """Raise torch's error for an op that needs an order (comparisons, max, sort, clamp...)."""
    for v in values:
        data = v._data if isinstance(v, Tensor) else v
        if isinstance(data, _PyComplex) or (hasattr(data, "dtype") and data.dtype.kind == "c"):
            name = _dtype_name(data) if hasattr(data, "dtype") else "ComplexDouble"
            raise NotImplementedError(
                f"{op}: not implemented for '{name}': complex numbers have no order "
                "(compare .abs() or .real instead)"
            )


class _ComplexView(ViewOp):
    """A view that reinterprets the element type; numpy shares the memory but reports another
    base, so the view is marked here explicitly."""

    holomorphic = False

    @classmethod
    def apply(cls, x: Tensor, *args: Any) -> Tensor:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (x, *args), {})
        if x._view is not None:
            refresh_view(x)
        data = x._data
        node = _new(cls)
        out = backend.as_array(node.forward(data, *args))
        result = Tensor._make(out)
        if backend.module_of(data).shares_memory(out, data):
            mark_view(result, x, cls, args)
        if x._requires_grad and grad_state.enabled:
            record(node, result, (x,), [data])
        return result

    @classmethod
    def replay(cls, array: Any, *args: Any) -> Any:
        raise RuntimeError(
            f"{cls.__name__.lower()}: an in-place change through .real/.imag/view_as_real/"
            "view_as_complex of a tensor in an autograd graph is not supported by Ember; "
            "build the new tensor out of place (e.g. ember.complex(new_real, z.imag))"
        )


class Real(_ComplexView):
    def forward(self, x: Any) -> Any:
        self.in_dtype = x.dtype
        return x.real

    def backward(self, grad: Any) -> Any:
        from ._util import astype  # noqa: PLC0415

        return astype(grad, self.in_dtype)  # dL/dx + i * 0


class Imag(_ComplexView):
    def forward(self, x: Any) -> Any:
        return x.imag

    def backward(self, grad: Any) -> Any:
        return grad * 1j  # 0 + i dL/dy


class ViewAsReal(_ComplexView):
    def forward(self, x: Any) -> Any:
        real_dtype = x.real.dtype
        if x.ndim == 0:
            return x.reshape(1).view(real_dtype)
        return x[..., None].view(real_dtype)  # (..., 1) complex -> (..., 2) real, no copy

    def backward(self, grad: Any) -> Any:
        if isinstance(grad, Tensor):
            return view_as_complex(grad.contiguous())
        xp = backend.module_of(grad)
        return xp.ascontiguousarray(grad).view(_complex_of(grad.dtype))[..., 0]


class ViewAsComplex(_ComplexView):
    def forward(self, x: Any) -> Any:
        return x.view(_complex_of(x.dtype))[..., 0]

    def backward(self, grad: Any) -> Any:
        if isinstance(grad, Tensor):
            return view_as_real(grad)
        return grad[..., None].view(grad.real.dtype)


def _complex_of(np_dtype: Any) -> Any:
    return dtypes.FROM_NUMPY[np_dtype].to_complex().np


class Conj(Op):
    holomorphic = False

    def forward(self, x: Any) -> Any:
        return backend.module_of(x).conj(x)

    def backward(self, grad: Any) -> Any:
        return conj_physical(grad) if isinstance(grad, Tensor) else array_namespace(grad).conj(grad)


class Angle(Op):
    holomorphic = False

    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        return backend.module_of(x).angle(x)

    def backward(self, grad: Any) -> Any:
        # angle = atan2(y, x): dL/dx + i dL/dy = grad * (-y + i x) / |z|^2 = grad * i z / |z|^2
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        abs2 = xp.abs(x) ** 2
        safe = xp.where(abs2 == 0, 1.0, abs2)
        return xp.where(abs2 == 0, 0.0, grad * x * 1j / safe)


class Sgn(Op):
    """z / |z| (0 at 0): the complex sign."""

    holomorphic = False

    def forward(self, x: Any) -> Any:
        self.save_for_backward(x)
        xp = backend.module_of(x)
        a = xp.abs(x)
        with backend.errstate(xp, invalid="ignore", divide="ignore"):
            return xp.where(a == 0, 0, x / xp.where(a == 0, 1, a)).astype(x.dtype)

    def backward(self, grad: Any) -> Any:
        # Wirtinger: dw/dz = 1 / (2|z|), dw/dzbar = -s^2 / (2|z|), so the torch-convention
        # gradient is (grad - conj(grad) s^2) / (2|z|)
        (x,) = self.saved_tensors
        xp = array_namespace(grad)
        a = xp.abs(x)
        safe = xp.where(a == 0, 1.0, a)
        s = x / safe
        return xp.where(a == 0, 0.0, (grad - conj_any(grad) * s * s) / (2 * safe))


def conj_any(x: Any) -> Any:
    """Conjugate of an array or (differentiably) a Tensor."""
    if isinstance(x, Tensor):
        return conj_physical(x)
    return backend.module_of(x).conj(x)


class Complex(Op):
    """real + i imag, from two real tensors (broadcast together)."""

    holomorphic = False

    def forward(self, re: Any, im: Any) -> Any:
        xp = backend.module_of(re)
        try:
            shape = xp.broadcast_shapes(re.shape, im.shape)
        except ValueError:
            raise broadcast_error("complex", re.shape, im.shape) from None
        self.shapes = (re.shape, im.shape)
        out = xp.empty(shape, dtype=_complex_of(re.dtype))
        out.real, out.imag = re, im
        return out

    def backward(self, grad: Any) -> tuple:
        re_shape, im_shape = self.shapes
        if isinstance(grad, Tensor):
            gr, gi = real(grad), imag(grad)
        else:
            gr, gi = grad.real, grad.imag
        return sum_to_shape(gr, re_shape), sum_to_shape(gi, im_shape)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _check_tensor(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")


def real(input: Tensor) -> Tensor:
    """The real part: a view of a complex tensor; a real tensor is its own real part."""
    _check_tensor("real", input)
    if input._data.dtype.kind != "c":
        return input
    return Real.apply(input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part, a view of a complex tensor."""
    _check_tensor("imag", input)
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor of shape S seen as a real one of shape S + (2,) (no copy)."""
    _check_tensor("view_as_real", input)
    if input._data.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, but got a "
                           f"tensor of scalar type: {_dtype_name(input._data)}")
    return ViewAsReal.apply(input)


def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor of shape S + (2,) seen as a complex one of shape S (no copy)."""
    _check_tensor("view_as_complex", input)
    data = input._data
    if data.dtype.kind != "f" or data.dtype.itemsize < 4:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but "
                           f"got a tensor of scalar type: {_dtype_name(data)}")
    if data.ndim == 0 or data.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: Tensor must have a last dimension of size 2, got "
                           f"shape {list(data.shape)}")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("view_as_complex: Tensor must have a last dimension with stride 1")
    if any(s % (2 * data.itemsize) for s, n in zip(data.strides[:-1], data.shape[:-1], strict=True)
           if n > 1):
        raise RuntimeError("view_as_complex: Tensor must have a stride divisible by 2 for all but "
                           "last dimension")
    return ViewAsComplex.apply(input)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a new tensor: Ember has no lazy conjugate view); real: itself."""
    _check_tensor("conj", input)
    if input._data.dtype.kind != "c":
        return input
    return Conj.apply(input)


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, computed now (what conj() does in Ember anyway)."""
    return conj(input)


def resolve_conj(input: Tensor) -> Tensor:
    """Materialise a lazy conjugate: Ember's conj() is never lazy, so the input itself."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    return input


def is_conj(input: Tensor) -> bool:
    """Whether `input` is a lazy conjugate view: never, in Ember."""
    return False


def is_complex(input: Tensor) -> bool:
    return input._data.dtype.kind == "c"


def isreal(input: Tensor) -> Tensor:
    """Elementwise: is the imaginary part zero (always true for a real tensor)."""
    xp = backend.module_of(input._data)
    if input._data.dtype.kind == "c":
        return Tensor._make(backend.as_array(input._data.imag == 0))
    return Tensor._make(backend.as_array(xp.ones(input._data.shape, dtype=bool)))


def angle(input: Tensor) -> Tensor:
    """The argument of each element, in (-pi, pi]; for a real tensor pi for negatives, else 0."""
    _check_tensor("angle", input)
    if input._data.dtype.kind == "c":
        return Angle.apply(input)
    x = input if input._data.dtype.kind == "f" else input.to(dtypes.get_default_dtype())
    from .indexing import where  # noqa: PLC0415

    out = where(x.detach() < 0, math.pi, 0.0).to(x.dtype)
    out = out.masked_fill(x.detach().isnan(), math.nan)
    if x.requires_grad:  # a flat function: in the graph (AngleBackward0) with a zero gradient
        from ._util import torch_named  # noqa: PLC0415

        never = Tensor._make(backend.module_of(x._data).zeros(x._data.shape, dtype=bool))
        out = torch_named(where(never, x, out), "Angle")  # out's values, x's (zero) gradient
    return out


def sgn(input: Tensor) -> Tensor:
    """sign for real tensors; z / |z| (0 at 0) for complex ones."""
    _check_tensor("sgn", input)
    if input._data.dtype.kind == "c":
        return Sgn.apply(input)
    from ._util import torch_named  # noqa: PLC0415
    from .unary import Sign  # noqa: PLC0415

    return torch_named(Sign.apply(input), "Sgn")


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 (torch's name)
    """The complex tensor real + i imag (both float16/32/64 tensors of the same dtype)."""
    _check_float_pair("complex", real, imag)
    return Complex.apply(real, imag)


def _check_float_pair(op: str, a: Tensor, b: Tensor) -> None:
    """complex() and polar() take two float tensors of one dtype (torch's messages)."""
    _check_tensor(op, a)
    _check_tensor(op, b)
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError(f"{op}: expected both inputs to be Half, Float or Double tensors "
                           f"but got {_dtype_name(a._data)} and {_dtype_name(b._data)}")
    if da != db:
        raise RuntimeError(f"{op}: expected object of scalar type {_dtype_name(a._data)} "
                           f"but got scalar type {_dtype_name(b._data)} for second argument")


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle)); differentiable through its real formula."""
    from .unary import cos, sin  # noqa: PLC0415

    _check_float_pair("polar", abs, angle)
    return complex(abs * cos(angle), abs * sin(angle))
