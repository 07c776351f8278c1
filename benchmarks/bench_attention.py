"""Scaled dot-product attention against torch: step time and peak memory over sequence length.

    python benchmarks/bench_attention.py            # step times (causal attention fwd + bwd)
    python benchmarks/bench_attention.py --memory   # also peak memory, one subprocess per run

Shapes: batch 8, 4 heads, head dim 32, T = 64 ... 1024 (issue #5), plus the GPT benchmark's
attention (batch 32, 4 heads, T = 64, head dim 32) and a GPT-shaped stack of 4 pre-LayerNorm
TransformerEncoderLayers (128 wide, causal) for a whole forward + backward. Memory is the growth of the peak resident
set (VmHWM, reset after the inputs are built) over 3 forward + backward passes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402

import ember  # noqa: E402

LENGTHS = (64, 128, 256, 512, 1024)
BATCH, HEADS, HEAD_DIM = 8, 4, 32


def make_step(lib: object, batch: int, heads: int, length: int, head_dim: int) -> object:
    """One causal self-attention forward + backward on fixed random q, k, v."""
    rng = np.random.default_rng(0)
    q, k, v = (lib.tensor(rng.standard_normal((batch, heads, length, head_dim),
                                              dtype=np.float32)).requires_grad_()
               for _ in range(3))
    grad = lib.tensor(rng.standard_normal((batch, heads, length, head_dim), dtype=np.float32))
    attention = lib.nn.functional.scaled_dot_product_attention

    def step() -> None:
        q.grad = k.grad = v.grad = None
        attention(q, k, v, is_causal=True).backward(grad)

    return step


def make_encoder_step(lib: object) -> object:
    """GPT-shaped: 4 pre-LayerNorm causal encoder layers, 128 wide, 4 heads, batch 32, T 64."""
    lib.manual_seed(0)
    layer = lib.nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
    model = lib.nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
    x = lib.tensor(np.random.default_rng(0).standard_normal((32, 64, 128), dtype=np.float32))
    mask = lib.nn.Transformer.generate_square_subsequent_mask(64)

    def step() -> None:
        model.zero_grad()
        model(x, mask=mask, is_causal=True).square().mean().backward()

    return step


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_peak(framework: str, length: int) -> float:
    """MB by which the peak resident set grows over 3 forward + backward passes."""
    import importlib  # noqa: PLC0415

    lib = importlib.import_module(framework)
    if framework == "torch":
        lib.set_num_threads(1)
    step = make_step(lib, BATCH, HEADS, length, HEAD_DIM)
    with open("/proc/self/clear_refs", "w") as f:  # reset VmHWM to the current RSS
        f.write("5")
    base = _status_kb("VmRSS")
    for _ in range(3):
        step()
    return (_status_kb("VmHWM") - base) / 1024


def peak_memory_mb(framework: str, length: int) -> float:
    """measure_peak in a fresh process, so the frameworks do not share an allocator."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path.insert(0, {here!r})\nimport bench_attention\n"
            f"print(bench_attention.measure_peak({framework!r}, {length}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    e_step, t_step = make_step(ember, 32, 4, 64, 32), make_step(torch, 32, 4, 64, 32)
    report("GPT attention (32x4x64x32) fwd+bwd", *side_by_side(e_step, t_step, 10, rounds=5),
           unit="ms")
    report("4 encoder layers (GPT-shaped) fwd+bwd",
           *side_by_side(make_encoder_step(ember), make_encoder_step(torch), 3, rounds=5),
           unit="ms")
    for length in LENGTHS:
        e_step = make_step(ember, BATCH, HEADS, length, HEAD_DIM)
        t_step = make_step(torch, BATCH, HEADS, length, HEAD_DIM)
        number = max(1, 2048 // length)
        report(f"causal attention T={length} fwd+bwd", *side_by_side(e_step, t_step, number,
                                                                       rounds=5), unit="ms")
    if args.memory:
        print("peak memory growth, forward + backward (B=8, H=4, head dim 32):")
        scores = "(B, H, T, T) float32"
        for length in LENGTHS:
            e_mb, t_mb = peak_memory_mb("ember", length), peak_memory_mb("torch", length)
            one = BATCH * HEADS * length * length * 4 / 2**20
            print(f"T={length:5d}: ember {e_mb:7.1f} MB, torch {t_mb:7.1f} MB, "
                  f"one {scores} array {one:6.1f} MB", flush=True)
