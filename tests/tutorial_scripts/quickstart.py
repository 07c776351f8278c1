"""Learn-the-basics quickstart: Dataset, DataLoader, nn.Sequential, train/test loops, save/load."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class TinyImages(Dataset):
    def __init__(self, n, seed):
        rng = np.random.RandomState(seed)
        self.images = rng.rand(n, 1, 6, 6).astype(np.float32)
        self.labels = (self.images.reshape(n, -1).sum(1) > 18).astype(np.int64) + 2 * (
            self.images[:, 0, 0, 0] > 0.5
        )

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx])
        label = int(self.labels[idx])
        return image, label


device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(6 * 6, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 4),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer, log):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            log.append(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct


def main(sync, workdir):
    training_data = TinyImages(96, 0)
    test_data = TinyImages(40, 1)
    train_dataloader = DataLoader(training_data, batch_size=16)
    test_dataloader = DataLoader(test_data, batch_size=16)
    X, y = next(iter(test_dataloader))
    shapes = [list(X.shape), str(X.dtype), list(y.shape), str(y.dtype)]

    model = sync(NeuralNetwork().to(device))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    log, history = [], []
    for t in range(3):
        train(train_dataloader, model, loss_fn, optimizer, log)
        history.append(test(test_dataloader, model, loss_fn))

    torch.save(model.state_dict(), workdir / "model.pth")
    model2 = NeuralNetwork().to(device)
    model2.load_state_dict(torch.load(workdir / "model.pth", weights_only=True))
    model2.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model2(x.unsqueeze(0))
        predicted = pred[0].argmax(0)

    shuffled = DataLoader(training_data, batch_size=10, shuffle=True)
    seen = sorted(int(v) for _, yb in shuffled for v in yb)
    return {
        "shapes": shapes,
        "history": [list(h) for h in history],
        "log": [line.split("[")[1] for line in log],
        "loss_values": [float(line.split()[1]) for line in log],
        "pred": pred,
        "predicted": int(predicted),
        "state_keys": list(model2.state_dict().keys()),
        "n_batches": [len(train_dataloader), len(shuffled)],
        "labels_seen": seen == sorted(int(v) for v in training_data.labels),
        "repr": repr(model),
    }
