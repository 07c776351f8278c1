"""Derive the coefficients of Ember's fast float32 normal CDF (ember/ops/special.py).

    Phi(x) = 1/2 + tanh(x P(x^2)) / 2,   |x| <= X = 3.92 sqrt(2),   P of degree 6

so that one SIMD tanh and a short polynomial replace erf (numpy has no erf; scipy's loops
over scalars). Beyond X, Phi rounds to 0 or 1 in float32. P fits atanh(2 Phi(x) - 1) / x by
least squares, weighted by how much an error in P moves Phi (x (1 - tanh^2) / 2) and
reweighted over 30 rounds towards the minimax (equal-ripple) fit. Needs scipy.

    python tools/fit_normal_cdf.py
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, ndtr

X = 3.92 * np.sqrt(2)  # erf(3.92) = 1 - 5e-9: 1.0 in float32
DEGREE = 6


def fit(degree: int = DEGREE, rounds: int = 30) -> np.ndarray:
    """Coefficients of P in powers of x^2 (lowest first)."""
    x = np.concatenate([(1 - np.cos(np.linspace(0, np.pi, 6000))) * X / 2,
                        np.linspace(0, X, 6000)])
    x = x[x > 1e-6]
    s = (x / X) ** 2  # fit in [0, 1], where the powers are well conditioned
    t = erf(x / np.sqrt(2))
    target = np.arctanh(np.clip(t, -1 + 1e-16, 1 - 1e-16)) / x
    sensitivity = 0.5 * (1 - t * t) * x + 1e-12
    powers = np.vander(s, degree + 1, increasing=True)
    weight = sensitivity.copy()
    for _ in range(rounds):
        c, *_ = np.linalg.lstsq(powers * weight[:, None], target * weight, rcond=None)
        error = np.abs(powers @ c - target) * sensitivity
        weight *= 1 + error / error.max()
    return c / X ** (2 * np.arange(degree + 1))  # back to powers of x^2


def phi_float32(x: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The evaluation Ember does, in float32."""
    c = coefficients.astype(np.float32)
    xc = np.clip(x, np.float32(-X), np.float32(X))
    s = xc * xc
    p = np.full_like(s, c[-1])
    for a in c[-2::-1]:
        p = p * s + a
    return np.float32(0.5) + np.float32(0.5) * np.tanh(xc * p)


def main() -> None:
    c = fit()
    print("COEFFICIENTS =", [float(v) for v in c])
    x = np.linspace(-8, 8, 4_000_001).astype(np.float32)
    error = np.abs(phi_float32(x, c) - ndtr(x.astype(np.float64))).max()
    print(f"max |error| on [-8, 8] in float32: {error:.2e}")


if __name__ == "__main__":
    main()
