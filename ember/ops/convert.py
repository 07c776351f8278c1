"""Changing a tensor's dtype or device: `Tensor.to`, `.float()`, `.cuda()`..."""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd import complex_grad
from ..autograd.node import Op
from ..tensor import Tensor
from ._util import astype


class ToDtype(Op):
    bf16_in_float32 = False  # the caller chose the result dtype

    def name(self) -> str:  # torch's node for every .to() that copies
        return "ToCopyBackward0"

    def forward(self, x: Any, np_dtype: Any) -> Any:
        self.in_dtype = x.dtype
        if x.__class__ is not backend.ndarray:  # a GPU array: bfloat16 only if CuPy has it
            backend.refuse_gpu_bfloat16(np_dtype)
        return x.astype(np_dtype)

    def backward(self, grad: Any) -> Any:
        if self.in_dtype.kind != "c":  # real -> complex: only the real part flows back
            grad = complex_grad.real_part(grad)
        return astype(grad, self.in_dtype)  # the gradient goes back in the input's dtype


class ToDevice(Op):
    bf16_in_float32 = False
    name = ToDtype.name

    def forward(self, x: Any, device: backend.device) -> Any:
        self.source = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, grad: Any) -> Any:
        if isinstance(grad, Tensor):
            return grad.to(self.source)
        return backend.to_device(grad, self.source)


def _parse_to_args(t: Tensor, args: tuple, kwargs: dict) -> tuple:
    """torch's to(dtype) / to(device, dtype) / to(other) / to(dtype=..., device=...)."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, dtypes.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            dtype = a
        elif isinstance(a, (str, backend.device, int)) and not isinstance(a, bool):
            device = a
        elif isinstance(a, bool):
            pass  # the positional non_blocking flag
        else:
            try:
                dtype = dtypes.to_dtype(a)
            except TypeError:
                raise TypeError(f"to() received an invalid combination of arguments: {a!r}") \
                    from None
    return (backend.as_device(device) if device is not None else None,
            dtypes.to_dtype(dtype) if dtype is not None else None, copy)


def to(t: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Return `t` on another device and/or dtype (itself when nothing changes, unless copy=True)."""
    kwargs = dict(kwargs)
    fmt = kwargs.pop("memory_format", None)
    device, dtype, copy = _parse_to_args(t, args, kwargs)
    out = _to(t, device, dtype, copy)
    if fmt is not None:
        from .. import memory_layout as mf  # noqa: PLC0415

        if mf.check(fmt, t.ndim, "to") is not mf.preserve_format:
            from .shape import contiguous  # noqa: PLC0415

            out = contiguous(out, fmt)
    return out


def _to(t: Tensor, device: Any, dtype: Any, copy: bool) -> Tensor:
    out = t
    if device is not None and device != t.device:
        if device.type == "cuda" and device.index is None:
            device = backend.device("cuda", 0)
        if device != t.device:
            out = ToDevice.apply(out, device)
    if dtype is not None and dtype.np != out._data.dtype:
        out = ToDtype.apply(out, dtype.np)
    if copy and out is t:
        from .shape import clone  # noqa: PLC0415

        out = clone(t)
    return out


def type_conversion(t: Tensor, d: dtypes.dtype) -> Tensor:
    if t._data.dtype == d.np:
        return t
    return ToDtype.apply(t, d.np)


def view_as_dtype(t: Tensor, d: Any) -> Tensor:
    """Reinterpret the bytes as another dtype (Tensor.view(dtype)); not differentiable."""
    d = dtypes.to_dtype(d)
    try:
        return Tensor._make(t._data.view(d.np))
    except ValueError as exc:
        raise RuntimeError(f"view(dtype): {exc}") from None
