"""Training runs for `ember train`: the canonical loop, early stopping, checkpoints, logs."""

from .catalog import DATASETS, MODELS, register_model
from .early_stopping import EarlyStopping
from .loop import evaluate, train_epoch
from .trainer import TrainConfig, run

__all__ = ["DATASETS", "MODELS", "EarlyStopping", "TrainConfig", "evaluate", "register_model",
           "run", "train_epoch"]
