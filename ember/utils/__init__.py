"""Utilities: DLPack interchange, data loading (ember.utils.data) and activation checkpointing."""

from . import checkpoint, data, dlpack, hooks, tensorboard

__all__ = ["checkpoint", "data", "dlpack"]
