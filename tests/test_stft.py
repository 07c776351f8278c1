"""stft / istft compared with torch: shapes, values and gradients for windows, hops, centring,
padding modes, normalisation, one- and two-sided spectra, batches and lengths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conformance import Input, compare

import ember

WINDOW = Input((12,), low=0.2, high=1.0, dtype="float64")


@pytest.mark.parametrize("fn, specs", [
    (lambda m, x: m.stft(x, 16, return_complex=True), [(64,)]),
    (lambda m, x, w: m.stft(x, 16, hop_length=5, win_length=12, window=w,
                            return_complex=True), [(64,), WINDOW]),
    (lambda m, x: m.stft(x, 16, hop_length=3, normalized=True, return_complex=True), [(2, 50)]),
    (lambda m, x: m.stft(x, 16, center=False, return_complex=True), [(40,)]),
    (lambda m, x: m.stft(x, 16, pad_mode="constant", onesided=False, return_complex=True),
     [(33,)]),
    (lambda m, x: x.stft(10, 4, window=m.hann_window(10, dtype=x.dtype),
                         return_complex=True).abs(), [(3, 37)]),
])
def test_stft(fn, specs):
    compare(fn, specs, dtype="float64")


def test_stft_complex_input_and_real_layout():
    compare(lambda m, x: m.stft(x, 8, return_complex=True), [(32,)], dtype="complex128")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch deprecates return_complex=False
        compare(lambda m, x: m.stft(x, 8, return_complex=False), [(32,)], dtype="float64")


@pytest.mark.parametrize("fn, specs", [
    (lambda m, s: m.istft(s, 16, window=m.ones(16, dtype=m.float64)), [(9, 17)]),
    (lambda m, s: m.istft(s, 16, window=m.ones(16, dtype=m.float64), length=70), [(9, 17)]),
    (lambda m, s: m.istft(s, 16, window=m.ones(16, dtype=m.float64), length=30), [(9, 17)]),
    (lambda m, s, w: m.istft(s, 16, hop_length=5, win_length=12, window=w),
     [(9, 13), WINDOW]),
    (lambda m, s: m.istft(s, 16, hop_length=4, normalized=True, center=False,
                          window=m.hann_window(16, dtype=m.float64) + 0.1), [(2, 9, 9)]),
    (lambda m, s: m.istft(s, 16, onesided=False, window=m.ones(16, dtype=m.float64)),
     [(16, 17)]),
    (lambda m, s: m.istft(s, 16, onesided=False, return_complex=True,
                          window=m.ones(16, dtype=m.float64)), [(16, 17)]),
])
def test_istft(fn, specs):
    compare(fn, specs, dtype="complex128")


def test_roundtrip_recovers_the_signal():
    x = ember.tensor(np.random.default_rng(0).standard_normal((2, 100)))
    window = ember.hann_window(32, dtype=ember.float64)
    spec = ember.stft(x, 32, hop_length=8, window=window, return_complex=True)
    back = ember.istft(spec, 32, hop_length=8, window=window, length=100)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)


def test_errors():
    with pytest.raises(RuntimeError, match="return_complex"):
        ember.stft(ember.ones(32), 8)
    with pytest.raises(RuntimeError, match="win_length"):
        ember.stft(ember.ones(32), 8, win_length=9, return_complex=True)
    with pytest.raises(RuntimeError, match="window"):
        ember.stft(ember.ones(32), 8, window=ember.ones(5), return_complex=True)
    with pytest.raises(RuntimeError, match="complex-valued"):
        ember.istft(ember.ones(5, 4), 8)
    with pytest.raises(RuntimeError, match="frequency dimension"):
        ember.istft(ember.ones(7, 4, dtype=ember.complex64), 16, onesided=True)
    with pytest.raises(RuntimeError, match="NOLA"):
        ember.istft(ember.ones(5, 4, dtype=ember.complex64), 8, hop_length=8,
                    window=ember.zeros(8))
