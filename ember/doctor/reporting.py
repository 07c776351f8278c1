"""The doctor's end-of-run report (printed by `ember doctor script.py`)."""

from __future__ import annotations

import os
import sys

from .config import CHECKS, running, state


def report(title: str | None = None) -> str:
    """A short text: each finding with its check, place and how often it recurred, the checks
    that ran, and what the heavier checks measured."""
    found = state.findings
    name = f" {title}" if title else ""
    if found:
        lines = [f"ember doctor{name}: {len(found)} problem{'s' if len(found) > 1 else ''} found"]
    else:
        lines = [f"ember doctor{name}: no problems found"]
    for i, f in enumerate(found, 1):
        times = f" (seen {f.count} times)" if f.count > 1 else ""
        lines.append(f"  {i}. [{f.check}] {os.path.basename(f.filename)}:{f.lineno}{times}")
        lines.append(f"     {f.summary}")
    ran = [c for c in CHECKS if running(c)]
    lines.append(f"checks: {', '.join(ran) if ran else 'none (the doctor is off)'}")
    stepping = sys.modules.get("ember.doctor.stepping")
    if stepping is not None:
        steps = sum(rec.steps for _, rec in stepping.records())
        if steps:
            lines.append(f"optimizer steps watched: {steps}")
    dead = sys.modules.get("ember.doctor.dead_relu")
    if dead is not None and running("dead_relu"):
        layers = dead.summary()
        with_dead = [(name, n, units, batches) for name, n, units, batches in layers if n]
        if with_dead:
            lines.append("ReLU layers with units never active:")
            lines.extend(f"  {name}: {n}/{units} units, over {batches} batches"
                         for name, n, units, batches in with_dead[:8])
            if len(with_dead) > 8:
                lines.append(f"  ... and {len(with_dead) - 8} more layers")
        elif layers:
            lines.append(f"ReLU layers: no dead units ({len(layers)} "
                         f"layer{'s' if len(layers) > 1 else ''} watched)")
    return "\n".join(lines)
