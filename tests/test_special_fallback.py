"""The numpy-only special functions (used when scipy is not installed) match torch."""

from __future__ import annotations

import numpy as np
import torch

from ember.ops import special


def test_erf_erfc_fallbacks_match_torch() -> None:
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, np.inf, -np.inf]])
    with np.errstate(all="ignore"):
        erf = special._erf_fallback(np, x)
        erfc = special._erfc_fallback(np, x)
    np.testing.assert_allclose(erf, torch.erf(torch.tensor(x)).numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(erfc, torch.erfc(torch.tensor(x)).numpy(), rtol=1e-11,
                               atol=1e-300)
    x32 = x.astype(np.float32)
    with np.errstate(all="ignore"):
        out32 = special._erf_fallback(np, x32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, torch.erf(torch.tensor(x32)).numpy(), rtol=1e-6, atol=1e-7)


def test_erfinv_fallback_matches_torch() -> None:
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 20001), [1.0, -1.0, 0.0, 1.5]])
    out = special._erfinv_fallback(np, y)
    ref = torch.erfinv(torch.tensor(y)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12, equal_nan=True)


def test_sigmoid_fallback_is_stable_and_exact() -> None:
    x = np.array([-1000, -100, -20, -1, 0, 1, 20, 100, 1000], dtype=np.float32)
    e = np.exp(-np.abs(x.astype(np.float64)))
    r = 1 / (1 + e)
    expected = np.where(x >= 0, r, e * r)
    with np.errstate(all="ignore"):
        saved = special._special_cache.copy()
        special._special_cache[id(np)] = None  # pretend scipy is missing
        try:
            out = special.sigmoid(x)
        finally:
            special._special_cache.clear()
            special._special_cache.update(saved)
    np.testing.assert_allclose(out, expected.astype(np.float32), rtol=1e-6, atol=1e-45)
    assert np.all(np.isfinite(out))
