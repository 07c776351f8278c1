"""Discrete Fourier transforms as differentiable ops: complex-to-complex, real-to-complex
(one-sided) and complex-to-real, over any set of dims, with torch's three normalisations.

Every transform here is linear, so its backward is its adjoint, itself a transform:

* C2C: the adjoint of a DFT is the DFT in the other direction with the "dual" scale
  (backward <-> forward, ortho <-> ortho), as numpy's `norm` names them.
* R2C (rfft): pad the one-sided gradient with zeros to the full length, apply the adjoint C2C,
  keep the real part (the input was real).
* C2R (irfft): rfft the gradient with the dual scale, and double the entries whose mirror
  image lies outside the one-sided half (torch's rule: 1 .. n - (n//2 + 1) along the last
  dim), since each stands for itself and its conjugate in the full spectrum.

`Resize` zero-pads or trims the signal to the requested sizes (`n`/`s` arguments); it is its
own adjoint with the sizes swapped. The gradients follow torch's complex convention
(autograd/complex_grad.py), so the ops are marked non-holomorphic and write it directly.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import complex_grad
from ..autograd.node import Op, call

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize_array(x: Any, axes: tuple, sizes: tuple) -> Any:
    """x trimmed or zero-padded at the end of each axis in `axes` to `sizes`."""
    xp = backend.module_of(x)
    index = [slice(None)] * x.ndim
    pad = [(0, 0)] * x.ndim
    for axis, size in zip(axes, sizes, strict=True):
        if x.shape[axis] > size:
            index[axis] = slice(0, size)
        elif x.shape[axis] < size:
            pad[axis] = (0, size - x.shape[axis])
    out = x[tuple(index)]
    if any(p != (0, 0) for p in pad):
        out = xp.pad(out, pad)
    return out


class Resize(Op):
    """Trim or zero-pad dims to given sizes (the n/s arguments of the transforms)."""

    holomorphic = False  # real-linear: the same formula serves real and complex values

    def forward(self, x: Any, axes: tuple, sizes: tuple) -> Any:
        self.axes, self.in_sizes = axes, tuple(x.shape[a] for a in axes)
        return _resize_array(x, axes, sizes)

    def backward(self, grad: Any) -> Any:
        return call(Resize, grad, self.axes, self.in_sizes)


def resize(x: Any, axes: tuple, sizes: tuple) -> Any:
    """Differentiable Resize on a Tensor or an array; nothing to do when sizes already match."""
    shape = x.shape
    if all(shape[a] == s for a, s in zip(axes, sizes, strict=True)):
        return x
    return call(Resize, x, axes, sizes)


class C2C(Op):
    """fftn (inverse=False) or ifftn (inverse=True) over `axes` of a complex array."""

    holomorphic = False

    def forward(self, x: Any, axes: tuple, norm: str, inverse: bool) -> Any:
        self.axes, self.norm, self.inverse = axes, norm, inverse
        fft = backend.module_of(x).fft
        out = (fft.ifftn if inverse else fft.fftn)(x, axes=axes, norm=norm)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Any) -> Any:
        return call(C2C, grad, self.axes, _DUAL[self.norm], not self.inverse)


class R2C(Op):
    """rfftn over `axes` of a real array: the last axis keeps n // 2 + 1 frequencies."""

    holomorphic = False

    def forward(self, x: Any, axes: tuple, norm: str) -> Any:
        self.axes, self.norm, self.n = axes, norm, x.shape[axes[-1]]
        out = backend.module_of(x).fft.rfftn(x, axes=axes, norm=norm)
        return out.astype(_complex_of(x.dtype), copy=False)

    def backward(self, grad: Any) -> Any:
        full = resize(grad, (self.axes[-1],), (self.n,))  # the discarded half: zero gradient
        return complex_grad.real_part(call(C2C, full, self.axes, _DUAL[self.norm], True))


class C2R(Op):
    """irfftn over `axes` of a one-sided complex array, giving `n` points on the last axis
    (the input's last axis must already hold n // 2 + 1 frequencies)."""

    holomorphic = False

    def forward(self, x: Any, axes: tuple, n: int, norm: str) -> Any:
        self.axes, self.norm = axes, norm
        sizes = tuple(x.shape[a] for a in axes[:-1]) + (n,)
        out = backend.module_of(x).fft.irfftn(x, s=sizes, axes=axes, norm=norm)
        return out.astype(x.real.dtype, copy=False)

    def backward(self, grad: Any) -> Any:
        g = call(R2C, grad, self.axes, _DUAL[self.norm])
        n, half = grad.shape[self.axes[-1]], g.shape[self.axes[-1]]
        doubled = n - half  # entries 1 .. n - half stand for themselves and their mirror
        if doubled <= 0:
            return g
        data = getattr(grad, "_data", grad)  # a Tensor under create_graph
        weight = backend.module_of(data).ones(half, dtype=data.dtype)
        weight[1:1 + doubled] = 2
        shape = [1] * len(g.shape)
        shape[self.axes[-1]] = half
        return g * weight.reshape(shape)


def _complex_of(np_dtype: Any) -> Any:
    return backend.numpy.result_type(np_dtype, backend.numpy.complex64)
