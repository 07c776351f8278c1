"""`ember train`: a complete, resumable training run of an image classifier.

Data are split into train/validation/test; the model trains with the canonical loop, stops
early when the validation loss stops improving, and is finally scored on the test set with
the weights of its best validation epoch. With `checkpoint`, every epoch is saved (model,
optimizer, scheduler, early-stopping state, history and RNG states), so `resume` continues a
stopped run bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Any

from .. import backend, nn, optim, random
from ..autograd.grad_mode import no_grad
from ..serialization import load, save
from ..utils.data import DataLoader, TensorDataset
from . import catalog
from .augment import random_crop_flip
from .early_stopping import EarlyStopping
from .loop import evaluate, train_epoch
from .options import require_checkpoint_for_resume, require_choice
from .report import Progress, plot_curves, write_json_atomic


@dataclasses.dataclass
class TrainConfig:
    model: str = "mlp"
    dataset: str = "digits"
    epochs: int | None = None  # None: the dataset's default
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str = "adamw"
    weight_decay: float = 1e-2
    scheduler: str = "cosine"
    device: str = "cpu"
    seed: int = 0
    checkpoint: str | None = None
    resume: bool = False
    patience: int = 5
    augment: bool = False  # random crops (2-4 px) and horizontal flips of training batches
    val_fraction: float = 0.1
    max_grad_norm: float | None = 1.0
    num_workers: int = 0
    log_dir: str | None = None
    progress: bool = True
    verbose: bool = True


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULERS = ("none", "cosine", "step", "onecycle", "plateau")


def _resolve(config: TrainConfig) -> TrainConfig:
    require_choice("dataset", config.dataset, catalog.DATASETS)
    require_choice("model", config.model, catalog.MODELS)
    require_choice("optimizer", config.optimizer, OPTIMIZERS)
    require_choice("scheduler", config.scheduler, SCHEDULERS)
    require_checkpoint_for_resume(config.resume, config.checkpoint)
    spec = catalog.DATASETS[config.dataset]
    return dataclasses.replace(
        config,
        epochs=config.epochs if config.epochs is not None else spec.epochs,
        batch_size=config.batch_size if config.batch_size is not None else spec.batch_size,
        lr=config.lr if config.lr is not None else spec.lr,
    )


def _data(config: TrainConfig) -> tuple:
    """Normalized (train, val, test) TensorDatasets; the split depends only on the seed."""
    spec = catalog.DATASETS[config.dataset]
    x_train, y_train = catalog.as_tensors(spec.load(True))
    x_test, y_test = catalog.as_tensors(spec.load(False))
    split = random.Generator().manual_seed(config.seed)
    order = random.randperm(len(x_train), generator=split)
    n_val = int(round(config.val_fraction * len(x_train)))
    val_idx, train_idx = order[:n_val], order[n_val:]
    x_val, y_val = x_train[val_idx], y_train[val_idx]
    x_train, y_train = x_train[train_idx], y_train[train_idx]
    axes = (0, 2, 3)  # per-channel statistics of the training images
    mean = x_train.mean(axes, keepdim=True)
    std = x_train.std(axes, keepdim=True).clamp_min(1e-6)
    norm = [((x - mean) / std) for x in (x_train, x_val, x_test)]
    return (TensorDataset(norm[0], y_train), TensorDataset(norm[1], y_val),
            TensorDataset(norm[2], y_test), tuple(x_train.shape[1:]), spec.num_classes)


def _optimizer(config: TrainConfig, params: Any) -> Any:
    lr, wd = config.lr, config.weight_decay
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd)
    if config.optimizer == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd)
    return optim.Adagrad(params, lr=lr, weight_decay=wd)


def _scheduler(config: TrainConfig, optimizer: Any, steps_per_epoch: int) -> tuple:
    """(scheduler, when): when is 'batch', 'epoch' or 'metric' (ReduceLROnPlateau)."""
    sched = optim.lr_scheduler
    if config.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=config.epochs), "epoch"
    if config.scheduler == "step":
        return sched.StepLR(optimizer, step_size=max(config.epochs // 3, 1), gamma=0.1), "epoch"
    if config.scheduler == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=config.lr, epochs=config.epochs,
                                steps_per_epoch=steps_per_epoch), "batch"
    if config.scheduler == "plateau":
        return sched.ReduceLROnPlateau(optimizer, patience=2), "metric"
    return None, "epoch"


def _say(config: TrainConfig, text: str) -> None:
    if config.verbose:
        print(text, flush=True)


def run(config: TrainConfig) -> dict:
    """Train, validate, test; return a summary (also written to log.json)."""
    config = _resolve(config)
    device = backend.as_device(config.device)
    random.manual_seed(config.seed)
    train_set, val_set, test_set, shape, classes = _data(config)
    loader_gen = random.Generator().manual_seed(config.seed + 1)
    train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                              generator=loader_gen, num_workers=config.num_workers)
    val_loader = DataLoader(val_set, batch_size=512)
    test_loader = DataLoader(test_set, batch_size=512)

    model = catalog.MODELS[config.model].build(shape, classes).to(device)
    augment = None
    if config.augment:
        padding = max(shape[1] // 8, 1)  # 4 px for 32x32, 3 for 28x28

        def augment(x: Any) -> Any:
            return random_crop_flip(x, padding)
    optimizer = _optimizer(config, model.parameters())
    scheduler, sched_when = _scheduler(config, optimizer, len(train_loader))
    loss_fn = nn.CrossEntropyLoss()
    stopper = EarlyStopping(config.patience)
    history: list = []
    best_state = None
    start_epoch = 1
    ckpt_dir = config.checkpoint
    log_dir = config.log_dir or ckpt_dir or os.path.join(
        "runs", f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")

    if config.resume:
        state = load(os.path.join(ckpt_dir, "last.ckpt"), map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        stopper.load_state_dict(state["early_stopping"])
        history = state["history"]
        best_state = state.get("best_model")
        random.set_rng_state(state["rng"]["ember"])
        loader_gen.set_state(state["rng"]["loader"])
        start_epoch = state["epoch"] + 1
        _say(config, f"resuming from {ckpt_dir} after epoch {state['epoch']}")
        if state.get("stopped"):
            start_epoch = config.epochs + 1

    params = sum(p.numel() for p in model.parameters())
    _say(config, f"training {config.model} ({params:,} parameters) on {config.dataset}: "
                 f"{len(train_set)} train / {len(val_set)} val / {len(test_set)} test images, "
                 f"{config.epochs} epochs, {config.optimizer} lr={config.lr}, "
                 f"{config.scheduler} schedule, device {device}")
    started = time.perf_counter()
    stopped = False
    for epoch in range(start_epoch, config.epochs + 1):
        progress = Progress(len(train_set), f"epoch {epoch}/{config.epochs}", config.progress)
        train = train_epoch(model, train_loader, loss_fn, optimizer,
                            scheduler if sched_when == "batch" else None, config.max_grad_norm,
                            device, progress.update, augment)
        progress.close()
        val = evaluate(model, val_loader, loss_fn, device)
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None and sched_when == "epoch":
            scheduler.step()
        elif scheduler is not None and sched_when == "metric":
            scheduler.step(val.loss)
        stopped = stopper.step(val.loss)
        if stopper.improved:
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        history.append({"epoch": epoch, "train_loss": train.loss, "train_acc": train.accuracy,
                        "val_loss": val.loss, "val_acc": val.accuracy, "lr": lr,
                        "samples_per_s": train.throughput, "seconds": train.seconds})
        _say(config, f"epoch {epoch:3d}/{config.epochs}  train loss {train.loss:.4f} "
                     f"acc {train.accuracy:6.2%}  val loss {val.loss:.4f} acc {val.accuracy:6.2%}"
                     f"  lr {lr:.2e}  {train.throughput:,.0f} samples/s")
        if ckpt_dir:
            save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict() if scheduler is not None else None,
                  "early_stopping": stopper.state_dict(), "history": history, "epoch": epoch,
                  "best_model": best_state, "stopped": stopped,
                  "rng": {"ember": random.get_rng_state(), "loader": loader_gen.get_state()},
                  "config": dataclasses.asdict(config)},
                 os.path.join(ckpt_dir, "last.ckpt"))
        if stopped:
            _say(config, f"early stopping: validation loss has not improved for "
                         f"{config.patience} epochs (best {stopper.best:.4f})")
            break

    if best_state is not None:
        with no_grad():
            model.load_state_dict(best_state)
        if ckpt_dir:
            save(best_state, os.path.join(ckpt_dir, "best_model.ckpt"))
    test = evaluate(model, test_loader, loss_fn, device)
    seconds = time.perf_counter() - started
    summary = {
        "config": dataclasses.asdict(config),
        "parameters": params,
        "history": history,
        "best_val_loss": stopper.best if math.isfinite(stopper.best) else None,
        "test_loss": test.loss,
        "test_accuracy": test.accuracy,
        "seconds": seconds,
    }
    write_json_atomic(os.path.join(log_dir, "log.json"), summary)
    plotted = bool(history) and plot_curves(history, os.path.join(log_dir, "curves.png"))
    _say(config, f"test accuracy {test.accuracy:.2%} (loss {test.loss:.4f}) in {seconds:.1f}s; "
                 f"log: {os.path.join(log_dir, 'log.json')}"
                 + (f", curves: {os.path.join(log_dir, 'curves.png')}" if plotted else ""))
    return summary

