"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993): each weight has its own step
size, grown while its gradient keeps its sign and shrunk when the sign flips; only the sign of
the gradient is used, never its size.

With g the gradient (-grad when maximize) and g_prev the one remembered from the last step:

    g * g_prev > 0:  step_size = min(step_size * etaplus,  step_size_max)
    g * g_prev < 0:  step_size = max(step_size * etaminus, step_size_min),  g = 0
    otherwise:       step_size unchanged
    p      = p - sign(g) * step_size
    g_prev = g
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    check_fused_foreach,
    check_lr,
    count_step,
    scalar_state,
    zeros_state,
)


class Rprop(Optimizer):
    """Rprop, as torch.optim.Rprop (same arguments, defaults, update and state).

    >>> opt = ember.optim.Rprop(model.parameters(), lr=0.01, etas=(0.5, 1.2))
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["prev"] = zeros_state(param)
        state["step_size"] = zeros_state(param, fill_value=float(group["lr"]))

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        xp = backend.module_of(p)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        count_step(state)
        if group["maximize"]:
            grad = -grad
        prev, step_size = state["prev"]._data, state["step_size"]._data

        agreement = xp.sign(grad * prev)
        factor = xp.ones_like(step_size)  # in the parameter's dtype, as torch's sign tensor
        factor[agreement > 0] = etaplus
        factor[agreement < 0] = etaminus
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)

        grad = xp.where(agreement < 0, 0, grad).astype(p.dtype, copy=False)  # flipped: no move
        p -= xp.sign(grad) * step_size
        prev[...] = grad

