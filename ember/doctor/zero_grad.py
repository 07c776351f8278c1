"""Check 2, `missing_zero_grad`: gradients that carry contributions from before the last step.

At each `optimizer.step()` the doctor notes every gradient tensor of that optimizer and its
version counter (`flags.watched_grads`). Later, when the backward engine is about to add into a
gradient it finds there, it asks:

* is it the same tensor, at the same version as at the step? (`zero_grad()` drops the entry,
  `zero_grad(set_to_none=False)` and `grad.zero_()` bump the version), and
* does it still hold non-zero values? (zeroing through `p.grad.data.zero_()` is not seen by the
  version counter, but leaves zeros)

If both hold, this backward adds onto a gradient that was already used by a step: the entry
becomes *stale*. At the next `step()` of that optimizer, a stale gradient that is still the
same, untouched except by further backward passes and by clipping (`clip_grad_norm_` and
`clip_grad_value_` report their in-place scaling), is reported. Deliberate accumulation
(several backward calls, then step, then zero_grad) never adds onto a stepped gradient.
"""

from __future__ import annotations

import weakref
from typing import Any

from .config import already_reported, emit
from .flags import flags
from .where import describe, param_names, short_list, user_site

CHECK = "missing_zero_grad"
STEPPED, STALE = 0, 1


def forget() -> None:
    flags.watched_grads.clear()


def watch(rec: Any, optimizer: Any) -> None:
    """After a step: watch this optimizer's gradients (replacing its previous entries)."""
    watched = flags.watched_grads
    for key in rec.watched_ids:
        watched.pop(key, None)
    ids = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            g = p.grad
            if g is not None:
                watched[id(g)] = [weakref.ref(g), g._version, STEPPED, None]
                ids.append(id(g))
    rec.watched_ids = ids


def on_accumulate(existing: Any) -> None:
    """The engine is about to add into `existing`, a watched gradient (in place, +1 version)."""
    watched = flags.watched_grads
    key = id(existing)
    entry = watched.get(key)
    if entry is None:
        return
    if entry[0]() is not existing or existing._version != entry[1]:
        del watched[key]  # replaced or modified (zeroed) since the step: a fresh start
        return
    if entry[2] == STEPPED:
        if not existing._data.any():
            del watched[key]  # zeroed behind the version counter's back (grad.data.zero_())
            return
        entry[2] = STALE
        entry[3] = user_site()  # the backward() that accumulated onto it
    entry[1] = existing._version + 1


def on_rescaled(grads: list) -> None:
    """Gradient clipping scaled these gradients in place (one version each): keep tracking."""
    watched = flags.watched_grads
    for g in grads:
        entry = watched.get(id(g))
        if entry is not None and entry[0]() is g and entry[1] == g._version - 1:
            entry[1] = g._version


def check_at_step(optimizer: Any, rec: Any, params: list) -> None:
    watched = flags.watched_grads
    if not watched:
        return
    stale, backward_site = [], None
    for p in params:
        g = p.grad
        if g is None:
            continue
        entry = watched.get(id(g))
        if (entry is not None and entry[2] == STALE and entry[0]() is g
                and entry[1] == g._version):
            stale.append(p)
            backward_site = entry[3]
    if not stale:
        return
    site = user_site()
    if already_reported(CHECK, site):
        return
    names = param_names(stale, params, optimizer)
    count = f"all {len(stale)}" if len(stale) == len(params) else f"{len(stale)} of {len(params)}"
    where = f" (the latest at {describe(backward_site)})" if backward_site else ""
    emit(CHECK, (
        f"{type(optimizer).__name__}.step(): {count} parameters have gradients that still "
        f"hold contributions from backward passes made before the previous step(): "
        f"{short_list(names)}.\n"
        f"  The backward passes since then added onto them{where} without a zero_grad() in "
        "between.\n"
        "  Why it matters: each step then follows the sum of every gradient so far instead of "
        "the current one, so the updates grow and drift and training diverges or stalls.\n"
        "  Fix: call optimizer.zero_grad() once per step (before loss.backward(), or right "
        "after optimizer.step()). Gradient accumulation over micro-batches is fine: several "
        "backward() calls, then step(), then zero_grad()."
    ), site)
