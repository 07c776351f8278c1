"""torch.utils.benchmark: time a statement the careful way (Timer, Measurement, Compare).

A Timer compiles `stmt` once with Python's timeit, runs `setup`, then times blocks of many
runs: `timeit(n)` one block of n runs; `blocked_autorange` grows the block by powers of ten
until one takes 10 ms, then repeats blocks until `min_run_time` has passed;
`adaptive_autorange` keeps adding blocks until the interquartile range is below `threshold`
of the median. The thread count is pinned while timing (BLAS threads, set_num_threads).
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable, Sequence
from typing import Any

from ...runtime import get_num_threads, set_num_threads

__all__ = ["Compare", "Measurement", "Timer"]


def _unit(seconds: float) -> tuple[str, float]:
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3)):
        if seconds < scale * 1e3:
            return unit, scale
    return "s", 1.0


class Measurement:
    """The per-run times of one Timer, from blocks of `number_per_run` runs each."""

    def __init__(self, number_per_run: int, raw_times: list[float], task_spec: dict,
                 num_threads: int) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.num_threads = num_threads

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    def _quartiles(self) -> tuple[float, float]:
        times = sorted(self.times)
        if len(times) < 2:
            return times[0], times[0]
        q = statistics.quantiles(times, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def iqr(self) -> float:
        low, high = self._quartiles()
        return high - low

    @property
    def has_warnings(self) -> bool:
        return len(self.times) > 1 and self.iqr > 0.1 * self.median

    @property
    def significant_figures(self) -> int:
        """Digits worth showing: fewer when the spread is large relative to the median."""
        n = len(self.times)
        if n < 2:
            return 1
        spread = self.iqr / self.median if self.median else 0.0
        if spread < 0.01:
            return 3 if n >= 4 else 2
        return 2 if spread < 0.1 else 1

    @property
    def label(self) -> str | None:
        return self.task_spec.get("label")

    @property
    def sub_label(self) -> str | None:
        return self.task_spec.get("sub_label")

    @property
    def description(self) -> str | None:
        return self.task_spec.get("description")

    @property
    def title(self) -> str:
        label, sub = self.label, self.sub_label
        if label and sub:
            return f"{label}: {sub}"
        return label or sub or self.task_spec["stmt"]

    def __repr__(self) -> str:
        unit, scale = _unit(self.median)
        lines = [f"<ember.utils.benchmark.Measurement object at {hex(id(self))}>", self.title]
        if self.description:
            lines.append(self.description)
        if self.task_spec["setup"] != "pass":
            lines.append(f"setup: {self.task_spec['setup']}")
        runs = "runs per measurement" if len(self.times) > 1 else "runs"
        if len(self.times) > 1:
            low, high = self._quartiles()
            lines += [f"  Median: {self.median / scale:.3g} {unit}",
                      f"  IQR:    {self.iqr / scale:.2f} {unit} ({low / scale:.2f} to "
                      f"{high / scale:.2f})"]
        else:
            lines.append(f"  {self.median / scale:.3g} {unit}")
        count = len(self.times)
        lines.append(f"  {count} measurement{'s' if count != 1 else ''}, {self.number_per_run} "
                     f"{runs}, {self.num_threads} thread{'s' if self.num_threads != 1 else ''}")
        if self.has_warnings:
            lines.append(f"  WARNING: Interquartile range is {100 * self.iqr / self.median:.1f}% "
                         f"of the median measurement.")
        return "\n".join(lines)


class Timer:
    """Time `stmt` after `setup` (Python statements, run with `globals`)."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timeit.default_timer,
                 globals: dict[str, Any] | None = None, label: str | None = None,  # noqa: A002
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: Any = "python") -> None:
        if str(language).lower() not in ("python", "py", "language.python"):
            raise ValueError(f"Timer: Ember times Python statements only, got language="
                             f"{language!r}")
        setup_code = setup if not global_setup else f"{global_setup}\n{setup}"
        self._timer = timeit.Timer(stmt, setup_code, timer, dict(globals or {}))
        self._task_spec = {"stmt": stmt, "setup": setup, "label": label,
                           "sub_label": sub_label, "description": description, "env": env}
        self._num_threads = num_threads

    def _run(self, number: int) -> float:
        before = get_num_threads()
        try:
            set_num_threads(self._num_threads)
        except RuntimeError:  # no threadpoolctl: BLAS keeps its own count, which is reported
            self._num_threads = before
            return self._timer.timeit(number)
        try:
            return self._timer.timeit(number)
        finally:
            set_num_threads(before)

    def _measurement(self, number: int, times: list[float]) -> Measurement:
        return Measurement(number, times, dict(self._task_spec), self._num_threads)

    def timeit(self, number: int = 1000000) -> Measurement:
        self._run(max(number // 100, 2))  # warm up
        return self._measurement(number, [self._run(number)])

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: powers of ten until a block takes 10 ms (or min_run_time / 1000),
        long enough that the timer's own overhead is negligible."""
        number = 1
        while True:
            if self._run(number) >= max(min_run_time / 1000, 0.01) or number >= 10**9:
                return number
            number *= 10

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        number = self._block_size(min_run_time)
        times: list[float] = []
        while sum(times) < min_run_time:
            t = self._run(number)
            times.append(t)
            if callback is not None:
                callback(number, t)
        return self._measurement(number, times)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], Any] | None = None
                           ) -> Measurement:
        number = self._block_size(0.05)
        times: list[float] = []
        while sum(times) < max_run_time:
            t = self._run(number)
            times.append(t)
            if callback is not None:
                callback(number, t)
            if len(times) > 3 and sum(times) >= min_run_time:
                m = self._measurement(number, times)
                if m.iqr / m.median < threshold:
                    return m
        return self._measurement(number, times)


class Compare:
    """A table of Measurements: one block per label, rows by sub_label (and thread count),
    columns by description; times in one unit."""

    def __init__(self, results: Sequence[Measurement]) -> None:
        self._results = list(results)
        self._trim = False
        self._highlight = False

    def extend_results(self, results: Sequence[Measurement]) -> None:
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim = True

    def highlight_warnings(self) -> None:
        self._highlight = True

    def colorize(self, rowwise: bool = False) -> None:
        """Accepted for torch scripts; the table is printed without terminal colours."""

    def _render(self) -> str:
        blocks = []
        labels = list(dict.fromkeys(r.label for r in self._results))
        for label in labels:
            group = [r for r in self._results if r.label == label]
            unit, scale = _unit(min(r.median for r in group))
            columns = list(dict.fromkeys(r.description for r in group))
            rows = list(dict.fromkeys((r.num_threads, r.sub_label) for r in group))
            cells = {(r.num_threads, r.sub_label, r.description): r for r in group}
            names = [str(s) if s is not None else "" for _, s in rows]
            width = max([len(n) for n in names] + [2]) + 4
            headers = [str(c) if c is not None else "" for c in columns]
            col_w = [max(len(h), 8) for h in headers]
            title = f" {label or ''} "
            total = width + sum(w + 3 for w in col_w)
            lines = [f"[{title.center(total - 2, '-')}]",
                     " " * width + "|" + "|".join(f" {h:^{w}} " for h, w in zip(headers, col_w))]
            last_threads = None
            for (threads, sub), name in zip(rows, names):
                if threads != last_threads:
                    lines.append(f"{threads} threads: ".ljust(total, "-"))
                    last_threads = threads
                values = []
                for c, w in zip(columns, col_w):
                    r = cells.get((threads, sub, c))
                    if r is None:
                        values.append(" " * (w + 2))
                        continue
                    digits = r.significant_figures if self._trim else 3
                    text = f"{r.median / scale:.{digits}g}"
                    if self._highlight and r.has_warnings:
                        text += " (! )"
                    values.append(f" {text:^{w}} ")
                lines.append(f"{name:>{width - 2}}  |" + "|".join(values))
            unit_name = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds",
                         "s": "seconds"}[unit]
            lines += ["", f"Times are in {unit_name} ({unit})."]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"

    def __str__(self) -> str:
        return self._render()

    def print(self) -> None:
        print(self._render())
