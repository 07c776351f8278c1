"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients.

    g     = grad (+ weight_decay * p)            (-grad when maximize)
    lr_t  = lr / (1 + (t - 1) * lr_decay)
    s     = s + g^2                              (s starts at initial_accumulator_value)
    p     = p - lr_t * g / (sqrt(s) + eps)

A sparse gradient is coalesced and updates only its rows (torch's sparse path); weight decay
is refused with it, as torch.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..sparse.storage import COO, add_into
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


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad (same arguments, defaults and update)."""

    _supports_sparse_grads = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        check_fused_foreach(fused, foreach, differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # torch fills the accumulators of every parameter up front, not at its first step
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, self.state[param], group)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        # like torch, the constructor's value (not a group's) seeds every accumulator
        state["sum"] = zeros_state(param, self.defaults["initial_accumulator_value"])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        t = count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            if isinstance(grad, COO):
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            grad = grad + group["weight_decay"] * p
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        if isinstance(grad, COO):
            grad = grad.coalesce()  # the update is non-linear: one value per row
            state_sum = state["sum"]._data
            add_into(state_sum, grad.like(grad.values * grad.values), 1)
            std = xp.sqrt(state_sum[tuple(grad.indices)]) + group["eps"]
            add_into(p, grad.like(grad.values / std), -clr)
            return

        state_sum = state["sum"]._data
        state_sum += grad * grad  # s = s + g^2
        std = xp.sqrt(state_sum, out=xp.empty_like(state_sum))
        std += group["eps"]
        step = xp.divide(grad, std, out=std)
        step *= clr
        p -= step
