"""Derive the coefficients of Ember's fast float32 normal CDF (ember/ops/special.py).

    Phi(x) = 1/2 + x P(u) / Q(u),   u = x^2 / X^2,   |x| <= X = 3.92 sqrt(2)

with P and Q of degree 5 and Q(0) = 1, evaluated in float64. Beyond X, Phi rounds to 0 or 1 in float32. The fit is
a linearised least-squares fit of erf(y)/y as a rational function of y^2 (P - f Q = 0),
reweighted over 30 rounds towards the minimax (equal-ripple) solution. Needs scipy.

    python tools/fit_normal_cdf.py
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, ndtr

T = 3.92                  # erf(3.92) = 1 - 5e-9: 1.0 in float32
X = T * np.sqrt(2)        # the same cut-off for Phi(x) = (1 + erf(x / sqrt 2)) / 2
DEGREE = 5


def fit(degree: int = DEGREE, rounds: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): erf(y) / y ~ sum a_i s^i / sum b_j s^j with s = y^2 / T^2, b_0 = 1."""
    y = np.concatenate([(1 - np.cos(np.linspace(0, np.pi, 4000))) * T / 2,
                        np.linspace(0, T, 4000)])
    s = (y / T) ** 2
    f = np.where(y > 0, erf(y) / np.where(y > 0, y, 1), 2 / np.sqrt(np.pi))
    weight, q = np.ones_like(s), np.ones_like(s)
    powers = np.vander(s, degree + 1, increasing=True)
    for _ in range(rounds):
        system = np.concatenate([powers, -f[:, None] * powers[:, 1:]], axis=1)
        scale = weight / (f * q)
        solution, *_ = np.linalg.lstsq(system * scale[:, None], f * scale, rcond=None)
        a, b = solution[:degree + 1], np.concatenate([[1.0], solution[degree + 1:]])
        q = powers @ b
        error = np.abs(powers @ a / q - f) / f
        weight *= 1 + error / error.max()
        weight /= weight.mean()
    return a, b


def main() -> None:
    a, b = fit()
    p = a / (2 * np.sqrt(2))  # Phi - 1/2 = erf(x / sqrt 2) / 2 and x / sqrt 2 = y
    print("NUMERATOR =", [float(c) for c in p])
    print("DENOMINATOR =", [float(c) for c in b])
    x = np.linspace(-8, 8, 4_000_001)
    xc = np.clip(x, -X, X)
    u = xc * xc / X**2
    num, den = np.polyval(p[::-1], u), np.polyval(b[::-1], u)
    phi = np.clip(0.5 + xc * (num / den), 0, 1)
    print(f"max |error| on [-8, 8], float64 evaluation: {np.abs(phi - ndtr(x)).max():.2e}")


if __name__ == "__main__":
    main()
