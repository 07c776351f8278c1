"""pytorch/examples mnist: two convs, max_pool2d, Dropout, Adadelta + StepLR, test loop with
reduction='sum', argmax(keepdim=True) and eq(view_as)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


class LeNet(nn.Module):
    """The 60-minute blitz network: view(-1, 16 * 5 * 5) right after conv and pool."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 12)
        self.fc2 = nn.Linear(12, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def train(model, device, train_loader, optimizer, log):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        log.append(loss.item())


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def main(sync, workdir):
    rng = np.random.RandomState(0)
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    train_kwargs = {"batch_size": 8}
    if use_cuda:
        train_kwargs.update({"num_workers": 1, "pin_memory": True, "shuffle": True})
    x = torch.from_numpy(rng.rand(24, 1, 12, 12).astype(np.float32))
    x = (x - 0.1307) / 0.3081
    y = torch.from_numpy(rng.randint(0, 10, size=24))
    train_loader = DataLoader(TensorDataset(x[:16], y[:16]), **train_kwargs)
    test_loader = DataLoader(TensorDataset(x[16:], y[16:]), batch_size=4)
    model = sync(Net().to(device))
    model.dropout1.p = model.dropout2.p = 0.0  # both frameworks draw different masks
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    log, tests = [], []
    for epoch in range(1, 4):
        train(model, device, train_loader, optimizer, log)
        tests.append(test(model, device, test_loader))
        scheduler.step()
    out = {"log": log, "tests": tests, "lr": scheduler.get_last_lr()}

    net = sync(LeNet())
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    images = torch.from_numpy(rng.rand(4, 3, 32, 32).astype(np.float32) * 2 - 1)
    labels = torch.from_numpy(rng.randint(0, 10, size=4))
    running_loss = 0.0
    for _ in range(2):
        optimizer.zero_grad()
        outputs = net(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    _, predicted = torch.max(outputs, 1)
    out["lenet"] = [running_loss, predicted, outputs]
    classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    out["lenet_names"] = " ".join(f"{classes[predicted[j]]:5s}" for j in range(4))
    correct_pred = {classname: 0 for classname in classes}
    for label, prediction in zip(labels, predicted):
        if label == prediction:
            correct_pred[classes[label]] += 1
    out["per_class"] = correct_pred
    return out
