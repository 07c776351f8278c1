"""What the profiler records, and its reports: events, per-name averages, torch's table and the
Chrome trace (chrome://tracing, Perfetto, TensorBoard's profile plugin all read it).

Times are microseconds, as in torch. An event's *self* time is its total time minus that of the
events nested directly inside it (the ops of a module's forward inside a `record_function`, the
ops a backward formula records under create_graph inside its backward node). Memory is the size
of the arrays an op returned (Ember does not see frees, so it is never negative as torch's can
be).
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg"]


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _format_share(part: float, total: float) -> str:
    return "NaN" if total == 0 else f"{part * 100.0 / total:.2f}%"


class _TimeStrings:
    """The `*_str` views torch's events offer, and the device columns Ember leaves at zero."""

    cpu_time_total: float
    self_cpu_time_total: float
    device_time_total = 0.0
    self_device_time_total = 0.0
    device_memory_usage = 0
    self_device_memory_usage = 0
    cuda_time_total = 0.0
    self_cuda_time_total = 0.0
    flops = 0

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)  # type: ignore[attr-defined]


class FunctionEvent(_TimeStrings):
    """One recorded range: an op, a backward node, a record_function block or a profiler step."""

    def __init__(self, id: int, name: str, thread: int, start_us: float,
                 input_shapes: list | None = None, stack: list | None = None,
                 is_user_annotation: bool = False, trace_name: str | None = None) -> None:
        self.id = id
        self.name = name
        self.trace_name = trace_name or name  # ProfilerStep* keeps its number (#N) here
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us
        self.input_shapes = input_shapes
        self.stack = stack or []
        self.is_user_annotation = is_user_annotation
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []
        self.self_cpu_memory_usage = 0
        self.count = 1

    @property
    def key(self) -> str:
        return self.name

    @property
    def time_range(self) -> tuple[float, float]:
        return (self.start_us, self.end_us)

    @property
    def cpu_time_total(self) -> float:  # type: ignore[override]
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:  # type: ignore[override]
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_total_str}"
                f" self_cpu_time={self.self_cpu_time_total_str} input_shapes="
                f"{self.input_shapes}>")


class FunctionEventAvg(_TimeStrings):
    """The events sharing a key (a name, and input shapes or stack when grouped by them)."""

    def __init__(self, key: str, input_shapes: list | None = None,
                 stack: list | None = None) -> None:
        self.key = key
        self.input_shapes = input_shapes
        self.stack = stack or []
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.cpu_parent = None

    def add(self, event: FunctionEvent) -> FunctionEventAvg:
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.is_user_annotation = event.is_user_annotation
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events (or of averages) with torch's reports."""

    def __init__(self, *args: Any, profile_memory: bool = False, **kwargs: Any) -> None:
        super().__init__(*args)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """One FunctionEventAvg per name (and per input shapes / innermost stack frames)."""
        groups: dict = {}
        for e in self:
            shapes = str(e.input_shapes) if group_by_input_shapes else None
            stack = tuple(e.stack[:group_by_stack_n]) if group_by_stack_n else None
            key = (e.key, shapes, stack)
            if key not in groups:
                groups[key] = FunctionEventAvg(
                    e.key, e.input_shapes if group_by_input_shapes else None,
                    list(stack) if stack else None)
            groups[key].add(e)
        return EventList(groups.values(), profile_memory=self._profile_memory)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """torch's text table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time
        avg, [CPU Mem, Self CPU Mem], # of Calls, [Input Shapes], [Source Location]."""
        return _build_table(self, sort_by, row_limit, max_src_column_width,
                            max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit, self._profile_memory)

    def export_chrome_trace(self, path: str) -> None:
        write_chrome_trace(self, path)

    def __str__(self) -> str:
        return self.table()


def _build_table(events: list, sort_by: str | None, row_limit: int, max_src: int,
                 max_name: int, max_shapes: int, header: str | None, top_level_only: bool,
                 time_unit: str | None, profile_memory: bool) -> str:
    if not events:
        return ""
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    name_width = min(max(len(e.key) for e in events) + 4, max_name)
    shapes_width = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_width] + [12] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
        aligns.append(">")
    if stacks:
        headers.append("Source Location")
        widths.append(min(max(len(f) for s in stacks for f in s) + 4, max_src))
        aligns.append("<")
    row_format = "".join(f"{{: {a}{w}}}  " for a, w in zip(aligns, widths))
    separator = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2

    def fmt(us: float) -> str:
        scale = {"s": (1e6, "s"), "ms": (1e3, "ms"), "us": (1.0, "us")}.get(time_unit or "")
        return f"{us / scale[0]:.3f}{scale[1]}" if scale else _format_time(us)

    total_self = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [separator, row_format.format(*headers), separator]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key if len(e.key) < max_name - 3 else e.key[:max_name - 3] + "..."
        row = [name, _format_share(e.self_cpu_time_total, total_self), fmt(e.self_cpu_time_total),
               _format_share(e.cpu_time_total, total_self), fmt(e.cpu_time_total),
               fmt(e.cpu_time)]
        if profile_memory:
            row += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_width])
        if stacks:
            frames = e.stack or [""]
            lines.append(row_format.format(*row, _trim(frames[0], widths[-1])))
            lines += [row_format.format(*([""] * (len(row))), _trim(f, widths[-1]))
                      for f in frames[1:]]
            continue
        lines.append(row_format.format(*row))
    lines += [separator, f"Self CPU time total: {fmt(total_self)}"]
    return "".join(line + "\n" for line in lines)


def _trim(path: str, width: int) -> str:
    if len(path) <= width:
        return path
    return "..." + path[len(path) - width + 3:]


def chrome_trace(events: list, metadata: dict | None = None) -> dict:
    """The Chrome trace-event JSON object ("X" complete events, microseconds)."""
    pid = os.getpid()
    trace = []
    for e in events:
        args: dict = {"External id": e.id}
        if e.input_shapes is not None:
            args["Input Dims"] = e.input_shapes
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        trace.append({"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                      "name": e.trace_name, "pid": pid, "tid": e.thread, "ts": e.start_us,
                      "dur": e.cpu_time_total, "args": args})
    out: dict = {"schemaVersion": 1, "deviceProperties": [], "traceEvents": trace,
                 "displayTimeUnit": "ms"}
    out.update(metadata or {})
    return out


def write_chrome_trace(events: list, path: str, metadata: dict | None = None) -> None:
    text = json.dumps(chrome_trace(events, metadata))
    if path.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)
