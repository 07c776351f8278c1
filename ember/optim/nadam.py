"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with torch's momentum-decay schedule.

    mu_t  = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))      (mu_{t+1} likewise)
    m, v  as in Adam;  prod_t = mu_1 * ... * mu_t
    denom = sqrt(v / (1 - beta2^t)) + eps
    p = p - lr * (1 - mu_t) / (1 - prod_t) * g / denom
          - lr * mu_{t+1} / (1 - prod_t * mu_{t+1}) * m / denom
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


class NAdam(Optimizer):
    """NAdam, as torch.optim.NAdam (same arguments, defaults and update)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_hyperparameters(betas=betas, lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["mu_product"] = scalar_state(1.0)  # float32, rounded each step, as in torch
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        lr, weight_decay, momentum_decay = (group["lr"], group["weight_decay"],
                                            group["momentum_decay"])
        beta1, beta2 = group["betas"]
        t = count_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product_data = state["mu_product"]._data
        mu_product_data *= mu
        mu_product = float(mu_product_data)

        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m += (1 - beta1) * (grad - m)  # m = beta1 * m + (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * grad * grad  # v = beta2 * v + (1 - beta2) * g^2
        denom = xp.divide(v, 1 - beta2**t, out=xp.empty_like(v))
        xp.sqrt(denom, out=denom)
        denom += group["eps"]

        p -= (lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
        p -= (lr * mu_next / (1.0 - mu_product * mu_next)) * m / denom

