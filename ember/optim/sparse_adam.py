"""SparseAdam: lazy Adam for sparse gradients (nn.Embedding(sparse=True)).

Only the rows present in the gradient move, and only their moments decay (torch's formula):

    m[rows] += (1 - beta1) * (g - m[rows])
    v[rows] += (1 - beta2) * (g^2 - v[rows])
    p[rows] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[rows] / (sqrt(v[rows]) + eps)

where t counts this parameter's steps (an int, as torch keeps it).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..sparse.storage import COO
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, zeros_state


class SparseAdam(Optimizer):
    """torch.optim.SparseAdam: Adam that updates only the rows a sparse gradient touches.

    >>> emb = ember.nn.Embedding(1000, 16, sparse=True)
    >>> opt = ember.optim.SparseAdam(emb.parameters(), lr=1e-2)
    """

    _supports_sparse_grads = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        sparse, complex_ = [], []
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse.append([i, j])
                if p.is_complex():
                    complex_.append([i, j])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")
        if complex_:
            raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not "
                             "support complex parameters")

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not isinstance(grad, COO):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                               "Adam instead")
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            grad = -grad
        grad = grad.coalesce()  # the update is non-linear: one value per row
        if grad.nnz == 0:
            return
        rows = tuple(grad.indices)
        values = grad.values
        xp = backend.module_of(values)
        m, v, p = state["exp_avg"]._data, state["exp_avg_sq"]._data, param._data

        old_m = m[rows]
        m_update = (values - old_m) * (1 - beta1)
        m[rows] += m_update
        old_v = v[rows]
        v_update = (values * values - old_v) * (1 - beta2)
        v[rows] += v_update

        numer = m_update + old_m  # the new moments of these rows, without reading them back
        denom = xp.sqrt(v_update + old_v) + group["eps"]
        step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        p[rows] += -step_size * (numer / denom)
