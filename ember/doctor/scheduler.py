"""Check 6, `scheduler_order`: `scheduler.step()` called before the first `optimizer.step()`.

A scheduler step (not the one its constructor takes) on an optimizer that has not stepped yet
and has no state (a resumed optimizer has) is noted with its call site. The warning comes at
that optimizer's first step(), which confirms the order: a script that only steps a scheduler
(to plot a schedule) is left alone. ReduceLROnPlateau, which steps on a metric, is not checked.
"""

from __future__ import annotations

from typing import Any

from .config import emit
from .stepping import record
from .where import user_site

CHECK = "scheduler_order"


def on_scheduler_step(scheduler: Any) -> None:
    optimizer = scheduler.optimizer
    rec = record(optimizer)
    if rec.steps or rec.early_scheduler is not None or len(optimizer.state):
        return
    rec.early_scheduler = (user_site(), type(scheduler).__name__)


def check_at_step(optimizer: Any, rec: Any) -> None:
    if rec.steps or rec.early_scheduler is None:
        return
    site, name = rec.early_scheduler
    rec.early_scheduler = None
    groups = optimizer.param_groups
    first = groups[0].get("initial_lr", groups[0]["lr"])
    emit(CHECK, (
        f"{name}.step() was called before the first {type(optimizer).__name__}.step().\n"
        "  Why it matters: the schedule moves on before any update is made, so its first "
        f"value (lr={first:g}) is skipped and every later epoch runs one step ahead of the "
        "schedule (with warm-up, the warm-up is cut short).\n"
        "  Fix: call optimizer.step() first and scheduler.step() after it: at the end of each "
        "epoch for per-epoch schedules, after each optimizer.step() for per-batch ones."
    ), site)
