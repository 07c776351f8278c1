"""Check 5, loss and gradient health (heavier: on under `ember doctor` or `enable("all")`).

* `nonfinite`: the first op whose forward output, or whose backward result, has a NaN or inf
  that its inputs did not have. This is anomaly mode's detector (`autograd.anomaly_mode.watch`)
  reporting to the doctor instead of raising; it stops after the first finding.
* `grad_norm`: at each optimizer step, every parameter's gradient norm. Explosion: a norm more
  than 100x the median of that parameter's previous (up to 20) norms, once 5 are known, or a
  non-finite norm. Vanishing: for 5 steps in a row the smallest weight-matrix (2-D or more)
  gradient norm is below 1e-5 of the largest one (zero gradients do not count).
* `loss_trend`: the value of every scalar passed to backward(), per call site. A loss that
  becomes NaN/inf within the first 100 values, or that has risen steadily over the last 50
  (correlation with a rising line above 0.6, the last 10 over 50% above the first 10),
  unless several backward() call sites take turns (adversarial losses, as in a GAN).

A NaN loss or gradient that follows a `nonfinite` finding is not reported again.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Any

from .. import backend
from ..autograd import anomaly_mode
from .config import emit, running
from .where import describe, param_names, short_list, user_site

_EXPLOSION = 100.0
_VANISHING = 1e-5
_HISTORY = 20
_losses: dict = {}  # backward call site -> {"values": [...], "reported": bool}
_recent_sites: deque = deque(maxlen=20)  # the call sites of the latest backward() calls
_done: set = set()  # checks that reported once and stopped


def forget() -> None:
    _losses.clear()
    _recent_sites.clear()
    _done.clear()
    if running("nonfinite"):
        anomaly_mode.watch(_on_anomaly)


def install(check: str) -> None:
    if check == "nonfinite" and "nonfinite" not in _done:
        anomaly_mode.watch(_on_anomaly)


def uninstall(check: str) -> None:
    if check == "nonfinite":
        anomaly_mode.watch(None)


def _on_anomaly(what: str, phase: str, frames: list) -> None:
    anomaly_mode.watch(None)  # the first one is what matters; stop paying for the check
    _done.add("nonfinite")
    detail = what.replace("Anomaly detected: ", "", 1).rstrip(".")
    detail = detail.replace(" (forward pass)", "").replace(" (backward pass)", "")
    frame = next((f for f in reversed(frames) if not f.filename.startswith("<")), None)
    called = ""
    if frame is not None:
        verb = "called" if phase == "forward" else "whose forward pass was called"
        called = f", {verb} at {describe((frame.filename, frame.lineno))}"
    emit("nonfinite", (
        f"the first NaN/inf appeared in the {phase} pass: {detail}{called}.\n"
        "  Why it matters: a NaN spreads to every value computed from it: the loss, the "
        "gradients, then the weights after the next step, and training is lost.\n"
        "  Fix: guard that op (log/sqrt/division of values that can be 0 or negative: add an "
        "epsilon or clamp), use the fused stable forms (cross_entropy on logits, "
        "binary_cross_entropy_with_logits, log_softmax), or lower the learning rate if the "
        "values blew up over the steps. ember.autograd.detect_anomaly() raises at that op."
    ), user_site())


# ---------------------------------------------------------------------------------------------
# Gradient norms, at each optimizer step
# ---------------------------------------------------------------------------------------------


def _norm(g: Any) -> float:
    data = g._data
    xp = backend.module_of(data)
    flat = data.reshape(-1)
    if flat.dtype.itemsize < 4:
        flat = flat.astype(xp.float32)
    return float(xp.sqrt(xp.dot(flat, flat)))


def check_grad_norms(optimizer: Any, rec: Any, params: list) -> None:
    exploded, nonfinite, weights = [], [], []
    for p in params:
        g = p.grad
        if g is None or not p._requires_grad or g._data.size == 0:
            continue
        norm = _norm(g)
        history = rec.norms.get(id(p))
        if history is None:
            history = rec.norms[id(p)] = deque(maxlen=_HISTORY)
        if not math.isfinite(norm):
            nonfinite.append(p)
            continue
        if len(history) >= 5:
            typical = statistics.median(history)
            if typical > 0 and norm > _EXPLOSION * typical:
                exploded.append((p, norm / typical))
        history.append(norm)
        if p.ndim >= 2 and norm > 0:
            weights.append((norm, p))
    if nonfinite and "nonfinite" in _done:
        nonfinite = []  # its cause was reported where the first NaN/inf appeared
    if nonfinite or exploded:
        site = user_site()
        if nonfinite:
            names = short_list(param_names(nonfinite, params, optimizer))
            head = f"the gradients of {names} are NaN or inf at this step."
        else:
            names = short_list([f"{n} (x{factor:,.0f})" for n, (_, factor) in zip(
                param_names([p for p, _ in exploded], params, optimizer), exploded, strict=True)])
            head = (f"gradient norm explosion: the gradient norms of {names} jumped by orders "
                    f"of magnitude above their recent median.")
        emit("grad_norm", (
            f"{type(optimizer).__name__}.step(): {head}\n"
            "  Why it matters: one huge step throws the weights far from where training had "
            "brought them; the loss jumps or becomes NaN.\n"
            f"  Fix: lower the learning rate ({_lrs(optimizer)}), clip gradients "
            "(ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)), normalize inputs, "
            "or add normalization layers."), site)
    if len(weights) >= 2:
        weights.sort(key=lambda item: item[0])
        (low, low_p), (high, high_p) = weights[0], weights[-1]
        rec.small_streak = rec.small_streak + 1 if low < _VANISHING * high else 0
        if rec.small_streak == 5:
            lo_name, hi_name = param_names([low_p, high_p], params, optimizer)
            emit("grad_norm", (
                f"{type(optimizer).__name__}.step(): vanishing gradients: for 5 steps the "
                f"gradient norm of {lo_name} ({low:.2e}) has been below {_VANISHING:g} of "
                f"{hi_name}'s ({high:.2e}).\n"
                "  Why it matters: the layers with vanishing gradients barely change, so the "
                "network trains as if it were much shallower.\n"
                "  Fix: use ReLU/GELU instead of sigmoid/tanh in deep stacks, Kaiming (He) "
                "initialization, normalization layers (BatchNorm/LayerNorm) or residual "
                "connections."), user_site())


def _lrs(optimizer: Any) -> str:
    lrs = sorted({g["lr"] for g in optimizer.param_groups})
    return "lr=" + ", ".join(f"{lr:g}" for lr in lrs)


# ---------------------------------------------------------------------------------------------
# The loss, at each backward()
# ---------------------------------------------------------------------------------------------


def on_backward(outputs: tuple) -> None:
    if len(outputs) != 1 or outputs[0]._data.size != 1:
        return
    value = float(outputs[0]._data.reshape(()))
    site = user_site()
    entry = _losses.get(site)
    if entry is None:
        if len(_losses) > 64:
            return
        entry = _losses[site] = {"values": deque(maxlen=50), "count": 0, "reported": False}
    entry["count"] += 1
    if entry["reported"]:
        return
    if not math.isfinite(value):
        if entry["count"] <= 100 and "nonfinite" not in _done:  # else: already explained
            entry["reported"] = True
            _warn_loss(site, f"the loss became {value} at backward call {entry['count']}, soon "
                             "after the start.")
        return
    values = entry["values"]
    values.append(value)
    _recent_sites.append(site)
    if len(set(_recent_sites)) > 1:
        return  # several losses take turns (a GAN): one may rise by design
    if len(values) == values.maxlen and entry["count"] % 10 == 0:
        rise = _steady_rise(list(values))
        if rise is not None:
            entry["reported"] = True
            _warn_loss(site, f"the loss has been rising steadily: from about {rise[0]:.4g} to "
                             f"{rise[1]:.4g} over the last {len(values)} backward calls.")


def _steady_rise(values: list) -> tuple | None:
    """(mean of the first 10, mean of the last 10) if the values follow a rising line
    (correlation above 0.6) and the last 10 are over 50% above the first 10."""
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    syy = sum((v - mean_y) ** 2 for v in values)
    if sxy <= 0 or syy == 0:
        return None
    r = sxy / math.sqrt(sxx * syy)
    start, end = sum(values[:10]) / 10, sum(values[-10:]) / 10
    if r > 0.6 and end - start > 0.5 * abs(start):
        return start, end
    return None


def _warn_loss(site: tuple, what: str) -> None:
    from .stepping import records  # noqa: PLC0415

    lrs = "; ".join(f"{type(opt).__name__} {_lrs(opt)}" for opt, _ in records())
    emit("loss_trend", (
        f"{what}\n"
        "  Why it matters: a loss that climbs or turns NaN early means the updates overshoot: "
        "the model is moving away from a minimum instead of towards it.\n"
        f"  Fix: the learning rate is the usual cause{f' ({lrs})' if lrs else ''}: lower it "
        "by 3-10x, add warm-up, or clip gradients; also check the sign of the loss and that "
        "zero_grad() is called every step."), site)
