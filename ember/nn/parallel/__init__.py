"""torch.nn.parallel: DataParallel (Ember runs each replica in its own process, so here the
module runs whole on one device) and DistributedDataParallel (one replica per MPI process)."""

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
