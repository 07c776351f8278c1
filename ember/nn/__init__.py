"""ember.nn: neural-network building blocks (layers arrive with the nn issue)."""

from . import functional

__all__ = ["functional"]
