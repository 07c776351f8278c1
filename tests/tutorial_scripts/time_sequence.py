"""pytorch/examples time_sequence_prediction: LSTMCell loop in float64, LBFGS with a closure,
future predictions; plus an nn.LSTM regressor with Adam and MSELoss."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 8)
        self.lstm2 = nn.LSTMCell(8, 8)
        self.linear = nn.Linear(8, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 8, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 8, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 8, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 8, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


class LSTMRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=6, num_layers=2, batch_first=True)
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def main(sync, workdir):
    T, L, N = 20, 14, 5
    x = np.empty((N, L), np.int64)
    x[:] = np.array(range(L)) + np.random.RandomState(2).randint(-4 * T, 4 * T, N).reshape(N, 1)
    data = np.sin(x / 1.0 / T).astype("float64")
    input = torch.from_numpy(data[2:, :-1])
    target = torch.from_numpy(data[2:, 1:])
    test_input = torch.from_numpy(data[:2, :-1])
    test_target = torch.from_numpy(data[:2, 1:])
    seq = Sequence()
    seq.double()
    seq = sync(seq)
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=8)
    losses, test_losses = [], []
    for i in range(2):

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            losses.append(loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            future = 5
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            test_losses.append(loss.item())
            y = pred.detach().numpy()
    out = {
        "losses": losses,
        "test_losses": test_losses,
        "future": y[:, -5:],
        "dtype": str(pred.dtype),
    }
    out["lbfgs_state"] = sorted(k for k in optimizer.state_dict()["state"][0].keys())

    # windowed regression with nn.LSTM
    series = np.sin(np.linspace(0, 6, 40)).astype(np.float32)
    windows = np.stack([series[i : i + 8] for i in range(30)])
    X = torch.tensor(windows[:, :-1]).unsqueeze(-1)
    Y = torch.tensor(windows[:, -1:])
    model = sync(LSTMRegressor())
    opt = optim.Adam(model.parameters(), lr=0.02)
    reg_losses = []
    for epoch in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        reg_losses.append(loss.item())
    out["reg_losses"] = reg_losses
    out["lstm_grad"] = model.lstm.weight_ih_l1.grad
    return out
