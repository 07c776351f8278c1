"""Multi-step time-series forecasting as taught in the forecasting courses: sliding windows
from Tensor.unfold, min-max scaling fitted on the training split, a GRU encoder/decoder with
teacher forcing decided by a numpy generator, an LSTM with proj_size and two layers, pack_sequence
over series of different lengths with PackedSequence fields (data, batch_sizes,
sorted_indices), a dilated causal Conv1d (TCN) block with left padding by F.pad, GRUCell/
LSTMCell autoregressive rollout, and MAE/RMSE/MAPE metrics."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence


class Seq2Seq(nn.Module):
    def __init__(self, hidden=16, horizon=4):
        super().__init__()
        self.horizon = horizon
        self.encoder = nn.GRU(1, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.GRU(1, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, src, target=None, teacher_forcing=None):
        _, hidden = self.encoder(src)
        dec_input = src[:, -1:, :]
        outputs = []
        for t in range(self.horizon):
            dec_out, hidden = self.decoder(dec_input, hidden)
            pred = self.out(dec_out)
            outputs.append(pred)
            if target is not None and teacher_forcing is not None and teacher_forcing[t]:
                dec_input = target[:, t : t + 1, :]
            else:
                dec_input = pred
        return torch.cat(outputs, dim=1)


class ProjectedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=2, hidden_size=12, num_layers=2, proj_size=4,
                            batch_first=True)  # fmt: skip
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1]), h, c


class CausalConvBlock(nn.Module):
    def __init__(self, channels, kernel_size, dilation):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.norm = nn.BatchNorm1d(channels)

    def forward(self, x):
        return x + F.relu(self.norm(self.conv(F.pad(x, (self.pad, 0)))))


class TCN(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 1)
        self.blocks = nn.Sequential(*[CausalConvBlock(channels, 3, d) for d in (1, 2, 4)])
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x):  # (B, 1, T)
        return self.out(self.blocks(self.inp(x)))


def metrics(pred, true):
    err = pred - true
    return {
        "mae": err.abs().mean().item(),
        "rmse": err.pow(2).mean().sqrt().item(),
        "mape": (err.abs() / true.abs().clamp(min=1e-3)).mean().item() * 100,
    }


def main(sync, workdir):
    rng = np.random.RandomState(0)
    t = np.arange(120, dtype=np.float32)
    series = (
        np.sin(t / 6) + 0.3 * np.sin(t / 2.5) + 0.1 * rng.randn(120).astype(np.float32) + t / 60
    )
    series = torch.from_numpy(series.astype(np.float32))
    train, test = series[:90], series[90:]
    lo, hi = train.min(), train.max()
    scale = lambda x: (x - lo) / (hi - lo)  # noqa: E731
    window, horizon = 12, 4
    windows = scale(train).unfold(0, window + horizon, 2)  # (N, window + horizon)
    X, Y = windows[:, :window, None], windows[:, window:, None]
    out = {
        "windows_shape": list(windows.shape),
        "scaled_range": [scale(train).min(), scale(train).max()],
    }

    model = sync(Seq2Seq(horizon=horizon))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    history = []
    for epoch in range(3):
        ratio = 0.5 * (1 - epoch / 3)
        for i in range(0, X.size(0), 10):
            forcing = rng.rand(horizon) < ratio
            pred = model(X[i : i + 10], Y[i : i + 10], forcing)
            loss = F.mse_loss(pred, Y[i : i + 10])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            history.append(loss.item())
    model.eval()
    with torch.no_grad():
        test_windows = scale(test).unfold(0, window + horizon, 4)
        pred = model(test_windows[:, :window, None])
        inverse = pred.squeeze(-1) * (hi - lo) + lo
        true = test_windows[:, window:] * (hi - lo) + lo
    out["seq2seq"] = [history, inverse, metrics(inverse, true)]

    # LSTM with projections over two input features
    lstm = sync(ProjectedLSTM())
    features = torch.stack([X[..., 0], X[..., 0].diff(dim=1, prepend=X[:, :1, 0])], dim=-1)
    opt = torch.optim.Adam(lstm.parameters(), lr=1e-2)
    proj_losses = []
    for step in range(3):
        pred, h, c = lstm(features)
        loss = F.l1_loss(pred, Y[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        proj_losses.append(loss.item())
    out["proj_lstm"] = [proj_losses, list(h.shape), list(c.shape), lstm.lstm.weight_hr_l1.grad]

    # series of different lengths, packed without sorting
    gru = sync(nn.GRU(1, 6, batch_first=True, bidirectional=True))
    seqs = [scale(train[s : s + n]).unsqueeze(-1) for s, n in ((0, 7), (10, 12), (30, 4))]
    packed = pack_sequence(seqs, enforce_sorted=False)
    packed_out, h_n = gru(packed)
    padded, lengths = pad_packed_sequence(packed_out, batch_first=True, padding_value=-1.0)
    out["packed"] = [packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices,
                     padded, lengths, torch.cat([h_n[0], h_n[1]], dim=1)]  # fmt: skip

    # temporal convolution, trained to predict the next value
    tcn = sync(TCN())
    opt = torch.optim.SGD(tcn.parameters(), lr=0.005, momentum=0.9, nesterov=True)
    x = scale(train).view(1, 1, -1)
    tcn_losses = []
    for step in range(3):
        pred = tcn(x[..., :-1])
        loss = F.mse_loss(pred, x[..., 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tcn_losses.append(loss.item())
    out["tcn"] = [tcn_losses, tcn.blocks[2].conv.weight.grad]

    # autoregressive rollout with cells
    gru_cell, lstm_cell = sync(nn.GRUCell(1, 8)), sync(nn.LSTMCell(8, 8))
    readout = sync(nn.Linear(8, 1))
    h, hc = torch.zeros(2, 8), (torch.zeros(2, 8), torch.zeros(2, 8))
    inp = X[:2, 0]
    for step in range(window):
        h = gru_cell(X[:2, step], h)
        hc = lstm_cell(h, hc)
    rollout = []
    for step in range(horizon):
        inp = readout(hc[0])
        h = gru_cell(inp, h)
        hc = lstm_cell(h, hc)
        rollout.append(inp)
    rollout = torch.cat(rollout, dim=1)
    F.mse_loss(rollout, Y[:2, :, 0]).backward()
    out["cells"] = [rollout, gru_cell.weight_hh.grad, lstm_cell.bias_ih.grad]
    return out
