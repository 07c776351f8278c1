"""Reverse-mode automatic differentiation: the graph, the backward engine, and its controls."""

from __future__ import annotations

from . import anomaly_mode, finite_differences, function, grad_mode, graph, node
from . import tensor_math  # noqa: F401 (registers the differentiable namespace)
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .finite_differences import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)


def Variable(data: object, requires_grad: bool = False, volatile: bool = False) -> object:  # noqa: N802
    """The pre-0.4 torch wrapper: now simply the tensor (with requires_grad set)."""
    if requires_grad:
        data.requires_grad_(True)  # type: ignore[attr-defined]
    return data


__all__ = [
    "Function", "FunctionCtx", "GradcheckError", "anomaly_mode", "backward", "detect_anomaly",
    "Variable", "enable_grad", "function", "grad", "grad_mode", "gradcheck", "gradgradcheck",
    "graph",
    "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled",
    "no_grad", "node",
    "once_differentiable", "set_detect_anomaly", "set_grad_enabled",
]
