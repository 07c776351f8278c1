"""Utilities: DLPack interchange and data loading (ember.utils.data)."""

from . import data, dlpack

__all__ = ["data", "dlpack"]
