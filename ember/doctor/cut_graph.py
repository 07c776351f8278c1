"""Check 3, `cut_graph`: parameters that got no gradient while the others in their optimizer did.

At `optimizer.step()`, a parameter that requires grad "got a gradient" if its `.grad` is a new
tensor, or the same one with a newer version, since that optimizer's previous step or
zero_grad(). Frozen parameters (requires_grad False) and other optimizers' parameters are never
looked at. A parameter that got none while others did is reported at once when the doctor saw
where its path was cut, and otherwise once it has missed 3 steps in a row (so a branch that a
batch happens not to use is not reported). When no parameter got a gradient, it is reported
only if a recorded cut reaches them. Steps with no backward() since the optimizer's previous
step (gradients set by hand) are not judged.

The cut log: when user code calls `.detach()`, `.data`, `.item()`, `.tolist()` or
`ember.tensor(t)` on a tensor that requires grad, or runs an op on such a tensor under
no_grad(), the doctor walks the tensor's graph (at most 5,000 nodes) for the parameters it
reaches and keeps (kind, call site, their ids). Only ids are kept, never the graph, one entry per
call site, at most 64 sites.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..autograd.node import Node
from ..tensor import Tensor
from .config import already_reported, emit
from .flags import flags
from .where import describe, is_internal, param_names, short_list, site_of, user_frame, user_site

CHECK = "cut_graph"
_WALK_LIMIT = 5000
_MAX_SITES = 64
_STREAK = 3
_KIND_TEXT = {
    "detach": ".detach()",
    "data": ".data",
    "item": ".item() (a round trip through a Python number)",
    "tolist": ".tolist() (a round trip through Python numbers)",
    "tensor": "ember.tensor(t) (a copy that is not part of the graph)",
    "no_grad": "a no_grad() block",
}


@dataclass
class Cut:
    kind: str
    site: tuple
    reach: dict  # id -> weakref of each leaf tensor (parameter) the cut tensor depended on
    seq: int

    def reaches(self, params: dict) -> bool:
        """Whether this cut reaches any of `params` (id -> tensor); ids of dead tensors may
        have been reused, so each match is confirmed by its weak reference."""
        return any(params.get(key) is ref() for key, ref in self.reach.items() if key in params)


_cuts: OrderedDict = OrderedDict()  # (kind, site) -> Cut
_seq = itertools.count(1)
_last_seq = 0
_window_seq = 0  # _last_seq when the current window (the time since the last step) began
_seen_no_grad: set = set()  # ids of tensors/nodes already logged since the last step
_block: list = [None, None]  # [weakref to the no_grad context entered last, its site]


def forget() -> None:
    _cuts.clear()
    _seen_no_grad.clear()
    _block[0] = _block[1] = None


def new_window() -> int:
    """A step happened: start logging no_grad uses afresh; return the log's position."""
    global _window_seq
    _seen_no_grad.clear()
    _window_seq = _last_seq
    return _last_seq


def _reach(t: Any) -> dict:
    fn = t.grad_fn
    if fn is None:
        return {id(t): weakref.ref(t)} if t._requires_grad else {}
    leaves = {}
    seen = {fn}
    stack = [fn]
    while stack and len(seen) < _WALK_LIMIT:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
            elif id(target) not in leaves:
                leaves[id(target)] = weakref.ref(target)
    return leaves


def current_seq() -> int:
    return _last_seq


def _log(kind: str, site: tuple, reach: dict) -> None:
    global _last_seq
    if not reach:
        return
    _last_seq = seq = next(_seq)
    key = (kind, site)
    old = _cuts.pop(key, None)
    if old is not None and old.seq > _window_seq:  # the same site twice since the last step
        reach = {**old.reach, **reach}
    _cuts[key] = Cut(kind, site, reach, seq)
    while len(_cuts) > _MAX_SITES:
        _cuts.popitem(last=False)


def note_cut(kind: str, tensor: Any) -> None:
    """`tensor` (which requires grad) was detached, copied or read out by the caller's caller."""
    frame = sys._getframe(3)  # note_cut <- flags.cut <- Tensor.detach (etc.) <- the caller
    if frame is None or is_internal(frame.f_code):
        return  # Ember's own code (the engine, clipping, printing...)
    _log(kind, site_of(frame), _reach(tensor))


def no_grad_entered(context: Any) -> None:
    """A no_grad() block that switched grad off was entered: remember where, if in user code."""
    frame = sys._getframe(3)  # <- flags.no_grad_entered <- __enter__ <- the with statement
    if frame is not None and is_internal(frame.f_code):
        frame = user_frame() if frame.f_code.co_name == "wrapper" else None
        if frame is None:
            return
    _block[0], _block[1] = weakref.ref(context), site_of(frame)


def note_no_grad_use(args: tuple) -> None:
    """An op ran under no_grad on tensors that require grad (new ones are logged)."""
    site = None
    for a in args:
        if not isinstance(a, Tensor) or not a._requires_grad:
            continue
        fn = a.grad_fn
        key = id(a) if fn is None else id(fn)
        if key in _seen_no_grad:
            continue
        if len(_seen_no_grad) > 100_000:
            _seen_no_grad.clear()
        _seen_no_grad.add(key)
        if site is None:
            context = _block[0]() if _block[0] is not None else None
            site = _block[1] if context is not None and context.prev else user_site()
        _log("no_grad", site, _reach(a))


def _relevant(rec: Any, params: dict) -> list:
    found = [c for c in _cuts.values() if c.seq > rec.cut_seq and c.reaches(params)]
    found.sort(key=lambda c: (c.kind == "no_grad", -c.seq))
    return found


def check_at_step(optimizer: Any, rec: Any, params: list) -> None:
    if rec.backward_calls == flags.backward_calls:
        return  # no backward() since the last step: gradients were set by hand, or not at all
    marks = rec.marks
    got, missing = 0, []
    for p in params:
        if not p._requires_grad:
            continue
        g = p.grad
        if g is not None:
            mark = marks.get(id(p))
            if mark is None or mark[0]() is not g or mark[1] != g._version:
                got += 1
                continue
        missing.append(p)
    streak = rec.missing_streak
    if not missing:
        streak.clear()
        return
    ids = {id(p): p for p in missing}
    for key in [k for k in streak if k not in ids]:
        del streak[key]
    for p in missing:
        streak[id(p)] = streak.get(id(p), 0) + 1
    if got:
        cuts = _relevant(rec, ids)
        report = missing if cuts else [p for p in missing if streak[id(p)] >= _STREAK]
        if report:
            _warn(optimizer, params, report, cuts, got)
    else:  # a backward ran, and reached none of them
        cuts = _relevant(rec, ids)
        if cuts:
            _warn(optimizer, params, missing, cuts, 0)


def _warn(optimizer: Any, params: list, missing: list, cuts: list, got: int) -> None:
    site = user_site()
    if already_reported(CHECK, site):
        return
    names = short_list(param_names(missing, params, optimizer))
    opt = type(optimizer).__name__
    if got:
        head = (f"{opt}.step(): {len(missing)} parameters that require grad got no gradient "
                f"while the other {got} in this optimizer did: {names}.")
    else:
        head = (f"{opt}.step(): none of the {len(missing)} parameters of this optimizer got a "
                "gradient from the backward pass.")
    if cuts:
        where = "; ".join(f"{_KIND_TEXT[c.kind]} at {describe(c.site)}" for c in cuts[:3])
        head += f"\n  The path from them to the loss was cut by {where}."
    else:
        head += (f"\n  They have received no gradient for {_STREAK} steps in a row (no "
                 ".detach(), .item() round trip or no_grad() block on their path was seen: "
                 "check that the forward pass uses them).")
    emit(CHECK, head + (
        "\n  Why it matters: these parameters are never updated, so that part of the model "
        "does not learn; a cut path is silent, the loss just decreases less than it should.\n"
        "  Fix: keep the path from them to the loss inside the graph: no .detach(), .data, "
        ".item()/.numpy() round trip, ember.tensor(t) copy or no_grad() on it (use "
        "torch-style ops on the tensor itself). To freeze them on purpose, call "
        "requires_grad_(False) on them or leave them out of the optimizer."
    ), site)
