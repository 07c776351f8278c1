"""ember.profiler (and ember.autograd.profiler) against torch.profiler: events for a model's
forward and backward, call counts, nesting, the table, the Chrome trace and schedules."""

from __future__ import annotations

import json
import os
import warnings

import pytest
import torch

import ember
from ember.autograd.node import op_watch
from ember.profiler import ProfilerAction, profile, record_function, schedule


def _mlp_step(x: ember.Tensor, model: ember.nn.Module) -> None:
    model(x).sum().backward()


def _names(prof) -> list[str]:
    return [e.name for e in prof.events()]


def test_model_forward_and_backward_are_recorded() -> None:
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    x = ember.randn(3, 4)
    with profile() as prof:
        _mlp_step(x, model)
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["linear"] == 2 and counts["relu"] == 1 and counts["sum"] == 1
    assert counts["AddmmBackward0"] == 2 and counts["ReluBackward0"] == 1  # torch's node names
    assert counts["SumBackward0"] == 1


def test_call_counts_equal_op_invocations() -> None:
    a, b = ember.randn(5, 5), ember.randn(5, 5)
    with profile() as prof:
        for _ in range(7):
            a = (a @ b).tanh()
        ember.nn.functional.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3))
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts == {"matmul": 7, "tanh": 7, "conv2d": 1}


def test_nothing_is_recorded_outside_a_profile_and_the_op_path_is_switched_off() -> None:
    assert not op_watch.active
    with profile() as prof:
        assert op_watch.active
        ember.ones(2) * 2
    assert not op_watch.active
    ember.ones(2) * 3  # after the block: not recorded
    assert _names(prof) == ["mul"]


def test_record_function_ranges_nest() -> None:
    x = ember.randn(3, 3)
    with profile() as prof:
        with record_function("outer"):
            x.exp()
            with record_function("inner"):
                x.sin()
        x.cos()
    by_name = {e.name: e for e in prof.events()}
    outer, inner = by_name["outer"], by_name["inner"]
    assert inner.cpu_parent is outer and by_name["exp"].cpu_parent is outer
    assert by_name["sin"].cpu_parent is inner and by_name["cos"].cpu_parent is None
    assert outer.is_user_annotation and not by_name["exp"].is_user_annotation
    assert outer.time_range[0] <= inner.time_range[0] <= inner.time_range[1] <= \
        outer.time_range[1]
    assert outer.cpu_time_total >= inner.cpu_time_total + by_name["exp"].cpu_time_total
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - inner.cpu_time_total - by_name["exp"].cpu_time_total)


def test_record_function_as_decorator_and_without_profiler() -> None:
    @record_function("my_block")
    def block(x):
        return x * 2

    block(ember.ones(2))  # no profiler: a plain call
    with profile() as prof:
        block(ember.ones(2))
        block(ember.ones(2))
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["my_block"] == 2 and counts["mul"] == 2


def test_table_has_torchs_columns_and_the_op_names() -> None:
    x = ember.randn(4, 4)
    with profile(record_shapes=True, profile_memory=True) as prof:
        with record_function("model_inference"):
            ember.softmax(x @ x, dim=1)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                   "CPU Mem", "Self CPU Mem", "# of Calls"):
        assert column in table
    assert "Input Shapes" not in table  # as torch: shown when grouped by input shape
    for name in ("model_inference", "matmul", "softmax"):
        assert name in table
    assert table.rstrip().splitlines()[-1].startswith("Self CPU time total:")
    rows = [line for line in table.splitlines() if "matmul" in line]
    by_shape = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in by_shape and "[[4, 4], [4, 4]]" in by_shape
    assert rows and rows[0].split()[-1] == "1"  # # of Calls (no shapes column without grouping)
    first = [line.split()[0] for line in table.splitlines()[3:-2]]
    assert first[0] == "model_inference"  # sorted by CPU total: the enclosing range first
    assert len(prof.key_averages().table(row_limit=1).splitlines()) == 6


def test_table_layout_matches_torch() -> None:
    def header(m):
        with m.profiler.profile() as prof:
            m.ones(2).exp()
        return prof.key_averages().table().splitlines()[:3]

    ours, theirs = header(ember), header(torch)
    assert ours[1].split("  ")[-8:] == theirs[1].split("  ")[-8:]  # same column headings
    assert [len(c) for c in ours[0].split()[1:]] == [len(c) for c in theirs[0].split()[1:]]


def test_chrome_trace_is_valid_json(tmp_path) -> None:
    path = os.path.join(tmp_path, "trace.json")
    with profile(record_shapes=True) as prof:
        with record_function("block"):
            (ember.ones(3, requires_grad=True) * 2).sum().backward()
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    assert {e["name"] for e in events} >= {"block", "mul", "sum", "MulBackward0",
                                          "SumBackward0"}
    for e in events:
        assert e["ph"] == "X" and e["dur"] >= 0 and isinstance(e["ts"], float)
    block = next(e for e in events if e["name"] == "block")
    assert block["cat"] == "user_annotation"
    assert next(e for e in events if e["name"] == "mul")["args"]["Input Dims"] == [[3], []]


def _scheduled_windows(m, **kw) -> list:
    """Which steps each on_trace_ready call saw, by record_function names and step numbers."""
    seen = []

    def ready(prof):
        names = {e.name for e in prof.events()}
        steps = sorted(e.trace_name for e in prof.events() if e.name == "ProfilerStep*")
        seen.append((sorted(n for n in names if n.startswith("mine")), steps))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.profiler.profile(schedule=m.profiler.schedule(**kw), on_trace_ready=ready) as p:
            for i in range(12):
                with m.profiler.record_function(f"mine{i:02d}"):
                    m.ones(2) * 2
                p.step()
    return seen


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2, repeat=2),
                                dict(wait=0, warmup=0, active=3),
                                dict(wait=2, warmup=1, active=1, skip_first=3),
                                dict(wait=1, warmup=1, active=2, repeat=1, skip_first_wait=1)])
def test_schedule_records_the_steps_torch_records(kw) -> None:
    assert _scheduled_windows(ember, **kw) == _scheduled_windows(torch, **kw)


def test_schedule_actions_match_torch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = ember.profiler.schedule(wait=2, warmup=1, active=2, repeat=2, skip_first=1)
        theirs = torch.profiler.schedule(wait=2, warmup=1, active=2, repeat=2, skip_first=1)
    assert [ours(i).name for i in range(15)] == [theirs(i).name for i in range(15)]
    assert ours(4) is ProfilerAction.RECORD
    with pytest.raises(AssertionError):
        ember.profiler.schedule(wait=0, warmup=0, active=0)


def test_tensorboard_trace_handler_writes_a_trace(tmp_path) -> None:
    handler = ember.profiler.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w")
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=1),
                 on_trace_ready=handler) as p:
        for _ in range(3):
            ember.ones(2).exp()
            p.step()
    files = os.listdir(tmp_path / "tb")
    assert len(files) == 1 and files[0].startswith("w.") and files[0].endswith(".pt.trace.json")
    with open(tmp_path / "tb" / files[0]) as f:
        assert "exp" in {e["name"] for e in json.load(f)["traceEvents"]}


def test_with_stack_points_at_the_caller() -> None:
    with profile(with_stack=True) as prof:
        ember.ones(2).exp()
    (event,) = [e for e in prof.events() if e.name == "exp"]
    assert "test_profiler.py" in event.stack[0]
    assert "Source Location" in prof.key_averages(group_by_stack_n=1).table()


def test_custom_function_and_backward_under_create_graph_nest() -> None:
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = ember.ones(3, requires_grad=True)
    with profile() as prof:
        y = Double.apply(x).exp().sum()
        (g,) = ember.autograd.grad(y, x, create_graph=True)
    by_name = {e.name: e for e in reversed(prof.events())}  # each name's first event
    assert by_name["mul"].cpu_parent is by_name["Double"]
    assert [e.name for e in by_name["DoubleBackward"].cpu_children] == ["mul"]
    backward = by_name["ExpBackward0"]
    assert backward.cpu_children  # the recorded ops of its formula
    assert "DoubleBackward" in by_name


def test_autograd_profiler_aliases() -> None:
    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        with ember.autograd.profiler.record_function("legacy"):
            ember.ones(2, 2).sum()
    assert {"legacy", "sum"} <= {e.key for e in prof.key_averages()}
    assert "legacy" in prof.table() and prof.self_cpu_time_total > 0
    with ember.autograd.profiler.profile(enabled=False) as off:
        ember.ones(2).exp()
    assert not op_watch.active and off.function_events is None
