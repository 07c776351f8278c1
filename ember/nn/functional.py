"""ember.nn.functional: stateless math used by layers."""

from __future__ import annotations

from ..ops.pad import pad
from ..ops.softmax import log_softmax, softmax
from ..ops.unary import relu, sigmoid, tanh

__all__ = ["log_softmax", "pad", "relu", "sigmoid", "softmax", "tanh"]
