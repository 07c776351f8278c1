"""Utilities: DLPack interchange (data loading arrives with ember.utils.data)."""

from . import dlpack

__all__ = ["dlpack"]
