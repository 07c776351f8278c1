"""Errors about a layer's input that name the layer by its path in the model.

A layer raises `LayerInputError` with what is wrong; every Module it passes through on its way
out fills in where it happened, so the user reads `features.3 (Conv2d): ...` instead of a
traceback into array code.
"""

from __future__ import annotations

from typing import Any


class LayerInputError(RuntimeError):
    """Bad input to a layer (wrong channels, too small for the kernel...)."""

    def __init__(self, detail: str, op: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.op = op  # the function's name, shown when no layer is known (F.conv2d(...))
        self.module: Any = None
        self.path: str | None = None

    def locate(self, module: Any) -> None:
        """Called by each Module the error passes through: the innermost is the culprit, the
        outermost knows its full dotted path."""
        if self.module is None:
            self.module = module
            return
        for name, sub in module.named_modules():
            if sub is self.module:
                self.path = name
                break

    def __str__(self) -> str:
        if self.module is None:
            return f"{self.op}: {self.detail}" if self.op else self.detail
        kind = type(self.module).__name__
        where = f"{self.path} ({kind})" if self.path else kind
        return f"{where}: {self.detail}"
