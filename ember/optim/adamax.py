"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2014).

    g = grad (+ weight_decay * p)            (-grad when maximize)
    m = beta1 * m + (1 - beta1) * g
    u = max(beta2 * u, |g| + eps)
    p = p - lr / (1 - beta1^t) * m / u
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


class Adamax(Optimizer):
    """Adamax, as torch.optim.Adamax (same arguments, defaults and update)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_hyperparameters(betas=betas, lr=lr, eps=eps, weight_decay=weight_decay)
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = zeros_state(param)
        state["exp_inf"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        beta1, beta2 = group["betas"]
        t = count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p

        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        m += (1 - beta1) * (grad - m)  # m = beta1 * m + (1 - beta1) * g
        u *= beta2
        norm = xp.abs(grad, out=xp.empty_like(u))
        norm += group["eps"]
        xp.maximum(u, norm, out=u)  # u = max(beta2 * u, |g| + eps)

        step = xp.divide(m, u, out=norm)
        step *= group["lr"] / (1 - beta1**t)
        p -= step
