"""Per-op overhead and elementwise throughput of Ember against PyTorch, in one process.

    python benchmarks/bench_core.py

Ratios below 1.0 mean Ember is faster. Goals (issue #2): eager add with grad <= 2 us, a
forward+backward chain of 100 small ops no slower than torch, and a 1M-element
forward+backward chain within 1.3x of torch (which uses both cores for elementwise math).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402

import ember  # noqa: E402


def small_ops() -> None:
    rng = np.random.default_rng(0)
    a_np, b_np = rng.random(10, dtype=np.float32), rng.random(10, dtype=np.float32)
    ea, eb = ember.tensor(a_np), ember.tensor(b_np)
    ta, tb = torch.tensor(a_np), torch.tensor(b_np)
    report("add, 10 elements", *side_by_side(lambda: ea + eb, lambda: ta + tb, 20000))
    ea.requires_grad_()
    ta.requires_grad_()
    report("add with grad, 10 elements", *side_by_side(lambda: ea + eb, lambda: ta + tb, 20000))
    report("mul with grad, 10 elements", *side_by_side(lambda: ea * eb, lambda: ta * tb, 20000))

    def chain(a: object, b: object) -> None:
        x = a
        for i in range(100):
            x = x * 1.01 if i % 2 else x + b
        x.sum().backward()

    report("chain of 100 small ops, fwd+bwd",
           *side_by_side(lambda: chain(ea, eb), lambda: chain(ta, tb), 100))

    def mixed(lib: object, a: object, b: object) -> None:
        x = a
        for _ in range(20):
            x = (x * b).tanh() + lib.sigmoid(x) - x.exp() * 0.1
        x.mean().backward()

    report("chain of 100 mixed small ops, fwd+bwd",
           *side_by_side(lambda: mixed(ember, ea, eb), lambda: mixed(torch, ta, tb), 100))


def big_chain(n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    x_np, w_np = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    ex, ew = ember.tensor(x_np, requires_grad=True), ember.tensor(w_np)
    tx, tw = torch.tensor(x_np, requires_grad=True), torch.tensor(w_np)

    def step(lib: object, x: object, w: object) -> None:
        y = (x * w + 1).tanh() * x
        loss = (y.exp() - y).mean()
        x.grad = None
        loss.backward()

    report(f"{n:,}-element chain (6 ops), fwd+bwd",
           *side_by_side(lambda: step(ember, ex, ew), lambda: step(torch, tx, tw), 10),
           unit="ms")


if __name__ == "__main__":
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
          f"numpy {np.__version__}")
    small_ops()
    big_chain()
