"""ember.fft compared with torch.fft: values, dtypes and gradients for every transform, size
argument and normalisation; the one-sided transforms' gradients (rfft's zero-padded half,
irfft's doubled entries) are the subtle part, checked for even and odd lengths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import compare

import ember

NORMS = [None, "backward", "ortho", "forward"]


def _resolve(fn):
    """torch's conj() is lazy: resolve it so outputs compare as plain arrays."""
    def run(m, *xs):
        out = fn(m, *xs)
        return out.resolve_conj() if m is torch else out
    return run


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn", [
    lambda m, x, norm: m.fft.fft(x, norm=norm),
    lambda m, x, norm: m.fft.ifft(x, norm=norm),
    lambda m, x, norm: m.fft.fft(x, n=9, dim=0, norm=norm),
    lambda m, x, norm: m.fft.ifft(x, n=3, norm=norm),
    lambda m, x, norm: m.fft.fft2(x, norm=norm),
    lambda m, x, norm: m.fft.ifft2(x, s=(5, 4), norm=norm),
    lambda m, x, norm: m.fft.fftn(x, norm=norm),
    lambda m, x, norm: m.fft.ifftn(x, s=(7,), norm=norm),
    lambda m, x, norm: m.fft.fftn(x, dim=(1, 0), norm=norm),
    lambda m, x, norm: m.fft.irfft(x, norm=norm),
    lambda m, x, norm: m.fft.irfft(x, n=7, norm=norm),
    lambda m, x, norm: m.fft.irfft(x, n=16, dim=0, norm=norm),
    lambda m, x, norm: m.fft.irfft2(x, norm=norm),
    lambda m, x, norm: m.fft.irfftn(x, s=(5, 9), norm=norm),
    lambda m, x, norm: m.fft.hfft(x, norm=norm),
    lambda m, x, norm: m.fft.hfft(x, n=5, norm=norm),
    lambda m, x, norm: m.fft.hfftn(x, norm=norm),
])
@pytest.mark.parametrize("shape", [(4, 6), (3, 5)])
def test_complex_input_transforms(fn, norm, shape):
    compare(_resolve(lambda m, x: fn(m, x, norm)), [shape], dtype="complex128")


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn", [
    lambda m, x, norm: m.fft.fft(x, norm=norm),
    lambda m, x, norm: m.fft.rfft(x, norm=norm),
    lambda m, x, norm: m.fft.rfft(x, n=5, norm=norm),
    lambda m, x, norm: m.fft.rfft(x, n=12, dim=0, norm=norm),
    lambda m, x, norm: m.fft.rfft2(x, norm=norm),
    lambda m, x, norm: m.fft.rfftn(x, s=(3, 8), norm=norm),
    lambda m, x, norm: m.fft.ihfft(x, norm=norm),
    lambda m, x, norm: m.fft.ihfft2(x, norm=norm),
    lambda m, x, norm: m.fft.ihfftn(x, s=(2, 4), norm=norm),
    lambda m, x, norm: m.fft.irfft(x, norm=norm),
])
@pytest.mark.parametrize("shape", [(4, 6), (3, 7)])
def test_real_input_transforms(fn, norm, shape):
    compare(_resolve(lambda m, x: fn(m, x, norm)), [shape], dtype="float64")


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_single_precision_keeps_its_dtype(dtype):
    compare(lambda m, x: m.fft.fft2(x * 2), [(4, 5)], dtype=dtype)
    if dtype == "float32":
        compare(lambda m, x: m.fft.irfft(m.fft.rfft(x), n=5) * x, [(4, 5)], dtype=dtype)


def test_integer_input_uses_default_float():
    e, t = (m.fft.fft(m.arange(4)) for m in (ember, torch))
    assert e.dtype is ember.complex64 and t.dtype == torch.complex64
    np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-6)


def test_roundtrips_and_composites():
    compare(lambda m, x: m.fft.ifft(m.fft.fft(x)).real, [(8,)], dtype="float64")
    compare(lambda m, x: m.fft.irfft(m.fft.rfft(x) * m.fft.rfft(x), n=6), [(2, 6)],
            dtype="float64")
    compare(lambda m, x: m.fft.fftshift(x) * m.fft.ifftshift(x, dim=1), [(4, 5)],
            dtype="complex128")
    compare(lambda m, x: m.fft.fftshift(m.fft.fft(x), dim=-1).abs(), [(7,)], dtype="float64")


def test_double_backward_matches_torch():
    x0 = np.random.default_rng(0).standard_normal(6)
    grads = []
    for m in (ember, torch):
        x = m.tensor(x0, requires_grad=True)
        y = (m.fft.rfft(x).abs() ** 3).sum() + m.fft.irfft(m.fft.fft(x * x)[:4]).pow(2).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9)


def test_frequencies():
    for args, kwargs in [((5,), {}), ((6, 0.5), {}), ((8,), {"dtype": "float64"})]:
        for name in ("fftfreq", "rfftfreq"):
            kw_e = {k: getattr(ember, v) for k, v in kwargs.items()}
            kw_t = {k: getattr(torch, v) for k, v in kwargs.items()}
            e = getattr(ember.fft, name)(*args, **kw_e)
            t = getattr(torch.fft, name)(*args, **kw_t)
            assert e.dtype.name == str(t.dtype).split(".")[1]
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


def test_shifts_match_torch():
    x = np.arange(24.0).reshape(4, 6)
    for dim in (None, 0, (1,), (0, 1)):
        for name in ("fftshift", "ifftshift"):
            e = getattr(ember.fft, name)(ember.tensor(x), dim=dim)
            t = getattr(torch.fft, name)(torch.tensor(x), dim=dim)
            np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_errors():
    x = ember.ones(4)
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):
        ember.fft.fft(x, norm="bad")
    with pytest.raises(RuntimeError, match="Invalid number of data points"):
        ember.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match="real input"):
        ember.fft.rfft(ember.ones(4, dtype=ember.complex64))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.fft.fft(x, dim=1)
    with pytest.raises(RuntimeError, match="same length"):
        ember.fft.fftn(ember.ones(2, 2), s=(2,), dim=(0, 1))
    with pytest.raises(TypeError, match="must be a Tensor"):
        ember.fft.fft([1.0, 2.0])
