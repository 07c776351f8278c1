"""The training doctor: the classic training bugs, caught while the script runs.

On by default for the cheap checks (each hook is one flag test when nothing is suspicious):

1. `train_mode_inference`: a model with active Dropout/BatchNorm run under no_grad()
   (model.eval() forgotten);
2. `missing_zero_grad`: at optimizer.step(), gradients still holding contributions from
   before the previous step;
3. `cut_graph`: at optimizer.step(), parameters that got no gradient while the others did,
   with the line that cut them off (.detach(), .item() round trip, ember.tensor(t), no_grad);
4. `loss_input`: softmax/sigmoid output fed to cross_entropy / BCE-with-logits, or
   something other than log-probabilities fed to nll_loss (read from the graph);
6. `scheduler_order`: scheduler.step() before the first optimizer.step();
   and the `target_shape` error for regression targets that would silently broadcast.

Heavier, on under `ember doctor script.py` or `enable("all")`: 5. `nonfinite`, `grad_norm`,
`loss_trend`; 7. `dead_relu`.

    ember.doctor.disable()                          # or EMBER_DOCTOR=0
    ember.doctor.silence("train_mode_inference")    # one check (also `with ...:`)
    with ember.doctor.strict(): ...                 # findings raise DoctorWarning (tests)

Each finding is a `DoctorWarning` issued once per call site, saying what happened, where, why
it matters and the fix; `findings()` and `report()` collect them.
"""

from __future__ import annotations

from .config import (
    CHECKS,
    DoctorWarning,
    Finding,
    configure,
    disable,
    enable,
    findings,
    is_enabled,
    reset,
    silence,
    strict,
    unsilence,
)


def report(title: str | None = None) -> str:
    """The findings so far, as the short text `ember doctor` prints at the end."""
    from .reporting import report as make_report  # noqa: PLC0415

    return make_report(title)


def run_script(path: str, args: list[str] | None = None) -> int:
    """Run a Python script with every check on and print the report (`ember doctor`)."""
    from .runner import run_script as run  # noqa: PLC0415

    return run(path, list(args or []))


__all__ = [
    "CHECKS", "DoctorWarning", "Finding", "configure", "disable", "enable", "findings",
    "is_enabled", "report", "reset", "run_script", "silence", "strict", "unsilence",
]
