"""`ember.fft`: torch.fft's discrete Fourier transforms, differentiable (see ops/fft.py).

    >>> x = ember.randn(8)
    >>> spectrum = ember.fft.rfft(x)            # 5 complex frequencies
    >>> ember.fft.irfft(spectrum, n=8)          # x again

`n` / `s` trim or zero-pad the input along the transformed dims; `norm` is "backward" (no
scaling forward, 1/n inverse: the default), "ortho" (1/sqrt(n) both ways) or "forward"
(1/n forward). Real input to a complex transform is promoted to complex (float32 ->
complex64) and integer input to the default float first, as in torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import backend, dtypes
from .ops.complex import conj
from .ops.fft import C2C, C2R, R2C, resize
from .ops.shape import roll
from .tensor import Tensor

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ---------------------------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------------------------


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}" (expected "backward", '
                           '"ortho" or "forward")')
    return norm


def _check_input(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"fft.{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")


def _as_float(op: str, x: Tensor) -> Tensor:
    """Real input as float32/float64 (integers -> the default float); complex rejected."""
    kind = x._data.dtype.kind
    if kind == "c":
        raise RuntimeError(f"fft.{op} expects a real input tensor, but got {x.dtype}")
    if kind != "f" or x._data.dtype.itemsize < 4:  # numpy's FFT has no float16
        return x.to(dtypes.get_default_dtype() if kind != "f" else dtypes.float32)
    return x


def _as_complex(x: Tensor) -> Tensor:
    """Any input as complex64/complex128, the dtype torch's complex transforms compute in."""
    if x._data.dtype.kind == "c":
        return x
    x = _as_float("fft", x)
    return x.to(x.dtype.to_complex())


def _dims(op: str, x: Tensor, s: Sequence[int] | None, dim: Any,
          one_sided: bool = False) -> tuple[tuple, tuple | None]:
    """The transformed dims (non-negative, in order given) and the requested sizes (or None)."""
    ndim = x._data.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        dim = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
    dims = []
    for d in dim:  # torch checks the range before the lengths
        if not -ndim <= d < max(ndim, 1) or ndim == 0:
            raise IndexError(f"fft.{op}: Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        dims.append(d % ndim)
    if s is not None:
        s = tuple(int(v) for v in s)
        if len(s) != len(dims):
            raise RuntimeError(f"fft.{op}: when given, dim and shape arguments must have the "
                               f"same length (got s={list(s)} and dim={list(dim)})")
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"fft.{op}: dims must be unique, got {list(dim)}")
    if one_sided and not dims:
        raise RuntimeError(f"fft.{op}: must transform at least one axis")
    if s is not None:
        s = tuple(x._data.shape[d] if n == -1 else n for d, n in zip(dims, s, strict=True))
        for n in s:
            if n < 1:
                raise RuntimeError(f"fft.{op}: Invalid number of data points ({n}) specified")
    return tuple(dims), s


def _points(op: str, n: int | None) -> tuple | None:
    """The `n` of a 1-D transform as an `s`; unlike s, n = -1 is no "keep the size"."""
    if n is None:
        return None
    if n < 1:
        raise RuntimeError(f"fft.{op}: Invalid number of data points ({n}) specified")
    return (n,)


def _sizes(x: Tensor, dims: tuple, s: tuple | None) -> tuple:
    return s if s is not None else tuple(x._data.shape[d] for d in dims)


def _check_points(op: str, x: Tensor, dims: tuple, s: tuple | None) -> None:
    for n in _sizes(x, dims, s):
        if n < 1:
            raise RuntimeError(f"fft.{op}: Invalid number of data points ({n}) specified")


# ---------------------------------------------------------------------------------------------
# Complex-to-complex
# ---------------------------------------------------------------------------------------------


def _c2c(op: str, x: Tensor, s: Any, dim: Any, norm: str | None, inverse: bool) -> Tensor:
    _check_input(op, x)
    norm = _norm(norm)
    dims, s = _dims(op, x, s, dim)
    _check_points(op, x, dims, s)
    z = resize(_as_complex(x), dims, _sizes(x, dims, s))
    return C2C.apply(z, dims, norm, inverse)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D discrete Fourier transform along `dim`."""
    return _c2c("fft", input, _points("fft", n), dim, norm, False)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D inverse discrete Fourier transform along `dim`."""
    return _c2c("ifft", input, _points("ifft", n), dim, norm, True)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Tensor:
    return _c2c("fft2", input, s, dim, norm, False)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    return _c2c("ifft2", input, s, dim, norm, True)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
         norm: str | None = None) -> Tensor:
    """The N-D transform over `dim` (all dims, or the last len(s) when only s is given)."""
    return _c2c("fftn", input, s, dim, norm, False)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    return _c2c("ifftn", input, s, dim, norm, True)


# ---------------------------------------------------------------------------------------------
# Real-to-complex (one-sided) and complex-to-real
# ---------------------------------------------------------------------------------------------


def _r2c(op: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    _check_input(op, x)
    norm = _norm(norm)
    if op not in ("ihfft2", "ihfftn"):  # torch checks these two's dims before the dtype
        x = _as_float(op, x)
    dims, s = _dims(op, x, s, dim, one_sided=True)
    x = _as_float(op, x)
    _check_points(op, x, dims, s)
    return R2C.apply(resize(x, dims, _sizes(x, dims, s)), dims, norm)


def _c2r(op: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    _check_input(op, x)
    norm = _norm(norm)
    dims, s = _dims(op, x, s, dim, one_sided=True)
    z = _as_complex(x)
    last = z._data.shape[dims[-1]]
    n = s[-1] if s is not None else 2 * (last - 1)
    if n < 1:
        raise RuntimeError(f"fft.{op}: Invalid number of data points ({n}) specified")
    sizes = (s[:-1] if s is not None else tuple(z._data.shape[d] for d in dims[:-1]))
    z = resize(z, dims, sizes + (n // 2 + 1,))
    return C2R.apply(z, dims, n, norm)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-sided transform of a real signal: n // 2 + 1 frequencies."""
    return _r2c("rfft", input, _points("rfft", n), dim, norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of rfft: a real signal of n points (2 * (m - 1) by default)."""
    return _c2r("irfft", input, _points("irfft", n), dim, norm)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    return _r2c("rfft2", input, s, dim, norm)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    return _c2r("irfft2", input, s, dim, norm)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    return _r2c("rfftn", input, s, dim, norm)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    return _c2r("irfftn", input, s, dim, norm)


# hfft: the transform of a Hermitian-symmetric signal given by its first half, which is the
# inverse real transform of its conjugate with the scale of the other direction (numpy's way).


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The real spectrum of a Hermitian-symmetric signal given as its one-sided half."""
    return _c2r("hfft", conj(_as_complex(input)), _points("hfft", n), dim,
                _DUAL[_norm(norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of hfft: the one-sided half of a real signal's inverse transform."""
    return conj(_r2c("ihfft", input, _points("ihfft", n), dim, _DUAL[_norm(norm)]))


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    return _c2r("hfft2", conj(_as_complex(input)), s, dim, _DUAL[_norm(norm)])


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    return conj(_r2c("ihfft2", input, s, dim, _DUAL[_norm(norm)]))


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    return _c2r("hfftn", conj(_as_complex(input)), s, dim, _DUAL[_norm(norm)])


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    return conj(_r2c("ihfftn", input, s, dim, _DUAL[_norm(norm)]))


# ---------------------------------------------------------------------------------------------
# Frequencies and shifts
# ---------------------------------------------------------------------------------------------


def _frequencies(op: str, n: int, d: float, dtype: Any, device: Any,
                 requires_grad: bool) -> Tensor:
    """torch's recipe, in the result dtype: arange(n), wrapped (fftfreq), times 1 / (n * d)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"fft.{op}(): argument 'n' must be int, not {type(n).__name__}")
    # torch's C++ halving rounds toward zero: rfftfreq(-1) is [-0.], rfftfreq(-4) an error
    count = (n // 2 if n >= 0 else -(-n // 2)) + 1 if op == "rfftfreq" else n
    if count < 0:
        raise RuntimeError(f"fft.{op}: Trying to create tensor with negative dimension {count}")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.is_complex:
        raise NotImplementedError(f"fft.{op}: not implemented for complex dtype {dt}")
    if not dt.is_floating_point:
        raise RuntimeError(f"fft.{op} requires a floating point or complex dtype, got {dt}")
    xp = backend.module_for(backend.as_device(device))
    k = xp.arange(count, dtype=dt.np)
    if op == "fftfreq":
        k[(n + 1) // 2:] -= n
    scale = 1.0 / (n * d) if n * d != 0 else math.inf
    with backend.errstate(xp, invalid="ignore", over="ignore"):
        out = Tensor._make(k * dt.np.type(scale))
    if requires_grad:
        out.requires_grad_(True)
    return out


def fftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point fft: [0, 1, ..., -1] / (d * n)."""
    return _frequencies("fftfreq", n, d, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point rfft: [0, 1, ..., n // 2] / (d * n)."""
    return _frequencies("rfftfreq", n, d, dtype, device, requires_grad)


def _shift(op: str, input: Tensor, dim: Any, inverse: bool) -> Tensor:
    ndim = input.ndim
    dims = tuple(range(ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        raise RuntimeError(f"fft.{op}: `shifts` required (no dims to shift; a 0-d input has "
                           "none)")
    totals: dict = {}  # a dim named twice is rolled twice, as torch does
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(f"fft.{op}: Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        n = input.shape[d]
        totals[d % ndim] = totals.get(d % ndim, 0) + (-(n // 2) if inverse else n // 2)
    return roll(input, list(totals.values()), list(totals))


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero frequency to the centre (a roll by n // 2 along each dim)."""
    return _shift("fftshift", input, dim, False)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift."""
    return _shift("ifftshift", input, dim, True)

