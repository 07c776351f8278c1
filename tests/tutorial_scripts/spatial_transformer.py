"""Spatial transformer networks: a localisation net, F.affine_grid and F.grid_sample."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
        self.conv2 = nn.Conv2d(4, 6, kernel_size=3)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(6 * 3 * 3, 16)
        self.fc2 = nn.Linear(16, 5)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(4, 5, kernel_size=3),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(nn.Linear(5 * 2 * 2, 16), nn.ReLU(True), nn.Linear(16, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 5 * 2 * 2)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 6 * 3 * 3)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(Net())
    out = {"initial_identity": model.fc_loc[2].bias.clone()}
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    model.eval()  # dropout off so both frameworks see the same network
    losses = []
    for step in range(3):
        data = torch.from_numpy(rng.rand(4, 1, 18, 18).astype(np.float32))
        target = torch.from_numpy(rng.randint(0, 5, size=4))
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["theta_grad"] = model.fc_loc[2].weight.grad
    with torch.no_grad():
        data = torch.from_numpy(rng.rand(2, 1, 18, 18).astype(np.float32))
        out["transformed"] = model.stn(data)
        theta = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]]]).repeat(2, 1, 1)
        for align in (True, False):
            grid = F.affine_grid(theta, (2, 1, 7, 9), align_corners=align)
            out[f"grid_{align}"] = grid
            for mode in ("bilinear", "nearest"):
                for pad in ("zeros", "border", "reflection"):
                    out[f"{mode}_{pad}_{align}"] = F.grid_sample(
                        data, grid, mode=mode, padding_mode=pad, align_corners=align
                    )
    model.train()
    out["train_shape"] = list(model(data).shape)
    return out
