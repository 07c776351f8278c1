"""ember.utils.benchmark: Timer / Measurement / Compare behave as torch.utils.benchmark's."""

from __future__ import annotations

import time

import pytest
import torch.utils.benchmark as tb

import ember
import ember.utils.benchmark as eb


def test_timeit_measures_one_block_like_torch() -> None:
    for lib, b in ((ember, eb), (None, tb)):
        t = b.Timer(stmt="time.sleep(0.001)", globals={"time": time}, label="sleep",
                    sub_label="1ms", description="x")
        m = t.timeit(5)
        assert m.number_per_run == 5 and len(m.times) == 1 and len(m.raw_times) == 1
        assert 0.001 <= m.median < 0.01, m.median
        assert m.mean == m.median and m.iqr == 0
        assert m.title == "sleep: 1ms"
        assert "1ms" in repr(m) and "5 runs" in repr(m)


def test_blocked_and_adaptive_autorange_collect_blocks() -> None:
    t = eb.Timer(stmt="x + y", setup="x = ember.ones(4); y = ember.ones(4)",
                 globals={"ember": ember})
    calls = []
    m = t.blocked_autorange(callback=lambda n, s: calls.append((n, s)), min_run_time=0.05)
    assert len(calls) == len(m.times) >= 1 and sum(m.raw_times) >= 0.05
    assert all(n == m.number_per_run for n, _ in calls)
    assert 0 < m.median < 1e-3
    low, high = sorted(m.times)[0], sorted(m.times)[-1]
    assert low <= m.median <= high and m.iqr >= 0
    a = t.adaptive_autorange(threshold=0.5, max_run_time=0.5)
    assert sum(a.raw_times) <= 0.5 + 0.1 and a.median > 0


def test_compare_renders_a_table_per_label() -> None:
    results = []
    for desc in ("ember", "numpy"):
        for n in (4, 64):
            stmt = "a + a" if desc == "ember" else "b + b"
            t = eb.Timer(stmt=stmt, setup=f"a = ember.ones({n}); b = a.numpy()",
                         globals={"ember": ember}, label="add", sub_label=f"n={n}",
                         description=desc)
            results.append(t.timeit(200))
    table = eb.Compare(results)
    table.trim_significant_figures()
    text = str(table)
    assert "add" in text and "n=4" in text and "n=64" in text
    assert "ember" in text and "numpy" in text and "Times are in" in text


def test_timer_rejects_cpp() -> None:
    with pytest.raises(ValueError, match="Python statements only"):
        eb.Timer("x", language="c++")
