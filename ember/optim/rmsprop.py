"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (Hinton).

    g   = grad (+ weight_decay * p)              (-grad when maximize)
    v   = alpha * v + (1 - alpha) * g^2
    avg = sqrt(v) + eps,   or, centered:  sqrt(v - mean_g^2) + eps
          where mean_g = alpha * mean_g + (1 - alpha) * g
    b   = momentum * b + g / avg,  p = p - lr * b      (momentum > 0)
    p   = p - lr * g / avg                             (otherwise)
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


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop (same arguments, defaults and update)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                              alpha=alpha)
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["square_avg"] = zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p

        square_avg = state["square_avg"]._data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad  # v = alpha * v + (1 - alpha) * g^2
        avg = xp.empty_like(square_avg)
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg += (1 - alpha) * (grad - grad_avg)  # running mean of g
            xp.multiply(grad_avg, grad_avg, out=avg)
            xp.subtract(square_avg, avg, out=avg)
            xp.sqrt(avg, out=avg)  # sqrt(v - mean_g^2)
        else:
            xp.sqrt(square_avg, out=avg)
        avg += eps

        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += grad / avg
            p -= lr * buf
        else:
            step = xp.divide(grad, avg, out=avg)
            step *= lr
            p -= step
