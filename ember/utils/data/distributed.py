"""`torch.utils.data.distributed`'s import path for DistributedSampler."""

from .sampler import DistributedSampler

__all__ = ["DistributedSampler"]
