"""The `ember` command line (also `python -m ember`)."""

from __future__ import annotations

import argparse
import sys
import time


def demo(args: argparse.Namespace) -> int:
    """Fit y = 3x^2 - 2x + 1 with a polynomial model trained by plain gradient descent."""
    import ember  # noqa: PLC0415

    ember.manual_seed(args.seed)
    x = ember.linspace(-1, 1, 200).unsqueeze(1)
    y = 3 * x**2 - 2 * x + 1 + 0.05 * ember.randn(200, 1)
    features = ember.cat([x**0, x, x**2], dim=1)  # (200, 3)
    w = ember.zeros(3, 1, requires_grad=True)
    start = time.perf_counter()
    for step in range(args.steps):
        loss = ((features @ w - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w -= args.lr * w.grad
            w.grad.zero_()
        if step % max(args.steps // 5, 1) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    took = time.perf_counter() - start
    c, b, a = (round(v, 3) for v in w.detach().reshape(-1).tolist())
    print(f"learned y = {a}x^2 + {b}x + {c}  (true: 3x^2 - 2x + 1) in {took:.2f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ember", description="Ember deep-learning framework")
    sub = parser.add_subparsers(dest="command")
    p_demo = sub.add_parser("demo", help="fit a small model with autograd (a quick check)")
    p_demo.add_argument("--steps", type=int, default=500)
    p_demo.add_argument("--lr", type=float, default=0.5)
    p_demo.add_argument("--seed", type=int, default=0)
    p_demo.set_defaults(func=demo)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo"] + (argv or []))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
