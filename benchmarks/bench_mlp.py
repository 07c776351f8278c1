"""The MLP of the canonical loop (784 -> 256 -> 256 -> 10, Dropout 0.2, AdamW, cross-entropy,
gradient clipping): training-step time against torch in the same process, and Fashion-MNIST
test accuracy of `ember train --dataset fashion-mnist`.

    python benchmarks/bench_mlp.py            # step time + accuracy (a few minutes)
    python benchmarks/bench_mlp.py --steps    # step time only

Goals (issue #3): step time <= 1.0x torch; test accuracy >= 89%.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402

import ember  # noqa: E402


def build(lib: object) -> tuple:
    nn = lib.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    return model, opt, nn.CrossEntropyLoss()


def step_time(batch: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    t_model, t_opt, t_loss = build(torch)
    e_model, e_opt, e_loss = build(ember)
    e_model.load_state_dict(t_model.state_dict())
    tx, ty = torch.tensor(x), torch.tensor(y)
    ex, ey = ember.tensor(x), ember.tensor(y)

    def step(lib: object, model: object, opt: object, loss_fn: object, xb: object,
             yb: object) -> None:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    report(f"MLP training step, batch {batch}",
           *side_by_side(lambda: step(ember, e_model, e_opt, e_loss, ex, ey),
                         lambda: step(torch, t_model, t_opt, t_loss, tx, ty), 50), unit="ms")


def accuracy(epochs: int) -> None:
    from ember.training import TrainConfig, run  # noqa: PLC0415

    summary = run(TrainConfig(dataset="fashion-mnist", epochs=epochs, progress=False,
                              log_dir="runs/bench-mlp-fashion-mnist"))
    per_epoch = np.mean([h["seconds"] for h in summary["history"]])
    print(f"Fashion-MNIST MLP: test accuracy {summary['test_accuracy']:.2%} after "
          f"{len(summary['history'])} epochs ({per_epoch:.1f} s per training epoch)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", action="store_true", help="step time only")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    for batch in (64, 128, 256):
        step_time(batch)
    if not args.steps:
        accuracy(args.epochs)
