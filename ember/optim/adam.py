"""Adam: adaptive moment estimation (Kingma & Ba, 2014), optionally AMSGrad.

At step t, with g the gradient (-grad when maximize):

    g   = g + weight_decay * p             (L2 penalty; AdamW decays p instead, see adamw.py)
    m   = beta1 * m + (1 - beta1) * g      first moment
    v   = beta2 * v + (1 - beta2) * g^2    second moment
    v_max = max(v_max, v), used instead of v   (amsgrad)
    p   = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, kernels
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


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (same arguments, defaults and update)."""

    _sparse_grad_message = ("Adam does not support sparse gradients, please consider "
                            "SparseAdam instead")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_hyperparameters(betas=betas, lr=lr, eps=eps, weight_decay=weight_decay)
        check_fused_foreach(fused, foreach, differentiable)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        t = count_step(state)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        v_max = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        if kernels.usable_float(p, grad, m, v, v_max):  # the same update in one loop
            kernels.load("adam").step(p, grad, m, v, v_max, t, lr, (beta1, beta2), eps,
                                      weight_decay, group["decoupled_weight_decay"],
                                      group["maximize"])
            return
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * p

        tmp = xp.empty_like(m)  # one scratch buffer for the whole update
        xp.subtract(grad, m, out=tmp)
        tmp *= 1 - beta1
        m += tmp  # m = beta1 * m + (1 - beta1) * g
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp  # v = beta2 * v + (1 - beta2) * g^2
        if v_max is not None:
            xp.maximum(v_max, v, out=v_max)
            v = v_max

        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = xp.sqrt(v, out=tmp)
        denom /= math.sqrt(bias_correction2)
        denom += eps  # sqrt(v_hat) + eps
        update = xp.divide(m, denom, out=tmp)
        update *= lr / bias_correction1
        p -= update
