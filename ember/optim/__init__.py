"""ember.optim: optimizers (one file each, torch's formulas) and learning-rate schedulers.

    opt = ember.optim.AdamW(model.parameters(), lr=3e-4)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in data:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

Also: `LBFGS` (step(closure)), `Rprop`, `ASGD`, `Adafactor`, `Muon` (2-D weights), and `swa_utils` (AveragedModel, SWALR, update_bn)
for weight averaging.
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "ASGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LBFGS",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "SGD",
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
]
