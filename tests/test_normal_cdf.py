"""The fast float32 normal CDF behind GELU, against torch's ndtr (float64 reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops.special import normal_cdf


@pytest.mark.parametrize("size", [100, 5000, 70_001])  # below, at and across chunk sizes
def test_float32_error_is_about_one_ulp_of_one(size):
    x = np.random.default_rng(size).standard_normal(size).astype(np.float32) * 4
    x[:5] = [-40.0, -5.55, 0.0, 5.55, 40.0]
    ours = normal_cdf(x)
    exact = torch.special.ndtr(torch.tensor(x, dtype=torch.float64)).numpy()
    assert ours.dtype == np.float32 and ours.shape == x.shape
    np.testing.assert_allclose(ours, exact, rtol=0, atol=1.5e-7)
    assert ours.min() >= 0.0 and ours.max() <= 1.0
    assert ours[0] == 0.0 and ours[4] == 1.0


def test_non_contiguous_and_multi_dimensional_input():
    x = np.random.default_rng(0).standard_normal((64, 300), dtype=np.float32)[:, ::3]
    exact = torch.special.ndtr(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(normal_cdf(x), exact, atol=1.5e-7)


def test_float64_stays_exact():
    x = np.linspace(-8, 8, 5001)
    exact = torch.special.ndtr(torch.tensor(x)).numpy()
    np.testing.assert_allclose(normal_cdf(x), exact, rtol=1e-12, atol=1e-15)


def test_gelu_on_a_large_float32_tensor_matches_torch_and_exact_math():
    x = np.random.default_rng(1).standard_normal((256, 512), dtype=np.float32) * 3
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = ember.nn.functional.gelu(ex), torch.nn.functional.gelu(tx)
    ey.sum().backward()
    ty.sum().backward()
    # torch's float32 GELU is itself off by up to ~1e-6 (1 + erf cancels for x < 0)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=2e-6)
    x64 = torch.tensor(x, dtype=torch.float64)
    cdf = torch.special.ndtr(x64)
    pdf = torch.exp(-0.5 * x64 * x64) / np.sqrt(2 * np.pi)
    # against exact math: within 8e-7, or within torch's own error where that is larger (its
    # float32 GELU is 1.1e-6 off at x ~ 5: Phi(x) rounds near 1, times x)
    for ours, theirs, exact in ((ey.detach().numpy(), ty.detach().numpy(), x64 * cdf),
                                (ex.grad.numpy(), tx.grad.numpy(), cdf + x64 * pdf)):
        torch_error = np.abs(theirs - exact.numpy()).max()
        np.testing.assert_allclose(ours, exact.numpy(), rtol=0, atol=max(8e-7, torch_error))
