"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992).

Plain SGD with a decaying step size eta, plus a running average `ax` of the iterates, which
starts once the step count passes t0 (`ax` is what one evaluates; the parameters keep moving).
At step t, with g the gradient (-grad when maximize):

    g   = g + weight_decay * p
    p   = p * (1 - lambd * eta) - eta * g
    ax  = ax + mu * (p - ax)                     (ax = p while mu == 1)
    eta = lr / (1 + lambd * lr * t) ** alpha
    mu  = 1 / max(1, t - t0)

As in torch, `eta` and `mu` are float32 scalars, so their values are float32-rounded.
"""

from __future__ import annotations

from typing import Any

from ..dtypes import float32
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    check_fused_foreach,
    check_hyperparameters,
    check_lr,
    count_step,
    scalar_state,
    zeros_state,
)

_FLOAT32 = float32.np.type  # rounds a Python float to float32


class ASGD(Optimizer):
    """ASGD, as torch.optim.ASGD (same arguments, defaults, update and state, `ax` included).

    >>> opt = ember.optim.ASGD(model.parameters(), lr=0.01, t0=100)
    >>> averaged = opt.state[p]["ax"]  # the averaged value of parameter p
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_hyperparameters(weight_decay=weight_decay)
        check_fused_foreach(None, foreach, differentiable)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = scalar_state(0.0)
        state["eta"] = scalar_state(float(group["lr"]))
        state["mu"] = scalar_state(1.0)
        state["ax"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        lr, lambd, alpha = float(group["lr"]), group["lambd"], group["alpha"]
        t = count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p

        eta, mu = float(state["eta"]._data), float(state["mu"]._data)
        p *= 1 - lambd * eta  # decay
        p -= eta * grad  # SGD step
        ax = state["ax"]._data
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p

        # torch rounds the new values to float32 even where loading made eta and mu float64
        state["eta"]._data[...] = _FLOAT32(lr / ((1 + lambd * lr * t) ** alpha))
        state["mu"]._data[...] = _FLOAT32(1 / max(1, t - group["t0"]))
