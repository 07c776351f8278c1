"""What the doctor does at `optimizer.step()` and `optimizer.zero_grad()`.

Each optimizer gets a small record (kept in a weak dictionary, so it dies with the optimizer):
how many steps it took, the identity and version of each parameter's gradient at its last
step or zero_grad() (to tell whether a new gradient arrived since), and where the optimizer
stood in the backward count and the cut log. The checks read it before the update:
scheduler order (6), missing zero_grad (2), cut graph (3), gradient norms (5).
"""

from __future__ import annotations

import weakref
from typing import Any

from .config import running
from .flags import flags


class OptimizerRecord:
    __slots__ = ("steps", "marks", "watched_ids", "backward_calls", "cut_seq",
                 "missing_streak", "early_scheduler", "norms", "small_streak", "__weakref__")

    def __init__(self) -> None:
        self.steps = 0
        self.marks: dict = {}  # id(param) -> (weakref to its grad, the grad's version)
        self.watched_ids: list = []  # ids of this optimizer's grads in flags.watched_grads
        self.backward_calls = -1  # flags.backward_calls at the last step (-1: none yet)
        self.cut_seq = 0  # the cut log's sequence number at the last step
        self.missing_streak: dict = {}  # id(param) -> consecutive steps without a gradient
        self.early_scheduler: Any = None  # (site, scheduler name) of a too-early step()
        self.norms: dict = {}  # id(param) -> recent gradient norms (grad_norm check)
        self.small_streak = 0  # consecutive steps with vanishing gradients


_records: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def record(optimizer: Any) -> OptimizerRecord:
    rec = _records.get(optimizer)
    if rec is None:
        rec = _records[optimizer] = OptimizerRecord()
    return rec


def on_created(optimizer: Any) -> None:
    """A new optimizer: what happened before it was made does not concern it."""
    from .cut_graph import current_seq  # noqa: PLC0415

    rec = record(optimizer)
    rec.backward_calls = flags.backward_calls
    rec.cut_seq = current_seq()


def records() -> list:
    return list(_records.items())


def forget() -> None:
    _records.clear()
    flags.watched_grads.clear()


def _params(optimizer: Any) -> list:
    return [p for group in optimizer.param_groups for p in group["params"]]


def before_step(optimizer: Any) -> None:
    """Run the step-time checks (called by Optimizer.step before it updates anything)."""
    rec = record(optimizer)
    params = _params(optimizer)
    if running("scheduler_order"):
        from .scheduler import check_at_step as check_scheduler  # noqa: PLC0415

        check_scheduler(optimizer, rec)
    if running("missing_zero_grad"):
        from .zero_grad import check_at_step as check_zero_grad  # noqa: PLC0415

        check_zero_grad(optimizer, rec, params)
    if running("cut_graph"):
        from .cut_graph import check_at_step as check_cut  # noqa: PLC0415

        check_cut(optimizer, rec, params)
    if running("grad_norm"):
        from .health import check_grad_norms  # noqa: PLC0415

        check_grad_norms(optimizer, rec, params)


def after_step(optimizer: Any) -> None:
    """Remember each gradient as it was at this step."""
    rec = record(optimizer)
    rec.steps += 1
    rec.backward_calls = flags.backward_calls
    marks = {}
    for p in _params(optimizer):
        g = p.grad
        if g is not None:
            marks[id(p)] = (weakref.ref(g), g._version)
    rec.marks = marks
    if running("missing_zero_grad"):
        from .zero_grad import watch  # noqa: PLC0415

        watch(rec, optimizer)
    from .cut_graph import new_window  # noqa: PLC0415

    rec.cut_seq = new_window()


def after_zero_grad(optimizer: Any, set_to_none: bool) -> None:
    """zero_grad() starts a new accumulation: stop watching, re-mark zero-filled grads."""
    rec = record(optimizer)
    watched = flags.watched_grads
    for key in rec.watched_ids:
        watched.pop(key, None)
    rec.watched_ids = []
    if not set_to_none:
        marks = rec.marks
        for p in _params(optimizer):
            g = p.grad
            if g is not None:
                marks[id(p)] = (weakref.ref(g), g._version)
