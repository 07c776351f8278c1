"""A small U-Net for segmentation: double conv blocks, MaxPool2d down, ConvTranspose2d up,
skip connections with torch.cat and F.pad to match sizes, CrossEntropyLoss over (N, C, H, W)
with ignore_index, a Dice loss, and per-class IoU from argmax."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=False):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False):
        super().__init__()
        self.inc = DoubleConv(n_channels, 4)
        self.down1 = Down(4, 8)
        factor = 2 if bilinear else 1
        self.down2 = Down(8, 16 // factor)
        self.up1 = Up(16, 8 // factor, bilinear)
        self.up2 = Up(8, 4, bilinear)
        self.outc = nn.Conv2d(4, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


def dice_loss(logits, target, n_classes, eps=1e-6):
    probs = F.softmax(logits, dim=1)
    one_hot = F.one_hot(target.clamp(min=0), n_classes).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = torch.sum(probs * one_hot, dims)
    card = torch.sum(probs + one_hot, dims)
    return 1 - ((2.0 * inter + eps) / (card + eps)).mean()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    for bilinear in (False, True):
        model = sync(UNet(3, 3, bilinear=bilinear))
        optimizer = torch.optim.RMSprop(
            model.parameters(), lr=1e-3, weight_decay=1e-8, momentum=0.9
        )
        criterion = nn.CrossEntropyLoss(ignore_index=255)
        losses = []
        for step in range(2):
            images = torch.from_numpy(rng.rand(2, 3, 10, 10).astype(np.float32))
            masks = torch.from_numpy(rng.randint(0, 3, size=(2, 10, 10)))
            masks[:, 0, :] = 255
            masks_pred = model(images)
            loss = criterion(masks_pred, masks) + dice_loss(
                masks_pred, masks.masked_fill(masks == 255, 0), 3
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            pred = model(images).argmax(dim=1)
        ious = []
        for c in range(3):
            inter = ((pred == c) & (masks == c)).sum().item()
            union = ((pred == c) | (masks == c)).sum().item()
            ious.append(inter / union if union else float("nan"))
        out[f"bilinear_{bilinear}"] = {
            "losses": losses,
            "pred": pred,
            "ious": ious,
            "outc_grad": model.outc.weight.grad,
        }
    return out
