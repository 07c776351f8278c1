"""The classic training bugs, one after another, for `ember doctor examples/doctor_demo.py`.

Each function below is a short training script with one mistake (named in its docstring); the
README's section "The doctor" shows what the doctor says about each. `--fixed` runs the
corrected versions, which the doctor must find nothing in. Random data, a few seconds in all.
"""

from __future__ import annotations

import argparse

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


def data(n: int = 256, features: int = 20, classes: int = 4) -> tuple:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def batches(x, y, size: int = 32):
    for i in range(0, len(x), size):
        yield x[i:i + size], y[i:i + size]


def classifier(dropout: float = 0.2) -> nn.Module:
    return nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(64, 4))


def forgot_eval_and_zero_grad(fixed: bool) -> None:
    """scheduler.step() before optimizer.step(), no zero_grad(), evaluation without eval()."""
    x, y = data()
    model = classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(3):
        model.train()
        if not fixed:
            scheduler.step()
        for xb, yb in batches(x, y):
            if fixed:
                optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
        if fixed:
            scheduler.step()
            model.eval()
        with torch.no_grad():
            accuracy = (model(x).argmax(1) == y).float().mean()
    print(f"accuracy {accuracy.item():.2f}")


def detached_encoder(fixed: bool) -> None:
    """A feature extractor cut off from the loss by .detach(), and softmax fed to cross_entropy."""
    x, y = data()
    encoder = nn.Sequential(nn.Linear(20, 32), nn.ReLU())
    head = nn.Sequential(nn.Linear(32, 4), nn.Softmax(dim=1)) if not fixed else nn.Linear(32, 4)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-3)
    for xb, yb in batches(x, y):
        optimizer.zero_grad()
        features = encoder(xb) if fixed else encoder(xb).detach()
        loss = F.cross_entropy(head(features), yb)
        loss.backward()
        optimizer.step()


def nll_on_raw_scores(fixed: bool) -> None:
    """nll_loss given the raw scores of a linear layer instead of log_softmax's output."""
    x, y = data()
    model = nn.Linear(20, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in batches(x, y):
        optimizer.zero_grad()
        scores = model(xb)
        loss = F.nll_loss(F.log_softmax(scores, dim=1) if fixed else scores, yb)
        loss.backward()
        optimizer.step()


def log_of_zero(fixed: bool) -> None:
    """Cross-entropy written by hand as the log of probabilities that underflow to 0."""
    x, y = data()
    model = nn.Linear(20, 4)
    with torch.no_grad():
        model.weight.mul_(200.0)  # very confident scores: some probabilities are exactly 0
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    probs = F.softmax(model(x), dim=1)
    if fixed:
        loss = F.cross_entropy(model(x), y)
    else:
        loss = -probs.log().gather(1, y[:, None]).mean()
    loss.backward()
    optimizer.step()


def learning_rate_too_high(fixed: bool) -> None:
    """Regression with a learning rate far too high: the gradient norms explode."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(512, 10, generator=g) * 3
    y = x @ torch.randn(10, 1, generator=g)
    model = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01 if fixed else 0.3)
    for _ in range(7):
        for i in range(0, 512, 64):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            optimizer.step()


DEMOS = [forgot_eval_and_zero_grad, detached_encoder, nll_on_raw_scores, learning_rate_too_high,
         log_of_zero]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixed", action="store_true", help="run the corrected versions")
    args = parser.parse_args()
    torch.manual_seed(0)
    for demo in DEMOS:
        demo(args.fixed)


if __name__ == "__main__":
    main()
