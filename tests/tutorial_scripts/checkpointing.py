"""Saving and loading a general checkpoint: model, optimizer and scheduler state, resume."""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
        self.pool = nn.MaxPool2d(2, 2)
        self.bn = nn.BatchNorm2d(4)
        self.fc1 = nn.Linear(4 * 3 * 3, 12)
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv1(x))))
        x = x.view(-1, 4 * 3 * 3)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def make_batches():
    rng = np.random.RandomState(0)
    return [
        (
            torch.from_numpy(rng.rand(4, 3, 8, 8).astype(np.float32)),
            torch.from_numpy(rng.randint(0, 5, 4)),
        )
        for _ in range(6)
    ]


def train_steps(net, optimizer, scheduler, batches):
    losses = []
    for inputs, labels in batches:
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(net(inputs), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def main(sync, workdir):
    batches = make_batches()
    out = {}
    for opt_name in ["Adam", "SGD", "RMSprop", "AdamW"]:
        net = sync(Net())
        kwargs = {"lr": 0.01}
        if opt_name == "SGD":
            kwargs["momentum"] = 0.9
        optimizer = getattr(optim, opt_name)(net.parameters(), **kwargs)
        scheduler = optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
        first = train_steps(net, optimizer, scheduler, batches[:3])
        PATH = workdir / f"{opt_name}.pt"
        torch.save(
            {
                "epoch": 3,
                "model_state_dict": net.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(),
                "loss": first[-1],
                "history": first,
            },
            PATH,
        )
        uninterrupted = train_steps(net, optimizer, scheduler, batches[3:])

        model = Net()
        optimizer2 = getattr(optim, opt_name)(model.parameters(), **kwargs)
        scheduler2 = optim.lr_scheduler.ExponentialLR(optimizer2, gamma=0.9)
        checkpoint = torch.load(PATH, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler2.load_state_dict(checkpoint["scheduler_state_dict"])
        epoch = checkpoint["epoch"]
        model.train()
        resumed = train_steps(model, optimizer2, scheduler2, batches[3:])
        out[opt_name] = {
            "first": first,
            "resumed_equals": resumed == uninterrupted,
            "resumed": resumed,
            "epoch": epoch,
            "loss": checkpoint["loss"],
            "state_keys": list(optimizer2.state_dict()["state"][0].keys()),
            "param_groups": [
                {k: v for k, v in g.items() if k not in ("params",)}
                for g in optimizer2.state_dict()["param_groups"]
            ],
            "weights": model.state_dict(),
        }

    # a state_dict through an in-memory buffer, a single tensor, and strict=False loading
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    out["buffer_keys"] = list(state.keys())
    torch.save(torch.arange(6).reshape(2, 3), workdir / "t.pt")
    out["tensor"] = torch.load(workdir / "t.pt")
    partial = {k: v for k, v in state.items() if not k.startswith("fc2")}
    result = Net().load_state_dict(partial, strict=False)
    out["missing"] = list(result.missing_keys)
    out["unexpected"] = list(result.unexpected_keys)

    # warm-starting a model with a different head
    class Bigger(Net):
        def __init__(self):
            super().__init__()
            self.fc3 = nn.Linear(5, 2)

    bigger = Bigger()
    result = bigger.load_state_dict(state, strict=False)
    out["bigger_missing"] = list(result.missing_keys)
    out["bigger_fc1"] = bigger.fc1.weight
    try:
        Net().load_state_dict(partial)
        out["strict_error"] = None
    except RuntimeError as e:
        out["strict_error"] = str(e).split("\n")[0]
    # nested containers and Python values round trip
    torch.save({"list": [torch.ones(2), 3, "x"], "tuple": (1.5, torch.zeros(1))}, workdir / "n.pt")
    nested = torch.load(workdir / "n.pt", weights_only=True)
    out["nested"] = [nested["list"], list(nested["tuple"])]
    return out
