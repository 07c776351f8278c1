"""pytorch/examples super_resolution (ESPCN): Conv2d stack ending in nn.PixelShuffle,
init.orthogonal_ with calculate_gain('relu'), an MSE loss and PSNR through log10, the Y channel
of a YCbCr conversion, low-resolution inputs from F.interpolate(mode='bicubic') /
F.avg_pool2d, nn.PixelUnshuffle as the inverse, bicubic/bilinear baselines, and an SRResNet-style
residual block with PReLU and an upsampler of two PixelShuffle(2) stages."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        return self.pixel_shuffle(self.conv4(x))

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv4.weight)


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class SRResNet(nn.Module):
    def __init__(self, channels=8, n_blocks=2):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, channels, 9, padding=4), nn.PReLU(channels))
        self.body = nn.Sequential(*[ResidualBlock(channels) for _ in range(n_blocks)])
        self.upsample = nn.Sequential(
            *[
                nn.Sequential(nn.Conv2d(channels, channels * 4, 3, padding=1),
                              nn.PixelShuffle(2), nn.PReLU())
                for _ in range(2)
            ]
        )  # fmt: skip
        self.tail = nn.Conv2d(channels, 3, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        return torch.tanh(self.tail(self.upsample(self.body(h) + h)))


def rgb_to_y(img):
    r, g, b = img.unbind(dim=-3)
    return (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)


def psnr(mse):
    return 10 * math.log10(1 / mse)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    upscale = 3
    hr = torch.from_numpy(rng.rand(6, 3, 12, 12).astype(np.float32))
    hr_y = rgb_to_y(hr)
    lr_y = F.avg_pool2d(hr_y, upscale)
    model = sync(Net(upscale))
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for epoch in range(4):
        epoch_loss = 0
        for i in range(0, 6, 3):
            optimizer.zero_grad()
            loss = criterion(model(lr_y[i : i + 3]), hr_y[i : i + 3])
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
        history.append(epoch_loss / 2)
    with torch.no_grad():
        sr = model(lr_y).clamp(0, 1)
        avg_psnr = sum(psnr(criterion(s, h).item()) for s, h in zip(sr, hr_y)) / len(sr)
        bicubic = F.interpolate(lr_y, scale_factor=upscale, mode="bicubic", align_corners=False)
        bilinear = F.interpolate(lr_y, size=(12, 12), mode="bilinear", align_corners=True)
    out = {
        "history": history,
        "avg_psnr": avg_psnr,
        "sr": sr,
        "bicubic_psnr": psnr(F.mse_loss(bicubic.clamp(0, 1), hr_y).item()),
        "bilinear": bilinear,
        "output_shape": list(sr.shape),
    }
    unshuffle = nn.PixelUnshuffle(upscale)
    out["unshuffle_roundtrip"] = torch.equal(model.pixel_shuffle(unshuffle(hr_y)), hr_y)
    out["unshuffled"] = F.pixel_unshuffle(hr[:1], 2)[0, :5, 0]

    sr_net = sync(SRResNet())
    opt = torch.optim.Adam(sr_net.parameters(), lr=1e-4, betas=(0.9, 0.999))
    lr_rgb = F.interpolate(hr, scale_factor=0.25, mode="bicubic", align_corners=False,
                           antialias=True)  # fmt: skip
    target = hr * 2 - 1
    sr_losses = []
    for step in range(3):
        opt.zero_grad()
        loss = F.mse_loss(sr_net(lr_rgb), target)
        loss.backward()
        opt.step()
        sr_losses.append(loss.item())
    sr_net.eval()
    with torch.no_grad():
        out["srresnet"] = [sr_losses, sr_net(lr_rgb[:2]), sr_net.body[0].bn1.running_var]
    return out
