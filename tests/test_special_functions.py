"""torch.special's Bessel functions, zeta, Airy Ai and orthogonal polynomials against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

pytest.importorskip("scipy")

X = np.array([0.0, 0.3, 1.0, 2.5, 7.0, 20.0], dtype=np.float64)
XS = np.array([-2.0, -0.7, 0.0, 0.4, 1.0, 3.0], dtype=np.float64)

UNARY = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "airy_ai"]
POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_special_functions_match_torch(name, dtype) -> None:
    x = XS if name in ("airy_ai", "spherical_bessel_j0") else X
    if name.startswith(("bessel_y", "modified_bessel_k", "scaled_modified_bessel_k")):
        x = x[x > 0]
    ours = getattr(ember.special, name)(ember.tensor(x.astype(dtype)))
    theirs = getattr(torch.special, name)(torch.tensor(x.astype(dtype)))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    # torch's float64 Bessel J/Y are accurate to ~1e-8 (scipy's to ~1e-15)
    loose = dtype == "float32" or name.startswith("bessel_")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5 if loose else 1e-10,
                               atol=1e-6 if loose else 1e-12)


@pytest.mark.parametrize("name", POLYS)
def test_polynomials_match_torch(name) -> None:
    x = np.linspace(-0.9, 0.9, 7) if "chebyshev" in name or "legendre" in name else \
        np.linspace(-2, 3, 7)
    if name.startswith("shifted"):
        x = (x + 1) / 2
    for n in (0, 1, 2, 5, torch.tensor([0, 1, 2, 3, 4, 6, -1])):
        n_e = ember.tensor(n.numpy()) if isinstance(n, torch.Tensor) else n
        ours = getattr(ember.special, name)(ember.tensor(x), n_e)
        theirs = getattr(torch.special, name)(torch.tensor(x), n)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=f"{name} n={n}")


def test_zeta_matches_torch_and_backward_raises() -> None:
    x, q = np.array([2.0, 3.0, 4.5]), np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(ember.special.zeta(ember.tensor(x), ember.tensor(q)).numpy(),
                               torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ember.special.zeta(ember.tensor(x), 1.0).numpy(),
                               torch.special.zeta(torch.tensor(x), 1.0).numpy(), rtol=1e-12)
    for lib in (torch, ember):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            lib.special.bessel_j0(t).sum().backward()
