"""ember.optim.swa_utils: weight averaging (torch.optim.swa_utils, same names and semantics).

Averaging the weights a model visits late in training often generalises better than the last
weights (SWA, Izmailov et al. 2018); an exponential moving average (EMA) of them is a smoother
copy of the model to evaluate. `AveragedModel` keeps the averaged copy:

    SWA (the default):  W_avg = W_avg + (W - W_avg) / (n + 1)      n = models averaged so far
    EMA:                W_avg = decay * W_avg + (1 - decay) * W

The first `update_parameters()` copies the model's weights. `SWALR` anneals the learning
rate to a constant `swa_lr` for the averaging phase, and `update_bn` recomputes the
BatchNorm statistics of the averaged weights with one pass over the data.

    swa_model = AveragedModel(model)                                     # or EMA:
    ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn(loader, swa_model)
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any, Literal

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..creation import tensor as _tensor
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..tensor import Tensor
from .optimizer import Optimizer
from .schedulers.base import LRScheduler, per_group

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]

ParamList = list[Tensor] | tuple[Tensor, ...]
AvgFn = Callable[[Tensor, Tensor, "Tensor | int"], Tensor]
MultiAvgFn = Callable[[ParamList, ParamList, "Tensor | int"], None]


# ---------------------------------------------------------------------- averaging functions
def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _lerp_(start: Tensor, end: Tensor, weight: float) -> None:
    """start += weight * (end - start) in place, with torch's two-sided formula (from the
    nearer end), in start's dtype."""
    a, b = start._data, end._data
    w = a.dtype.type(weight)
    diff = b - a
    if abs(w) < 0.5:
        a += w * diff
    else:
        a[...] = b - diff * (1 - w)
    start._bump_version()


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """EMA over lists of tensors, in place: W_avg = decay * W_avg + (1 - decay) * W."""
    _check_decay(decay)

    def ema_update(ema_param_list: ParamList, current_param_list: ParamList, _: Any) -> None:
        with no_grad():
            if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    _lerp_(p_ema, p_model, 1 - decay)
            else:  # integer buffers (use_buffers=True): the product is truncated back
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """SWA over lists of tensors, in place: W_avg = W_avg + (W - W_avg) / (n + 1).

    As in torch, a tensor `n` gives a float32 weight 1 / (n + 1)."""

    def swa_update(averaged_param_list: ParamList, current_param_list: ParamList,
                   num_averaged: Tensor | int) -> None:
        with no_grad():
            if not (averaged_param_list[0].is_floating_point()
                    or averaged_param_list[0].is_complex()):
                raise RuntimeError(_INTEGER_SWA_ERROR if isinstance(num_averaged, Tensor)
                                   else _INTEGER_ALPHA_ERROR)
            weight = float(1 / (num_averaged + 1))
            for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                _lerp_(p_avg, p_model, weight)

    return swa_update


_INTEGER_SWA_ERROR = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes."
)
_INTEGER_ALPHA_ERROR = (
    "For integral input tensors, argument alpha must not be a floating point number."
)


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """EMA of one tensor: returns decay * W_avg + (1 - decay) * W."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """SWA of one tensor: returns W_avg + (W - W_avg) / (n + 1)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor,
                   num_averaged: Tensor | int) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


# ---------------------------------------------------------------------- the averaged model
class AveragedModel(Module):
    """A copy of `model` whose weights are the running average (SWA, or EMA with `avg_fn` /
    `multi_avg_fn`) of the weights passed to `update_parameters`; calls forward to the copy.

    `use_buffers=True` averages the buffers too (BatchNorm statistics included); otherwise
    they are copied from the model at each update. `n_averaged` counts the updates.
    """

    n_averaged: Tensor

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            ours: Iterable[Tensor] = itertools.chain(self.module.parameters(),
                                                     self.module.buffers())
            theirs: Iterable[Tensor] = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        averaged, current = [], []
        first = int(self.n_averaged.item()) == 0
        with no_grad():
            for p_avg, p_model in zip(ours, theirs):  # noqa: B905 (torch's zip is not strict)
                p_model = p_model.detach().to(p_avg.device)
                averaged.append(p_avg.detach())
                current.append(p_model)
                if first:
                    p_avg.detach().copy_(p_model)

            if not first:
                self._average(averaged, current)
            if not self.use_buffers:  # keep the buffers in sync with the model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_avg.detach().copy_(b_model.detach().to(b_avg.device))
            self.n_averaged += 1

    def _average(self, averaged: list[Tensor], current: list[Tensor]) -> None:
        if self.avg_fn is not None and self.multi_avg_fn is None:
            for p_avg, p_model in zip(averaged, current, strict=True):
                n = self.n_averaged.to(p_avg.device)
                p_avg.detach().copy_(self.avg_fn(p_avg.detach(), p_model, n))
            return
        # the list functions get one call per (device, dtype) group, as in torch
        groups: dict[tuple, tuple[list[Tensor], list[Tensor]]] = {}
        for p_avg, p_model in zip(averaged, current, strict=True):
            mine, yours = groups.setdefault((str(p_avg.device), p_avg.dtype), ([], []))
            mine.append(p_avg)
            yours.append(p_model)
        for (device, _), (mine, yours) in groups.items():
            n = self.n_averaged.to(device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(mine, yours, n)
            elif device.startswith("cuda"):  # torch's foreach path on GPUs
                get_swa_multi_avg_fn()(mine, yours, n)
            else:
                swa = get_swa_avg_fn()
                for p_avg, p_model in zip(mine, yours, strict=True):
                    p_avg.copy_(swa(p_avg, p_model, n))


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running mean and variance of every BatchNorm in `model` with one pass
    over `loader` (an exact average over the batches: momentum None), e.g. for the weights of
    an `AveragedModel`. A batch is a tensor, or a list/tuple whose first item is the input."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # cumulative average over the pass
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


# ---------------------------------------------------------------------- the SWA schedule
class SWALR(LRScheduler):
    """Anneal each group's learning rate to `swa_lr` over `anneal_epochs` steps ("cos" or
    "linear"), then hold it there.

    With alpha = anneal(min(1, step / anneal_epochs)), cos: (1 - cos(pi t)) / 2, linear: t,

        lr = swa_lr * alpha + lr_0 * (1 - alpha)

    where lr_0 is recovered from the group's current lr and the previous step's alpha (so the
    schedule composes with changes made by other schedulers, as in torch).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        for lr, group in zip(per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups,
                             strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                "anneal_strategy must be one of 'cos' or 'linear', instead got "
                f"{anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """Undo one annealing step: the lr_0 with swa_lr * alpha + lr_0 * (1 - alpha) == lr."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        lr_0 = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, lr_0, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer and the annealing function."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
