"""What the training doctor's default checks cost: the MLP training step of bench_mlp.py
(784 -> 256 -> 256 -> 10, Dropout 0.2, AdamW, cross-entropy, gradient clipping) with the
doctor on (its default checks) and off, side by side.

    python benchmarks/bench_doctor.py

Each round times a few steps with the doctor on, then off (alternating which goes first);
the report takes each one's 10% quantile over the rounds (other processes on a shared machine
only ever add time, so the fastest rounds are the least disturbed). Goal (issue #6): at most
3% overhead.
The canonical loop's `loss.item()` per step is timed too (the doctor notes where a tensor
that requires grad is read out, for its cut-graph check).

The first lines time the doctor's own work alone (every hook one step runs, in a tight loop):
a number that a busy machine disturbs much less than the side-by-side steps.
"""

from __future__ import annotations

import argparse
import time
import timeit

import numpy as np

import ember

nn = ember.nn


def build(seed: int) -> tuple:
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    return model, ember.optim.AdamW(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def timed(step, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        step()
    return (time.perf_counter() - start) / number


def quantile(values: list, q: float) -> float:
    values = sorted(values)
    return values[min(int(q * len(values)), len(values) - 1)]


def compare(batch: int, with_item: bool, number: int, rounds: int) -> tuple:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = ember.tensor(rng.integers(0, 10, batch))
    runs = {}
    for name in ("on", "off"):
        model, opt, loss_fn = build(0)

        def step(model=model, opt=opt, loss_fn=loss_fn) -> None:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if with_item:
                loss.item()

        runs[name] = step
    times: dict = {"on": [], "off": []}
    for i in range(rounds):
        order = ("on", "off") if i % 2 == 0 else ("off", "on")
        for name in order:
            if name == "on":
                ember.doctor.enable()
            else:
                ember.doctor.disable()
            runs[name]()  # warm up after the switch
            times[name].append(timed(runs[name], number))
    ember.doctor.enable()
    # a shared machine only ever adds time: the fastest rounds are the least disturbed
    return quantile(times["on"], 0.1), quantile(times["off"], 0.1)


def hook_work(batch: int) -> tuple:
    """(microseconds of the doctor's own work per step, the step's time with it off): each
    hook the step runs, timed alone in a tight loop on a model that has taken a few steps."""
    from ember.doctor.flags import flags

    rng = np.random.default_rng(0)
    x = ember.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = ember.tensor(rng.integers(0, 10, batch))
    model, opt, loss_fn = build(0)
    ember.doctor.enable()
    for _ in range(3):
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def hooks() -> None:  # what one step with loss.item() adds, the module calls aside
        flags.zero_grad(opt, True)
        flags.check_loss_input("cross_entropy", out)
        flags.before_step(opt)
        flags.after_step(opt)
        flags.cut("item", loss)

    work = min(timeit.repeat(hooks, number=500, repeat=9)) / 500

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    ember.doctor.disable()
    step_time = min(timeit.repeat(step, number=10, repeat=15)) / 10
    ember.doctor.enable()
    return work, step_time


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=5, help="steps per timing")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for batch in (64, 128, 256):
        work, step_time = hook_work(batch)
        print(f"{'MLP step, batch ' + str(batch) + ': hooks':<36s} {work * 1e6:6.1f} us of "
              f"{step_time * 1e3:.3f} ms = {100 * work / step_time:.2f}% of the step", flush=True)
    for with_item in (False, True):
        for batch in (64, 128, 256):
            on, off = compare(batch, with_item, args.number, args.rounds)
            label = f"MLP step, batch {batch}" + (" + loss.item()" if with_item else "")
            print(f"{label:<36s} doctor on {on * 1e3:7.3f} ms   off {off * 1e3:7.3f} ms   "
                  f"overhead {100 * (on - off) / off:+5.1f}%", flush=True)
