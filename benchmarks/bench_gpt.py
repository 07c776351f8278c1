"""The small char-level GPT of `ember train --model gpt --dataset shakespeare` against the same
GPT written in PyTorch (tests/reference_gpt.py), from the same weights and the same batches:

1. training-step time (4 layers, 128 wide, 4 heads, block 64, batch 32; AdamW, clipping),
   side by side and alternating;
2. validation loss on Shakespeare after a fixed number of steps (the same batches, the same
   learning-rate schedule), and their relative difference.

    python benchmarks/bench_gpt.py               # both (about 10 minutes)
    python benchmarks/bench_gpt.py --steps 0     # step time only
    python benchmarks/bench_gpt.py --no-timing   # validation loss only

Goals (issue #5): step time <= 1.0x torch; validation loss within 2% of torch's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import torch  # noqa: E402
from common import report, side_by_side  # noqa: E402
from reference_gpt import TorchGPT  # noqa: E402

import ember  # noqa: E402
from ember.datasets import Shakespeare  # noqa: E402
from ember.models import GPT, GPTConfig  # noqa: E402
from ember.training.language import LMConfig, lr_at  # noqa: E402

SHAPE = dict(n_layer=4, n_head=4, n_embd=128, block_size=64)
BATCH = 32


def pair(vocab_size: int) -> tuple:
    torch.manual_seed(0)
    theirs = TorchGPT(vocab_size=vocab_size, **SHAPE)
    ours = GPT(GPTConfig(vocab_size=vocab_size, **SHAPE))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return (ours, ours.configure_optimizers(0.1, 1e-3)), (theirs, theirs.adamw(1e-3, 0.1))


def ember_step(model: GPT, opt: object, x: object, y: object) -> float:
    _, loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def torch_step(model: TorchGPT, opt: object, x: object, y: object) -> float:
    _, loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def step_time(train: Shakespeare) -> None:
    (ours, e_opt), (theirs, t_opt) = pair(train.vocab_size)
    x, y = train.random_batch(BATCH, ember.Generator().manual_seed(0))
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    report(f"GPT training step (batch {BATCH}, block 64)",
           *side_by_side(lambda: ember_step(ours, e_opt, x, y),
                         lambda: torch_step(theirs, t_opt, tx, ty), 10), unit="ms")


def validation_loss(train: Shakespeare, val: Shakespeare, steps: int) -> None:
    (ours, e_opt), (theirs, t_opt) = pair(train.vocab_size)
    schedule = LMConfig(steps=steps, warmup_steps=100, lr=1e-3)
    batches = ember.Generator().manual_seed(1)
    started = time.perf_counter()
    for step in range(steps):
        for opt in (e_opt, t_opt):
            for group in opt.param_groups:
                group["lr"] = lr_at(step, schedule)
        x, y = train.random_batch(BATCH, batches)
        ember_step(ours, e_opt, x, y)
        torch_step(theirs, t_opt, torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy()))
    ours.eval()
    theirs.eval()
    fixed = ember.Generator().manual_seed(2)
    e_total = t_total = 0.0
    evals = 50
    with ember.no_grad(), torch.no_grad():
        for _ in range(evals):
            x, y = val.random_batch(BATCH, fixed)
            e_total += ours(x, y)[1].item()
            t_total += theirs(torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy()))[1].item()
    e_loss, t_loss = e_total / evals, t_total / evals
    print(f"validation loss after {steps} steps: ember {e_loss:.4f}  torch {t_loss:.4f}  "
          f"difference {100 * (e_loss - t_loss) / t_loss:+.2f}%  "
          f"({time.perf_counter() - started:.0f} s for both)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000,
                        help="training steps for the validation-loss comparison (0: skip)")
    parser.add_argument("--no-timing", dest="timing", action="store_false",
                        help="skip the step-time comparison")
    args = parser.parse_args()
    print(f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    train_set, val_set = Shakespeare("train", block_size=64), Shakespeare("val", block_size=64)
    if args.timing:
        step_time(train_set)
    if args.steps:
        validation_loss(train_set, val_set, args.steps)
