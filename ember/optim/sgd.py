"""SGD: stochastic gradient descent, optionally with (Nesterov) momentum.

    g = grad (+ weight_decay * p)             (-grad when maximize)
    b = g                                     on the first step
    b = momentum * b + (1 - dampening) * g    afterwards
    g = g + momentum * b  (nesterov)   or   g = b
    p = p - lr * g

Sparse gradients (nn.Embedding(sparse=True)) update only their rows; the momentum buffer is
then sparse too, and weight decay is refused, as torch.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..sparse.storage import COO, add_into
from ..sparse.tensor import SparseTensor
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_fused_foreach, check_hyperparameters


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD (same arguments, defaults and formula)."""

    _supports_sparse_grads = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_fused_foreach(fused, foreach, differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if isinstance(grad, COO):
            self._sparse_update(param, grad, state, group)
            return
        p = param._data
        xp = backend.module_of(p)
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step starts the buffer at the gradient itself
                state["momentum_buffer"] = Tensor._make(xp.array(grad, copy=True))
                buf = state["momentum_buffer"]._data
            else:
                buf = buf._data
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p -= lr * grad

    def _sparse_update(self, param: Tensor, grad: COO, state: dict[str, Any],
                       group: dict[str, Any]) -> None:
        """The same formula on a sparse gradient: only its rows move."""
        momentum = group["momentum"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        step: Any = grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = SparseTensor._wrap(grad.copy())
            elif isinstance(buf._data, COO):  # coalesced, so that it does not grow each step
                buf._data = (buf._data * momentum + grad * (1 - group["dampening"])).coalesce()
            else:
                buf._data *= momentum
                add_into(buf._data, grad, 1 - group["dampening"])
            step = grad + buf._data * momentum if group["nesterov"] else buf._data
        add_into(param._data, step, -group["lr"])
