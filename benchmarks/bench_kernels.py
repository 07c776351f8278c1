"""The ops that have numba kernels (ember/kernels), forward + backward, against torch: each
with the kernels on and with the numpy formulas (EMBER_JIT=0's path), side by side.

    python benchmarks/bench_kernels.py

Shapes are those of the benchmarked models: GPT's GELU and LayerNorm (2048 rows), ResNet-20's
first-stage BatchNorm and ReLU (64 x 16 x 32 x 32), LeNet-5's second convolution (whose
patches and input gradient go through kernels/im2col.py), GPT's causal attention (its softmax
kernel), a hand-written attention's softmax over scores (the row kernel), LeNet's first max
pool (the tiled forward kernel) and a ResNet-stem-like overlapping pool (numpy forward, kernel
backward), and an AdamW step.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402

import ember  # noqa: E402
from ember import kernels  # noqa: E402


def cases() -> dict:
    """name -> (shapes of the inputs that need gradients, fn(lib, *tensors) -> output)."""
    return {
        "exact GELU, 2048x512": ([(2048, 512)], lambda m, x: m.nn.functional.gelu(x)),
        "LayerNorm, 2048x128": ([(2048, 128), (128,), (128,)],
                                  lambda m, x, w, b: m.nn.functional.layer_norm(x, (128,), w, b)),
        "BatchNorm2d train, 64x16x32x32": (
            [(64, 16, 32, 32), (16,), (16,)],
            lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True)),
        "ReLU, 64x16x32x32": ([(64, 16, 32, 32)], lambda m, x: m.relu(x)),
        "conv2d 6->16 5x5, 64x6x14x14": (
            [(64, 6, 14, 14), (16, 6, 5, 5)], lambda m, x, w: m.nn.functional.conv2d(x, w)),
        "causal attention, 32x4x64x32": (
            [(32, 4, 64, 32)] * 3,
            lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                            is_causal=True)),
        "softmax(dim=-1), 32x4x64x64": ([(32, 4, 64, 64)],
                                        lambda m, x: m.nn.functional.softmax(x, dim=-1)),
        "max_pool2d 2x2, 64x6x28x28": ([(64, 6, 28, 28)],
                                       lambda m, x: m.nn.functional.max_pool2d(x, 2)),
        "max_pool2d 3x3 stride 2 pad 1, 64x64x16x16": (
            [(64, 64, 16, 16)], lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1)),
    }


def make(lib: object, shapes: list, fn: object) -> object:
    rng = np.random.default_rng(0)
    tensors = [lib.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
               for s in shapes]
    out = fn(lib, *tensors)
    grad = lib.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32))

    def step() -> None:
        for t in tensors:
            t.grad = None
        fn(lib, *tensors).backward(grad)

    return step


def adamw_step(lib: object) -> object:
    """One AdamW step over GPT-sized matrices (4 of 128 x 512), gradients already set."""
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal((128, 512)).astype(np.float32),
                         requires_grad=True) for _ in range(4)]
    for p in params:
        p.grad = lib.tensor(rng.standard_normal((128, 512)).astype(np.float32))
    opt = lib.optim.AdamW(params, lr=1e-3)
    return opt.step


def main() -> None:
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"numba kernels available: {kernels.available()}")
    for name, (shapes, fn) in cases().items():
        ember_step, torch_step = make(ember, shapes, fn), make(torch, shapes, fn)
        for enabled in (True, False):
            kernels.set_enabled(enabled)
            report(f"{name} ({'kernels' if enabled else 'numpy'})",
                   *side_by_side(ember_step, torch_step, 20, rounds=5), unit="ms")
        kernels.set_enabled(True)
    ember_step, torch_step = adamw_step(ember), adamw_step(torch)
    for enabled in (True, False):
        kernels.set_enabled(enabled)
        report(f"AdamW step, 4 x 128x512 ({'kernels' if enabled else 'numpy'})",
               *side_by_side(ember_step, torch_step, 20, rounds=5), unit="ms")
    kernels.set_enabled(True)


if __name__ == "__main__":
    main()
