"""ember.profiler (torch.profiler): where the time goes, op by op.

`profile` records every op, backward node and `record_function` range while it is active;
`key_averages().table()` prints torch's summary table, `export_chrome_trace` writes a trace for
chrome://tracing / Perfetto / TensorBoard, and `schedule` + `step()` profile chosen training
steps. Ops carry Ember's names (`matmul`, `conv2d`, `MatMulBackward0`), not ATen's.
"""

from __future__ import annotations

from .events import EventList, FunctionEvent, FunctionEventAvg
from .profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction",
           "ProfilerActivity", "profile", "record_function", "schedule", "supported_activities",
           "tensorboard_trace_handler"]
