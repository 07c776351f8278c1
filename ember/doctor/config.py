"""The doctor's registry of checks, its switches, and how a finding reaches the user.

Each check has a name (used by `silence`, `enable`, `disable`), the number it has in the
issue that specified it, and whether it is on by default (the cheap ones are). A finding is
issued as a `DoctorWarning` once per call site (or raised, inside `strict()`), and kept for
`ember.doctor.report()`.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from .flags import flags


class DoctorWarning(UserWarning):
    """A likely training bug found at run time by `ember.doctor`."""


@dataclass(frozen=True)
class Check:
    name: str
    number: int  # 1-7 as in the list of detections; 0 for the shape error
    title: str
    default: bool  # on by default: cheap enough for every run


CHECKS: dict[str, Check] = {c.name: c for c in [
    Check("train_mode_inference", 1, "a model with active Dropout/BatchNorm run under no_grad()",
          True),
    Check("missing_zero_grad", 2, "gradients accumulating across optimizer steps", True),
    Check("cut_graph", 3, "parameters that got no gradient while the others did", True),
    Check("loss_input", 4, "probabilities fed to a loss that expects logits or log-probabilities",
          True),
    Check("nonfinite", 5, "the first op that produced NaN or inf", False),
    Check("grad_norm", 5, "per-layer gradient norm explosion or vanishing", False),
    Check("loss_trend", 5, "a loss rising steadily or becoming NaN soon after the start", False),
    Check("scheduler_order", 6, "scheduler.step() before the first optimizer.step()", True),
    Check("dead_relu", 7, "ReLU units never active over many batches", False),
    Check("target_shape", 0, "regression targets that would silently broadcast (an error)", True),
]}
DEFAULT_CHECKS = frozenset(name for name, c in CHECKS.items() if c.default)


@dataclass
class Finding:
    """One problem found at one call site (`count`: how many times it recurred there)."""

    check: str
    message: str
    filename: str
    lineno: int
    count: int = 1

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass
class _State:
    on: bool = True  # the master switch (EMBER_DOCTOR=0 or disable())
    active: set = field(default_factory=lambda: set(DEFAULT_CHECKS))
    silenced: dict = field(default_factory=dict)  # name -> how many silence() hold it
    strict: int = 0  # depth of `with strict():`
    seen: dict = field(default_factory=dict)  # (check, file, line) -> Finding
    findings: list = field(default_factory=list)
    options: dict = field(default_factory=lambda: {"dead_relu_batches": 100,
                                                   "dead_relu_fraction": 0.25})
    installed: set = field(default_factory=set)  # heavy checks whose hooks are in place


state = _State()
if os.environ.get("EMBER_DOCTOR", "1").strip().lower() in ("0", "off", "false", "no"):
    state.on = False


def running(check: str) -> bool:
    """Whether `check` is on right now (doctor on, check enabled, not silenced)."""
    return state.on and check in state.active and not state.silenced.get(check)


def _apply() -> None:
    """Recompute the hot-path flags and install or remove the heavy checks' hooks."""
    run = {name for name in CHECKS if running(name)}
    flags.inference = "train_mode_inference" in run
    flags.armed = flags.armed and flags.inference
    flags.no_grad_watch = flags.inference or "cut_graph" in run
    flags.optimizer = bool(run & {"missing_zero_grad", "cut_graph", "grad_norm",
                                  "scheduler_order", "loss_trend"})
    flags.cuts = "cut_graph" in run
    flags.loss_input = "loss_input" in run
    flags.target_shape = "target_shape" in run
    flags.scheduler = "scheduler_order" in run
    flags.backward = "loss_trend" in run
    if "missing_zero_grad" not in run:
        flags.watched_grads.clear()
    for name, module in (("nonfinite", "health"), ("dead_relu", "dead_relu")):
        if (name in run) != (name in state.installed):
            checker = importlib.import_module(f"ember.doctor.{module}")
            if name in run:
                checker.install(name)
                state.installed.add(name)
            else:
                checker.uninstall(name)
                state.installed.discard(name)


def _names(checks: tuple) -> list[str]:
    names = []
    for check in checks:
        if check == "all":
            names.extend(CHECKS)
            continue
        if check not in CHECKS:
            raise ValueError(f"ember.doctor: unknown check {check!r}; the checks are "
                             f"{', '.join(CHECKS)} (or 'all')")
        names.append(check)
    return names


def enable(*checks: str) -> None:
    """Turn the doctor on; with names, also turn those checks on (`"all"`: every check,
    including the heavier ones that are off by default: nonfinite, grad_norm, loss_trend,
    dead_relu)."""
    state.on = True
    state.active.update(_names(checks))
    _apply()


def disable(*checks: str) -> None:
    """Turn the whole doctor off (as EMBER_DOCTOR=0 does), or with names only those checks."""
    if checks:
        state.active.difference_update(_names(checks))
    else:
        state.on = False
    _apply()


def is_enabled(check: str | None = None) -> bool:
    """Whether the doctor (or one check of it) is on and not silenced."""
    if check is None:
        return state.on
    _names((check,))
    return running(check)


def configure(**options: Any) -> None:
    """Tune the heavier checks: `dead_relu_batches` (training batches a ReLU unit must stay
    inactive to count as dead, default 100), `dead_relu_fraction` (the share of a layer's
    units that must be dead for a warning, default 0.25)."""
    for key, value in options.items():
        if key not in state.options:
            raise ValueError(f"ember.doctor.configure: unknown option {key!r}; the options are "
                             f"{', '.join(state.options)}")
        state.options[key] = value


class silence:
    """Silence checks by name: for the rest of the run, or inside a `with` block.

    >>> ember.doctor.silence("train_mode_inference")        # Monte-Carlo dropout from here on
    >>> with ember.doctor.silence("train_mode_inference"):  # ... or only in this block
    ...     samples = [model(x) for _ in range(20)]
    """

    def __init__(self, *checks: str) -> None:
        if not checks:
            raise TypeError("ember.doctor.silence() needs the name of a check, e.g. "
                            "silence('train_mode_inference')")
        self.checks = _names(checks)
        for name in self.checks:
            state.silenced[name] = state.silenced.get(name, 0) + 1
        _apply()

    def __enter__(self) -> silence:
        return self

    def __exit__(self, *exc: Any) -> None:
        for name in self.checks:
            left = state.silenced.get(name, 0) - 1
            if left > 0:
                state.silenced[name] = left
            else:
                state.silenced.pop(name, None)
        _apply()


def unsilence(*checks: str) -> None:
    """Undo every `silence()` of these checks."""
    for name in _names(checks):
        state.silenced.pop(name, None)
    _apply()


class strict:
    """Inside this block a finding raises `DoctorWarning` instead of warning (for tests)."""

    def __enter__(self) -> strict:
        state.strict += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        state.strict -= 1


def reset() -> None:
    """Forget the findings and the call sites already warned about (and the per-optimizer,
    per-layer records the checks keep)."""
    state.seen.clear()
    state.findings.clear()
    for name in ("stepping", "cut_graph", "train_mode", "health", "dead_relu", "scheduler",
                 "zero_grad"):
        checker = sys.modules.get(f"ember.doctor.{name}")
        if checker is not None and hasattr(checker, "forget"):
            checker.forget()


def findings() -> list[Finding]:
    """What the doctor found so far, in order."""
    return list(state.findings)


def emit(check: str, message: str, site: tuple) -> None:
    """Report `message` for `check` at `site` (filename, lineno): a DoctorWarning the first
    time at that site, a count after that; raised instead inside `strict()`."""
    filename, lineno = site
    key = (check, filename, lineno)
    finding = state.seen.get(key)
    if finding is None:
        finding = state.seen[key] = Finding(check, message, filename, lineno)
        state.findings.append(finding)
    else:
        finding.count += 1
    text = f"[{check}] {message}"
    if state.strict:
        raise DoctorWarning(text)
    if finding.count == 1:
        warnings.warn_explicit(DoctorWarning(text), DoctorWarning, filename, lineno)


def already_reported(check: str, site: tuple) -> bool:
    """True if `check` already warned at `site` (so its details need not be worked out)."""
    if state.strict:
        return False
    finding = state.seen.get((check, site[0], site[1]))
    if finding is not None:
        finding.count += 1
        return True
    return False


_apply()
