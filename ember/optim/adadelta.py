"""Adadelta: step sizes from the ratio of running RMS of updates and gradients (Zeiler, 2012).

    g     = grad (+ weight_decay * p)                 (-grad when maximize)
    v     = rho * v + (1 - rho) * g^2
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u     = rho * u + (1 - rho) * delta^2
    p     = p - lr * delta
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import (
    check_hyperparameters,
    Optimizer,
    ParamsT,
    check_fused_foreach,
    count_step,
    scalar_state,
    zeros_state,
)


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta (same arguments, defaults and update)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyperparameters(lr=lr, eps=eps, weight_decay=weight_decay)
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["square_avg"] = zeros_state(param)
        state["acc_delta"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        rho, eps = group["rho"], group["eps"]
        count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p

        v, u = state["square_avg"]._data, state["acc_delta"]._data
        v *= rho
        v += (1 - rho) * grad * grad  # v = rho * v + (1 - rho) * g^2
        std = xp.sqrt(v + eps)
        delta = xp.sqrt(u + eps)
        delta /= std
        delta *= grad  # delta = sqrt(u + eps) / sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta * delta  # u = rho * u + (1 - rho) * delta^2
        delta *= group["lr"]
        p -= delta
