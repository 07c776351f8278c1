"""A toy speech recogniser trained with CTC: a Conv1d front end over features, a bidirectional
GRU, log_softmax in (T, N, C) layout, nn.CTCLoss with per-sample input and target lengths
(padded 2-D targets and concatenated 1-D targets), zero_infinity, every reduction, and greedy
CTC decoding with unique_consecutive."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}

BLANK = 0
N_CLASS = 6  # blank + 5 symbols


class SpeechModel(nn.Module):
    def __init__(self, n_feats=5, hidden=8, n_class=N_CLASS):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv1d(n_feats, hidden, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Conv1d(hidden, hidden, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.rnn = nn.GRU(hidden, hidden, num_layers=1, bidirectional=True, batch_first=True)
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(2 * hidden, n_class))

    def forward(self, x):
        # x: (N, feats, T)
        x = self.cnn(x)  # (N, H, T/2)
        x = x.transpose(1, 2)  # (N, T', H)
        x, _ = self.rnn(x)
        x = self.classifier(x)  # (N, T', C)
        return F.log_softmax(x, dim=2).transpose(0, 1)  # (T', N, C) for CTC


def greedy_decode(log_probs, lengths):
    # log_probs: (T, N, C)
    best = log_probs.argmax(dim=2).transpose(0, 1)  # (N, T)
    decoded = []
    for seq, n in zip(best, lengths):
        collapsed = torch.unique_consecutive(seq[: int(n)])
        decoded.append(collapsed[collapsed != BLANK].tolist())
    return decoded


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(SpeechModel())
    ctc_loss = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=5e-3, steps_per_epoch=4, epochs=1, anneal_strategy="linear"
    )
    feats = torch.from_numpy(rng.randn(3, 5, 16).astype(np.float32))
    input_lengths = torch.tensor([8, 7, 5])
    target_lengths = torch.tensor([3, 2, 4])
    targets = torch.from_numpy(rng.randint(1, N_CLASS, size=(3, 4)))
    out = {"losses": []}
    for step in range(4):
        log_probs = model(feats)
        loss = ctc_loss(log_probs, targets, input_lengths, target_lengths)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        out["losses"].append(loss.item())
    out["state"] = model.state_dict()
    out["lrs"] = scheduler.get_last_lr()

    # the functional form with every reduction, concatenated targets and infeasible samples
    logits = torch.from_numpy(rng.randn(6, 3, N_CLASS).astype(np.float32)).requires_grad_()
    lp = logits.log_softmax(2)
    flat_targets = torch.cat([targets[i, : target_lengths[i]] for i in range(3)])
    results = []
    for reduction in ("none", "sum", "mean"):
        results.append(
            F.ctc_loss(lp, flat_targets, torch.tensor([6, 6, 5]), target_lengths,
                       reduction=reduction, zero_infinity=False)  # fmt: skip
        )
    out["reductions"] = results
    # a target longer than its input: inf without zero_infinity, 0 (and no NaN grad) with it
    short = torch.tensor([6, 2, 5])
    out["inf"] = F.ctc_loss(lp, targets, short, target_lengths, reduction="none")
    zeroed = F.ctc_loss(lp, targets, short, target_lengths, reduction="sum", zero_infinity=True)
    zeroed.backward()
    out["zeroed"] = [zeroed, logits.grad]
    # repeated labels need a blank between them
    rep = torch.tensor([[1, 1, 2]])
    out["repeat"] = F.ctc_loss(lp[:, :1], rep, torch.tensor([4]), torch.tensor([3]))

    model.eval()
    with torch.no_grad():
        log_probs = model(feats)
        hyps = greedy_decode(log_probs, input_lengths)
    refs = [targets[i, : target_lengths[i]].tolist() for i in range(3)]
    out["hyps"] = hyps
    out["cer"] = sum(edit_distance(h, r) for h, r in zip(hyps, refs)) / sum(map(len, refs))
    out["unique"] = list(torch.unique_consecutive(torch.tensor([1, 1, 0, 2, 2, 2, 1]),
                                                  return_counts=True))  # fmt: skip
    return out
