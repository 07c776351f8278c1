"""Adafactor (Shazeer & Stern, 2018), in torch.optim.Adafactor's variant: no first moment, and
the second moment of a matrix is kept factored as a row and a column mean (O(R + C) memory).

At step t, with g the gradient (-grad when maximize), eps = (eps1, eps2):

    beta2_t = 1 - t^beta2_decay                   (so 1 - beta2_t = t^beta2_decay)
    rho     = min(lr, 1 / sqrt(t))
    alpha   = max(eps2, rms(p)) * rho             (a relative step size, p before the decay)
    p       = p * (1 - lr * weight_decay)
    matrix:  r = lerp(r, mean(g^2, -1), 1 - beta2_t);  c = lerp(c, mean(g^2, -2), 1 - beta2_t)
             v = (r @ c) / max(mean(r, -2), eps1)
    vector:  v = lerp(v, g^2, 1 - beta2_t)
    u       = g / sqrt(max(v, eps1^2))
    p       = p - alpha / max(1, rms(u) / d) * u  (update clipping at threshold d)

eps1=None means the machine epsilon of the parameter's dtype.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, count_step, scalar_state


class Adafactor(Optimizer):
    """Adafactor, as torch.optim.Adafactor (same arguments, defaults, update and state keys:
    `step`, and `row_var`/`col_var` for parameters with 2+ dims or `variance` otherwise)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        if param.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        data = param._data
        xp = backend.module_of(data)
        state["step"] = scalar_state(0.0)
        if data.ndim > 1:  # the factored second moment: one mean per row, one per column
            state["row_var"] = Tensor._make(xp.zeros(data.shape[:-1] + (1,), dtype=data.dtype))
            state["col_var"] = Tensor._make(
                xp.zeros(data.shape[:-2] + (1,) + data.shape[-1:], dtype=data.dtype))
        else:
            state["variance"] = Tensor._make(xp.zeros_like(data))

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        lr, weight_decay, d = float(group["lr"]), group["weight_decay"], group["d"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(xp.finfo(p.dtype).eps)
        if group["maximize"]:
            grad = -grad
        t = count_step(state)
        one_minus_beta2_t = t ** group["beta2_decay"]
        rho_t = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, float(xp.linalg.norm(p.ravel())) / math.sqrt(p.size)) * rho_t
        if weight_decay != 0:
            p *= 1 - lr * weight_decay

        square = grad * grad
        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            row_var += (square.mean(axis=-1, keepdims=True) - row_var) * one_minus_beta2_t
            col_var += (square.mean(axis=-2, keepdims=True) - col_var) * one_minus_beta2_t
            var_estimate = row_var @ col_var  # (..., R, 1) @ (..., 1, C): the rank-1 estimate
            var_estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            variance += (square - variance) * one_minus_beta2_t
            var_estimate = variance.copy()

        update = grad / xp.sqrt(xp.maximum(var_estimate, eps1 * eps1))
        denom = max(1.0, float(xp.linalg.norm(update.ravel())) / (math.sqrt(update.size) * d))
        p -= (alpha / denom) * update
