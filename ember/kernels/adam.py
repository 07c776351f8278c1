"""Adam's update of one parameter as a single loop (see kernels/__init__.py for why).

The formulas are those of optim/adam.py (numpy's version there makes ~10 passes over the
parameter's size with one scratch buffer; this makes one):
    g = -g (maximize);  p = p (1 - lr wd) (decoupled)  or  g = g + wd p (L2)
    m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2,   v_max = max(v_max, v)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
The per-step scalars are computed in Python in float64 and passed in the parameter's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from .approx import jit_cached


@jit_cached
def _step(p, g, m, v, v_max, amsgrad, sign, decay, l2, one_minus_beta1,  # noqa: ANN001, ANN202
          beta2, one_minus_beta2, sqrt_bc2, eps, step_size):
    for i in range(p.size):
        grad = sign * g[i]
        if l2 != 0:  # (not 0 * p: an inf weight would turn every gradient into NaN)
            grad += l2 * p[i]
        m[i] += one_minus_beta1 * (grad - m[i])
        v[i] = beta2 * v[i] + one_minus_beta2 * grad * grad
        second = v[i]
        if amsgrad:
            if second > v_max[i]:
                v_max[i] = second
            second = v_max[i]
        p[i] = p[i] * decay - m[i] / (np.sqrt(second) / sqrt_bc2 + eps) * step_size


def step(p: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray,
         v_max: np.ndarray | None, t: float, lr: float, betas: tuple, eps: float,
         weight_decay: float, decoupled: bool, maximize: bool) -> None:
    """One Adam step on C-contiguous arrays of one float dtype, in place (p, m, v, v_max)."""
    beta1, beta2 = betas
    f = p.dtype.type
    decay = 1 - lr * weight_decay if decoupled else 1.0
    l2 = 0.0 if decoupled else weight_decay
    amsgrad = v_max is not None
    _step(p.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
          (v_max if amsgrad else v).reshape(-1), amsgrad, f(-1 if maximize else 1), f(decay),
          f(l2), f(1 - beta1), f(beta2), f(1 - beta2), f(math.sqrt(1 - beta2**t)), f(eps),
          f(lr / (1 - beta1**t)))
