"""The gradient convention check shared by the complex tests: central differences of a real
function of a complex array, in torch's convention (dL/dx + i dL/dy)."""

from __future__ import annotations

import numpy as np


def finite_difference(f, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dL/dx + i dL/dy of a real function L of a complex array, by central differences."""
    grad = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        for unit in (1, 1j):
            plus, minus = z.copy(), z.copy()
            plus[idx] += eps * unit
            minus[idx] -= eps * unit
            grad[idx] += unit * (f(plus) - f(minus)) / (2 * eps)
    return grad
