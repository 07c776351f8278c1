"""What a run shows and leaves behind: a progress bar, a JSON log and a PNG of the curves.

tqdm and matplotlib are optional extras (`pip install "ember[train]"`); without them the run
prints one line per epoch and skips the plot.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any


class Progress:
    """A per-epoch progress bar with the running loss and throughput (tqdm when installed)."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.bar = None
        self.loss_sum = 0.0
        self.count = 0
        if not enabled:
            return
        try:
            from tqdm import tqdm  # noqa: PLC0415
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=desc, unit="sample", leave=False, dynamic_ncols=True,
                        file=sys.stderr)

    def update(self, batch: int, loss: float) -> None:
        self.loss_sum += loss * batch
        self.count += batch
        if self.bar is not None:
            self.bar.update(batch)
            self.bar.set_postfix(loss=f"{self.loss_sum / self.count:.4f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def write_json_atomic(path: str, data: Any) -> None:
    """Write JSON next to `path` and rename it into place (never a half-written log)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ember-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def plot_curves(history: list, path: str, x: str = "epoch",
                panels: tuple[str, ...] = ("loss", "acc")) -> bool:
    """Train vs validation curves against `x` ('epoch' or 'step'), one panel per metric
    ('loss', 'acc'); False when matplotlib is missing."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return False
    xs = [h[x] for h in history]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, metric in zip(axes[0], panels):
        ax.plot(xs, [h[f"train_{metric}"] for h in history], label="train")
        ax.plot(xs, [h[f"val_{metric}"] for h in history], label="validation")
        ax.set_xlabel(x)
        ax.set_ylabel({"acc": "accuracy"}.get(metric, metric))
        ax.legend()
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ember-", suffix=".png", dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True
