"""The canonical training loop, one epoch at a time:

    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()

and evaluation under model.eval() and no_grad().
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from ..autograd.grad_mode import no_grad
from ..nn.utils import clip_grad_norm_


@dataclass
class EpochResult:
    loss: float
    accuracy: float
    samples: int
    seconds: float

    @property
    def throughput(self) -> float:
        return self.samples / self.seconds if self.seconds else 0.0


def train_epoch(model: Any, loader: Any, loss_fn: Callable, optimizer: Any,
                step_scheduler: Any = None, max_grad_norm: float | None = None,
                device: Any = None, on_batch: Callable | None = None,
                augment: Callable | None = None) -> EpochResult:
    """One pass over `loader`; `step_scheduler` (if any) steps after every batch, `augment`
    (if any) transforms each input batch."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    for x, y in loader:
        if device is not None:
            x, y = x.to(device), y.to(device)
        if augment is not None:
            x = augment(x)
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        if max_grad_norm is not None:
            clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        if step_scheduler is not None:
            step_scheduler.step()
        batch = y.shape[0]
        batch_loss = loss.item()
        total_loss += batch_loss * batch
        correct += int((logits.argmax(1) == y).sum().item())
        seen += batch
        if on_batch is not None:
            on_batch(batch, batch_loss)
    seconds = time.perf_counter() - start
    return EpochResult(total_loss / max(seen, 1), correct / max(seen, 1), seen, seconds)


@no_grad()
def evaluate(model: Any, loader: Any, loss_fn: Callable, device: Any = None) -> EpochResult:
    """Mean loss and accuracy over `loader` in evaluation mode, without recording a graph."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    start = time.perf_counter()
    for x, y in loader:
        if device is not None:
            x, y = x.to(device), y.to(device)
        logits = model(x)
        batch = y.shape[0]
        total_loss += loss_fn(logits, y).item() * batch
        correct += int((logits.argmax(1) == y).sum().item())
        seen += batch
    seconds = time.perf_counter() - start
    return EpochResult(total_loss / max(seen, 1), correct / max(seen, 1), seen, seconds)
