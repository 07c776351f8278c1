"""torch.profiler on Ember: time every op, backward node and record_function range.

    with ember.profiler.profile(record_shapes=True) as prof:
        with ember.profiler.record_function("model_inference"):
            model(x).sum().backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

While a profile records, the op path's one check (`op_watch.active`, autograd/op_watch.py) is
on and every op reports to the recorder; otherwise ops pay only that check. `schedule` and
`step()` follow torch's state machine (wait -> warmup -> active, repeated), calling
`on_trace_ready(prof)` at the end of each active window.
"""

from __future__ import annotations

import enum
import functools
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..autograd import op_watch
from .events import EventList, FunctionEvent, write_chrome_trace

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ProfilerActivity(enum.Enum):
    """What to profile. Ember times everything on the host (CPU); CUDA is accepted, and a GPU
    op's time is its launch plus whatever synchronisation the host waited for."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    PrivateUse1 = 4


def supported_activities() -> set[ProfilerActivity]:
    activities = {ProfilerActivity.CPU}
    if backend.cuda_available():
        activities.add(ProfilerActivity.CUDA)
    return activities


class ProfilerAction(enum.Enum):
    """The phase a schedule assigns to a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """step -> action: skip `skip_first` steps, then cycles of `wait` idle, `warmup` and
    `active` recorded steps (the last one saves), `repeat` times (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait  # the first cycle starts without its wait
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _always_record(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[Any], None]:
    """An on_trace_ready that writes each trace as `<worker>.<ns>.pt.trace.json` into dir_name
    (TensorBoard's profile plugin and Perfetto read it)."""
    def handler(prof: Any) -> None:
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError("Can't create directory: " + dir_name) from e
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


# ------------------------------------------------------------------ recording
class _Recorder:
    """Collects events while installed as `op_watch.watchers.profiler`."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events: list[FunctionEvent] = []
        self.open = threading.local()  # per thread: the stack of unfinished events

    def begin(self, name: str, inputs: Any = (), user: bool = False,
              trace_name: str | None = None) -> FunctionEvent:
        stack = getattr(self.open, "stack", None)
        if stack is None:
            stack = self.open.stack = []
        shapes = [list(getattr(a, "shape", ())) for a in inputs] if self.record_shapes else None
        event = FunctionEvent(len(self.events), name, threading.get_ident(),
                              time.perf_counter_ns() / 1000.0, shapes,
                              _python_stack() if self.with_stack else None, user, trace_name)
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self.events.append(event)
        return event

    def end(self, event: FunctionEvent, result: Any = None) -> None:
        event.end_us = time.perf_counter_ns() / 1000.0
        stack = self.open.stack
        if stack and stack[-1] is event:
            stack.pop()
        elif event in stack:
            stack.remove(event)
        if self.profile_memory and result is not None:
            event.self_cpu_memory_usage += _nbytes(result)


def _nbytes(result: Any) -> int:
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r) for r in result)
    data = getattr(result, "_data", result)
    return int(getattr(data, "nbytes", 0) or 0)


def _python_stack() -> list[str]:
    """The user's frames, innermost first (Ember's own frames left out, as torch leaves its)."""
    frames = []
    f = sys._getframe(2)
    while f is not None:
        path = f.f_code.co_filename
        if not os.path.abspath(path).startswith(_EMBER_DIR):
            frames.append(f"{path}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return frames


class record_function:  # noqa: N801 (torch's name)
    """Mark a block (or, as a decorator, each call of a function) as one named range in the
    profile; ops inside it nest under it. Costs nothing when no profiler records.

    >>> with ember.profiler.record_function("attention"):
    ...     y = attn(x)
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._trace_name: str | None = None
        self._events: list = []

    def __enter__(self) -> record_function:
        recorder = op_watch.watchers.profiler
        self._events.append(
            (recorder, recorder.begin(self.name, (), True, self._trace_name))
            if recorder is not None else None)
        return self

    def __exit__(self, *exc: Any) -> None:
        entry = self._events.pop() if self._events else None
        if entry is not None:
            recorder, event = entry
            recorder.end(event)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


# ------------------------------------------------------------------ the profiler
class profile:  # noqa: N801 (torch's name)
    """Context manager that records ops, backward nodes and record_function ranges.

    With a `schedule`, call `prof.step()` after each training step: only steps in the
    schedule's active windows are recorded (each as a `ProfilerStep#N` range), and
    `on_trace_ready(prof)` runs when a window closes. Without one, everything inside the
    `with` block is recorded and `on_trace_ready` runs once at exit.
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        self.activities = set(activities) if activities is not None else supported_activities()
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops  # accepted; Ember does not count FLOPs
        self.schedule = schedule or _always_record
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self._recorder: _Recorder | None = None
        self._step_range: record_function | None = None
        self._metadata: dict = {}
        self.function_events: EventList | None = None

    # -- the state machine -----------------------------------------------------------------
    def _prepare(self) -> None:
        self._recorder = _Recorder(self.record_shapes, self.profile_memory, self.with_stack)

    def _start(self) -> None:
        if op_watch.watchers.profiler is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        op_watch.watchers.profiler = self._recorder
        op_watch.update()

    def _stop(self) -> None:
        if op_watch.watchers.profiler is self._recorder:
            op_watch.watchers.profiler = None
            op_watch.update()
        events = self._recorder.events if self._recorder is not None else []
        self.function_events = EventList(events, profile_memory=self.profile_memory)

    def _ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit(self, prev: ProfilerAction | None, now: ProfilerAction | None) -> None:
        A = ProfilerAction  # noqa: N806
        recording = (A.RECORD, A.RECORD_AND_SAVE)
        steps: list = []
        if prev == A.NONE:
            steps = {A.WARMUP: [self._prepare], A.RECORD: [self._prepare, self._start],
                     A.RECORD_AND_SAVE: [self._prepare, self._start]}.get(now, [])
        elif prev == A.WARMUP:
            if now in recording:
                steps = [self._start]
            elif now == A.NONE or now is None:
                if now == A.NONE:
                    warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
                steps = [self._start, self._stop]
        elif prev == A.RECORD:
            if now in (A.NONE, A.WARMUP):
                warnings.warn(f"Incorrect schedule: RECORD followed by {now.name}",
                              stacklevel=3)
                steps = [self._stop]
            elif now is None:
                steps = [self._stop, self._ready]
        elif prev == A.RECORD_AND_SAVE:
            steps = {A.NONE: [self._stop, self._ready],
                     A.WARMUP: [self._stop, self._ready, self._prepare],
                     A.RECORD: [self._stop, self._ready, self._prepare, self._start],
                     A.RECORD_AND_SAVE: [self._stop, self._ready, self._prepare, self._start],
                     None: [self._stop, self._ready]}[now]
        for action in steps:
            action()

    def _open_step_range(self) -> None:
        if self.record_steps:
            self._step_range = record_function("ProfilerStep*")  # torch's averaged name
            self._step_range._trace_name = f"ProfilerStep#{self.step_num}"
            self._step_range.__enter__()

    def _close_step_range(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    # -- public ----------------------------------------------------------------------------
    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step_range()

    def stop(self) -> None:
        self._close_step_range()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """The next training step begins: move along the schedule."""
        self._close_step_range()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._open_step_range()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def events(self) -> EventList:
        """The events of the last recorded window."""
        if self.function_events is None:
            raise AssertionError("Profiler must be stopped before reading its events")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """Events averaged per name (and per input shapes / stack), with `.table()`."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as Chrome trace JSON (a `.gz` path is gzipped)."""
        write_chrome_trace(self.events(), path, self._metadata)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """One `frame;frame;...;op value` line per event (flamegraph.pl's input); needs
        with_stack=True."""
        with open(path, "w") as f:
            for e in self.events():
                if e.stack:
                    frames = ";".join(reversed(e.stack))
                    f.write(f"{frames};{e.name} {int(getattr(e, metric))}\n")

    def add_metadata(self, key: str, value: str) -> None:
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        import json  # noqa: PLC0415

        self._metadata[key] = json.loads(value)
