"""Small training scripts for the doctor's tests: each `case(fix)` runs the buggy version of a
classic mistake with `fix=False` and the corrected one with `fix=True`.

They are written as a user writes them (`import ember as torch` style), on random data, a few
steps each.
"""

from __future__ import annotations

import contextlib
import warnings

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.doctor import config


def data(n: int = 64, features: int = 8, classes: int = 3, seed: int = 0) -> tuple:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def batches(x, y, size: int = 16):
    for i in range(0, len(x), size):
        yield x[i:i + size], y[i:i + size]


def mlp(features: int = 8, classes: int = 3, hidden: int = 16, dropout: float = 0.0,
        batchnorm: bool = False) -> nn.Module:
    layers = [nn.Linear(features, hidden)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(hidden))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, classes))
    return nn.Sequential(*layers)


def train(model, x, y, epochs: int = 1, lr: float = 1e-2) -> torch.optim.Optimizer:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for xb, yb in batches(x, y):
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    return opt


# ---------------------------------------------------------------------- 1. eval() forgotten
def forgot_eval(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp(dropout=0.3, batchnorm=True)
    train(model, x, y)
    if fix:
        model.eval()
    with torch.no_grad():
        for xb, _ in batches(x, y):
            model(xb)  # CASE-EVAL


# ---------------------------------------------------------------------- 2. zero_grad() forgotten
def forgot_zero_grad(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for xb, yb in batches(x, y):
        if fix:
            opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()  # CASE-ZERO-GRAD


# ---------------------------------------------------------------------- 3. a cut graph
class TwoStage(nn.Module):
    """An encoder and a head; `cut` says how the buggy forward cuts the encoder off."""

    def __init__(self, cut: str | None) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 16), nn.Tanh())
        self.head = nn.Linear(16, 3)
        self.gate = nn.Linear(8, 1)  # a learned scale for the scores
        self.cut = cut

    def forward(self, x):
        h = self.encoder(x)
        if self.cut == "detach":
            h = h.detach()  # CUT-DETACH
        elif self.cut == "numpy":
            h = torch.from_numpy(h.detach().numpy() * 1.0)  # CUT-NUMPY
        elif self.cut == "tensor":
            h = torch.tensor(h)  # CUT-TENSOR
        if self.cut == "item":
            scale = torch.tensor(self.gate(x).mean().item())  # CUT-ITEM
        else:
            scale = self.gate(x).mean()
        return self.head(h) * scale


def cut_graph(fix: bool, cut: str = "detach") -> None:
    torch.manual_seed(0)
    x, y = data()
    model = TwoStage(None if fix else cut)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for xb, yb in batches(x, y):
        opt.zero_grad()
        if cut == "no_grad" and not fix:
            with torch.no_grad():  # CUT-NO-GRAD
                h = model.encoder(xb)
            out = model.head(h) * model.gate(xb).mean()
        else:
            out = model(xb)
        F.cross_entropy(out, yb).backward()
        opt.step()  # CASE-CUT


def cut_whole_loss(fix: bool) -> None:
    """The loss rebuilt from a Python number: nothing gets a gradient."""
    torch.manual_seed(0)
    x, y = data()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in batches(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        if not fix:
            loss = torch.tensor(loss.item(), requires_grad=True)  # CUT-LOSS-ITEM
        loss.backward()
        opt.step()


# ---------------------------------------------------------------------- 4. wrong loss input
def softmax_into_cross_entropy(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    layers = [nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)]
    model = nn.Sequential(*layers) if fix else nn.Sequential(*layers, nn.Softmax(dim=1))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for xb, yb in batches(x, y):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)  # CASE-CE
        loss.backward()
        opt.step()


def sigmoid_into_bce_with_logits(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    target = (y == 0).float().unsqueeze(1)
    model = nn.Linear(8, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for xb, tb in batches(x, target):
        opt.zero_grad()
        out = model(xb) if fix else torch.sigmoid(model(xb))
        F.binary_cross_entropy_with_logits(out, tb).backward()
        opt.step()


def logits_into_nll(fix: bool, feed: str = "logits") -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for xb, yb in batches(x, y):
        opt.zero_grad()
        scores = model(xb)
        if fix:
            scores = F.log_softmax(scores, dim=1)
        elif feed == "softmax":
            scores = F.softmax(scores, dim=1)
        F.nll_loss(scores, yb).backward()
        opt.step()


# ---------------------------------------------------------------------- 5. loss/gradient health
def nan_from_log(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    target = F.one_hot(y, 3).float()
    for xb, tb in batches(x, target):
        opt.zero_grad()
        out = model(xb)
        logp = F.log_softmax(out, dim=1) if fix else out.log()  # CASE-NAN
        loss = -(logp * tb).sum(1).mean()
        loss.backward()
        opt.step()


def exploding_gradients(fix: bool) -> None:
    """An unnormalized outlier batch after a few normal ones; the fix clips gradients."""
    torch.manual_seed(0)
    x, y = data(n=16 * 13)
    x[-16:] *= 1e4
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for xb, yb in batches(x, y):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        if fix:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()


def vanishing_gradients(fix: bool) -> None:
    """A deep stack of sigmoids; the fix uses ReLU with LayerNorm."""
    torch.manual_seed(0)
    x, y = data()
    layers = []
    for _ in range(14):
        layers += [nn.Linear(16, 16), nn.LayerNorm(16), nn.ReLU()] if fix else \
                  [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(nn.Linear(8, 16), *layers, nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    for _ in range(2):
        for xb, yb in batches(x, y):
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()


def rising_loss(fix: bool) -> None:
    """Full-batch least squares with a learning rate just past the stable limit (2/lambda)."""
    torch.manual_seed(0)
    x = torch.randn(32, 1)
    y = 3 * x
    w = torch.zeros(1, requires_grad=True)
    curvature = 2 * float((x * x).mean())
    opt = torch.optim.SGD([w], lr=(1.0 if fix else 2.02) / curvature)
    for _ in range(60):
        opt.zero_grad()
        loss = ((x * w - y) ** 2).mean()  # CASE-LOSS
        loss.backward()
        opt.step()


# ---------------------------------------------------------------------- 6. scheduler order
def scheduler_first(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        if not fix:
            sched.step()  # CASE-SCHED
        for xb, yb in batches(x, y):
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        if fix:
            sched.step()


# ---------------------------------------------------------------------- 7. dead ReLUs
def dead_relus(fix: bool) -> None:
    torch.manual_seed(0)
    x, y = data()
    model = mlp(hidden=32)
    if not fix:
        nn.init.constant_(model[0].bias, -20.0)  # every pre-activation far below 0
    train(model, x, y, epochs=6)


CASES = {
    "train_mode_inference": [forgot_eval],
    "missing_zero_grad": [forgot_zero_grad],
    "cut_graph": [cut_graph, lambda fix: cut_graph(fix, "numpy"),
                  lambda fix: cut_graph(fix, "tensor"), lambda fix: cut_graph(fix, "item"),
                  lambda fix: cut_graph(fix, "no_grad"), cut_whole_loss],
    "loss_input": [softmax_into_cross_entropy, sigmoid_into_bce_with_logits, logits_into_nll,
                   lambda fix: logits_into_nll(fix, "softmax")],
    "nonfinite": [nan_from_log],
    "grad_norm": [exploding_gradients, vanishing_gradients],
    "loss_trend": [rising_loss],
    "scheduler_order": [scheduler_first],
    "dead_relu": [dead_relus],
}


# ---------------------------------------------------------------------- running them
@contextlib.contextmanager
def doctor(*checks: str, strict: bool = False, **options):
    """The doctor with `checks` on (all of them by default), fresh findings, warnings
    recorded; its switches restored afterwards."""
    state = config.state
    saved = (state.on, set(state.active), dict(state.silenced), dict(state.options))
    torch.doctor.reset()
    torch.doctor.enable(*(checks or ("all",)))
    torch.doctor.configure(**options)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", torch.doctor.DoctorWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)  # numpy's NaN notes
            if strict:
                with torch.doctor.strict():
                    yield caught
            else:
                yield caught
    finally:  # the findings stay readable until the next doctor()
        state.on, state.active, state.silenced, state.options = saved
        config._apply()


def found(case, fix: bool, *checks: str, **options) -> list:
    """The findings of one run of `case(fix)` (every check on unless `checks` are named)."""
    with doctor(*checks, dead_relu_batches=20, **options) as caught:
        case(fix)
        findings = torch.doctor.findings()
    assert len([w for w in caught if w.category is torch.doctor.DoctorWarning]) == len(findings)
    return findings


def line_of(marker: str, path: str = __file__) -> int:
    """The line of `path` holding the comment `marker`."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if marker in line and "line_of(" not in line:
                return n
    raise AssertionError(marker)
