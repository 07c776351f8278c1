"""torch.nn.parallel: DataParallel (Ember runs each replica in its own process, so here the
module runs whole on one device)."""

from .data_parallel import DataParallel

__all__ = ["DataParallel"]
