"""torch.utils.data._utils's import paths (`_utils.collate`), which custom collate code uses."""

from . import collate

__all__ = ["collate"]
