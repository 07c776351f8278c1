"""Recurrent layers against PyTorch, side by side in one process.

    python benchmarks/bench_rnn.py [--threads N]

Forward + backward of LSTM(64, 128, num_layers=2), and GRU and tanh-RNN of the same size, on a
(T=64, B=32) batch. Goal (issue #5, the char-RNN language model trains on this): LSTM within
1.5x of torch. Ratios below 1.0 mean Ember is faster.

Both frameworks run on one thread by default (torch's threads and OpenBLAS's, set before
numpy loads): on this busy 2-core machine two threads make both sets of timings erratic.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

STEPS, BATCH, INPUT, HIDDEN, LAYERS = 64, 32, 64, 128, 2


def fwd_bwd(name: str, number: int = 3) -> None:
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, name)(INPUT, HIDDEN, num_layers=LAYERS)
    e_mod = getattr(ember.nn, name)(INPUT, HIDDEN, num_layers=LAYERS)
    e_mod.load_state_dict(t_mod.state_dict())
    x = np.random.default_rng(0).standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)

    def step(mod: object, x: object) -> None:
        out, _ = mod(x)
        out.sum().backward()

    report(f"{name}({INPUT}, {HIDDEN}, num_layers={LAYERS}) T={STEPS} B={BATCH} fwd+bwd",
           *side_by_side(lambda: step(e_mod, ex), lambda: step(t_mod, tx), number), unit="ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for torch and for numpy's BLAS (default 1)")
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np  # noqa: E402 (after the thread settings)
    import torch  # noqa: E402
    from common import report, side_by_side  # noqa: E402

    import ember  # noqa: E402

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__} and numpy {np.__version__}, {args.threads} thread(s) each")
    for layer in ("LSTM", "GRU", "RNN"):
        fwd_bwd(layer)
