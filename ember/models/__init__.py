"""ember.models: readable reference models (torchvision-compatible names where torchvision has
them). Each architecture is one file that reads top-down like its diagram."""

from .mlp import MLP, mlp

__all__ = ["MLP", "mlp"]
