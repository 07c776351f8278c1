"""Muon: momentum orthogonalized by Newton-Schulz (Jordan et al., 2024), for 2-D weights.

At step t, with g the gradient of a matrix parameter p (A x B):

    buf = mu * buf + (1 - mu) * g                      (a lerp: buf.lerp_(g, 1 - mu))
    u   = (1 - mu) * g + mu * buf   if nesterov else buf
    O   = NS(u): X = u / max(||u||_F, eps), transposed so that rows <= columns, then ns_steps of
          G = X X^T;   X = a X + (b G + c G G) X           (a quintic pushing singular values to ~1)
    p   = p * (1 - lr * weight_decay)                      (decoupled decay)
    p   = p - lr * s * O,  s = sqrt(max(1, A / B))  ("original") or 0.2 * sqrt(max(A, B))
                                                          ("match_rms_adamw")

As in torch, the Newton-Schulz iteration runs in bfloat16. Ember has no bfloat16 dtype, so the
iteration keeps float32 arrays rounded to bfloat16 after every operation (`_round_bf16`), which
is what torch's bfloat16 tensors hold.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, zeros_state

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Muon, as torch.optim.Muon (same arguments, defaults, update and `momentum_buffer` state).
    Only 2-D parameters: optimize biases and embeddings with e.g. AdamW."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.size()}"
                    )

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["momentum_buffer"] = zeros_state(param)

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        p = param._data
        lr, momentum = float(group["lr"]), group["momentum"]
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = state["momentum_buffer"]._data
        buf += (grad - buf) * (1 - momentum)  # buf.lerp_(g, 1 - mu)
        update = grad + (buf - grad) * momentum if group["nesterov"] else buf
        ortho = _zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                            group["ns_steps"], group["eps"])
        rows, cols = p.shape[:2]
        if group["adjust_lr_fn"] in (None, "original"):
            ratio = math.sqrt(max(1, rows / cols))
        elif group["adjust_lr_fn"] == "match_rms_adamw":
            ratio = 0.2 * math.sqrt(max(rows, cols))
        else:
            ratio = 1.0
        p *= 1 - lr * group["weight_decay"]
        p -= (lr * ratio) * ortho.astype(p.dtype)


def _round_bf16(x: Any) -> Any:
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32: the
    upper 16 bits of the float32 pattern, after adding the rounding bias to the lower 16."""
    xp = backend.module_of(x)
    bits = xp.array(x, dtype=xp.float32, order="C").view(xp.uint32)  # a copy, any shape
    bias = ((bits >> 16) & 1) + 0x7FFF
    rounded = ((bits + bias) & 0xFFFF0000).astype(xp.uint32)
    nan = xp.isnan(x)
    out = rounded.view(xp.float32)
    return xp.where(nan, xp.float32("nan"), out) if nan.any() else out


def _zeropower_via_newtonschulz(grad: Any, ns_coefficients: tuple[float, float, float],
                                ns_steps: int, eps: float) -> Any:
    """The Newton-Schulz orthogonalization of a matrix (about U V^T of its SVD), in bfloat16."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    xp = backend.module_of(grad)
    a, b, c = ns_coefficients
    x = _round_bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _round_bf16(xp.asarray(xp.sqrt(xp.sum(x * x, dtype=xp.float32)), dtype=xp.float32))
    x = _round_bf16(x / max(float(norm), eps))
    for _ in range(ns_steps):
        gram = _round_bf16(x @ x.T)
        gram_update = _round_bf16(b * gram + c * (gram @ gram))  # addmm(G, G, G, beta=b, alpha=c)
        x = _round_bf16(a * x + gram_update @ x)  # addmm(X, update, X, beta=a)
    return x.T if tall else x
