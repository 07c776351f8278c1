"""ember.optim.lr_scheduler: torch's learning-rate schedulers, same names and semantics.

The code lives in `ember/optim/schedulers/`: `base.py` (LRScheduler), `decay.py` (factor
schedules), `cyclic.py` (cosine, cyclic, one-cycle), `plateau.py` (ReduceLROnPlateau) and
`composite.py` (SequentialLR, ChainedScheduler).
"""

from .schedulers.base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler
from .schedulers.composite import ChainedScheduler, SequentialLR
from .schedulers.cyclic import CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .schedulers.decay import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .schedulers.plateau import ReduceLROnPlateau

__all__ = [
    "EPOCH_DEPRECATION_WARNING",
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "_LRScheduler",
]
