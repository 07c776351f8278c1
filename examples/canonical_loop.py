"""The canonical PyTorch training loop. It runs on Ember by changing one line:

    import torch          ->          import ember as torch

An MLP 784 -> 256 -> 256 -> 10 with Dropout(0.2), AdamW, CosineAnnealingLR, CrossEntropyLoss,
gradient clipping, then evaluation under model.eval() and no_grad(). The data are
scikit-learn's bundled digits, upscaled from 8x8 to 28x28 so the input is MNIST-sized.
"""

import numpy as np
from sklearn.datasets import load_digits

import torch


def load_data(seed: int = 0):
    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3)))  # 8x8 -> 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))) / 16.0  # -> 28x28 in [0, 1]
    order = np.random.default_rng(seed).permutation(len(images))
    x = images[order].astype(np.float32).reshape(-1, 1, 28, 28)
    y = digits.target[order].astype(np.int64)
    split = int(0.8 * len(x))
    return (x[:split], y[:split]), (x[split:], y[split:])


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Flatten(),
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
            torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
            torch.nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.net(x)


def main(epochs: int = 8, seed: int = 0) -> float:
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    (x_train, y_train), (x_test, y_test) = load_data(seed)
    train_set = torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train))
    test_set = torch.utils.data.TensorDataset(torch.tensor(x_test), torch.tensor(y_test))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=256)

    model = MLP().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = torch.nn.CrossEntropyLoss()

    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total += loss.item() * xb.size(0)
        scheduler.step()
        print(f"epoch {epoch + 1}: train loss {total / len(train_set):.4f}, "
              f"lr {scheduler.get_last_lr()[0]:.2e}")

    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in test_loader:
            xb, yb = xb.to(device), yb.to(device)
            correct += (model(xb).argmax(dim=1) == yb).sum().item()
    accuracy = correct / len(test_set)
    print(f"test accuracy {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
