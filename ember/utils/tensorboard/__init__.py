"""ember.utils.tensorboard: SummaryWriter, writing TensorBoard event files.

The file format is small enough to write directly (records of protobuf-encoded `Event`s, each
framed by its length and masked CRC-32C checksums), so logging needs neither the tensorboard
package nor protobuf; `tensorboard --logdir runs` reads the files as it reads torch's.
"""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
