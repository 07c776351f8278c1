"""Timing helpers: run Ember and PyTorch side by side, alternating, and report the ratio.

Shared machines vary by up to 2x over seconds, so each measurement alternates the two
frameworks several times and keeps each one's best (minimum) time per round, then the median
over rounds.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable


def time_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of fn, averaged over `number` calls."""
    fn()  # warm up (first-call allocations, lazy imports)
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def side_by_side(ember_fn: Callable, torch_fn: Callable, number: int, rounds: int = 7) -> tuple:
    """(ember seconds, torch seconds) per call: median over alternating rounds."""
    e_times, t_times = [], []
    for i in range(rounds):
        pair = [(ember_fn, e_times), (torch_fn, t_times)]
        if i % 2:
            pair.reverse()
        for fn, sink in pair:
            sink.append(time_call(fn, number))
    return statistics.median(e_times), statistics.median(t_times)


def report(name: str, ember_s: float, torch_s: float, unit: str = "us") -> str:
    scale = {"us": 1e6, "ms": 1e3}[unit]
    line = (f"{name:<42s} ember {ember_s * scale:9.2f} {unit}   torch {torch_s * scale:9.2f} {unit}"
            f"   ratio {ember_s / torch_s:5.2f}x")
    print(line, flush=True)
    return line
