"""CNN training steps against torch: LeNet-5 on 1x28x28 and a ResNet-20 on 3x32x32, batch 64.

    python benchmarks/bench_cnn.py             # step times, each framework in its own process
    python benchmarks/bench_cnn.py --memory    # also peak memory (a fresh process each)
    python benchmarks/bench_cnn.py --same-process  # step times side by side in one process

Why separate processes by default: in one process, torch's OpenMP threads and OpenBLAS's
threads each keep spinning for a while after their framework's call, so each framework runs
with the other's threads eating a core (torch's ResNet-20 step went from 67 to 150 ms,
Ember's from 400 to 870 ms). The separate-process runs alternate between the frameworks,
round after round, and keep each one's median.

Goals (issue #4): <= 1.3x torch's step time on both, and a peak memory no higher than torch's.
The networks are defined here once for both frameworks (`m` is ember or torch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402

import ember  # noqa: E402


def lenet5(m: object) -> object:
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 5, 5)
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def resnet20(m: object) -> object:
    nn = m.nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x: object) -> object:
            out = m.relu(self.bn1(self.conv1(x)))
            return m.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(Block(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


MODELS = {"lenet5": (lenet5, (64, 1, 28, 28)), "resnet20": (resnet20, (64, 3, 32, 32))}


def make_step(lib: object, name: str) -> object:
    build, shape = MODELS[name]
    lib.manual_seed(0)
    model = build(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, shape[0]))

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_peak(framework: str, name: str) -> float:
    """Peak resident memory above the level after one warm-up step, sampled every millisecond.

    The warm-up step keeps one-time costs out of the comparison: numba's compiler, which Ember
    loads at its first kernel call (~100 MB of code, once per process), and whatever torch
    initialises lazily. glibc's malloc_trim then returns the warm-up's freed buffers to the OS
    (both frameworks allocate through malloc), so what the next steps add back is what training
    needs: activations, gradients, optimizer state and scratch buffers."""
    import ctypes  # noqa: PLC0415
    import importlib  # noqa: PLC0415
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    lib = importlib.import_module(framework)
    step = make_step(lib, name)
    step()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for _ in range(3):
        step()
    done.set()
    sampler.join()
    return peak[0] - base


def peak_memory_mb(framework: str, name: str) -> float:
    """measure_peak in a fresh process, so the two frameworks do not share an allocator."""
    code = ("import sys; sys.path.insert(0, %r)\nimport bench_cnn\n"
            "print(bench_cnn.measure_peak(%r, %r))\n") % (
        os.path.dirname(os.path.abspath(__file__)), framework, name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def step_time(framework: str, name: str, number: int = 5) -> float:
    """Seconds per training step, in this process (the child side of step_time_apart)."""
    import importlib  # noqa: PLC0415

    from common import time_call  # noqa: PLC0415

    return time_call(make_step(importlib.import_module(framework), name), number)


def step_time_apart(name: str, rounds: int = 5) -> tuple:
    """(ember, torch) seconds per step: each measured in a fresh process, alternating."""
    times: dict = {"ember": [], "torch": []}
    for i in range(rounds):
        for framework in (("ember", "torch") if i % 2 == 0 else ("torch", "ember")):
            code = ("import sys; sys.path.insert(0, %r)\nimport bench_cnn\n"
                    "print(bench_cnn.step_time(%r, %r))\n") % (
                os.path.dirname(os.path.abspath(__file__)), framework, name)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)
            times[framework].append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times["ember"]), statistics.median(times["torch"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--same-process", action="store_true",
                        help="time both frameworks side by side in this process")
    args = parser.parse_args()
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    for name in MODELS:
        if args.same_process:
            e_step, t_step = make_step(ember, name), make_step(torch, name)
            times = side_by_side(e_step, t_step, 5, rounds=5)
        else:
            times = step_time_apart(name)
        report(f"{name} training step, batch 64", *times, unit="ms")
        if args.memory:
            e_mb, t_mb = peak_memory_mb("ember", name), peak_memory_mb("torch", name)
            print(f"{name} peak memory growth: ember {e_mb:.0f} MB, torch {t_mb:.0f} MB, "
                  f"ratio {e_mb / t_mb:.2f}x", flush=True)
