"""Video models from the spatio-temporal tutorials: a ConvLSTM cell (one Conv2d over
torch.cat([x, h], dim=1) split into gates by torch.split), a two-layer ConvLSTM unrolled over
time with hidden states initialised by torch.zeros(..., device=x.device), next-frame
prediction with a 1x1 head and a sigmoid, a C3D-style classifier with Conv3d, BatchNorm3d,
MaxPool3d(kernel_size=(1, 2, 2)) and AdaptiveAvgPool3d, a (2+1)D factorised convolution, a
ConvTranspose3d, trilinear F.interpolate, and frames rearranged with permute/reshape between
(B, T, C, H, W) and (B, C, T, H, W)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class ConvLSTMCell(nn.Module):
    def __init__(self, input_dim, hidden_dim, kernel_size=3, bias=True):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.conv = nn.Conv2d(input_dim + hidden_dim, 4 * hidden_dim, kernel_size,
                              padding=kernel_size // 2, bias=bias)  # fmt: skip

    def forward(self, x, cur_state):
        h_cur, c_cur = cur_state
        combined_conv = self.conv(torch.cat([x, h_cur], dim=1))
        cc_i, cc_f, cc_o, cc_g = torch.split(combined_conv, self.hidden_dim, dim=1)
        i, f, o = torch.sigmoid(cc_i), torch.sigmoid(cc_f), torch.sigmoid(cc_o)
        g = torch.tanh(cc_g)
        c_next = f * c_cur + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next

    def init_hidden(self, batch_size, image_size):
        height, width = image_size
        return (torch.zeros(batch_size, self.hidden_dim, height, width,
                            device=self.conv.weight.device),
                torch.zeros(batch_size, self.hidden_dim, height, width,
                            device=self.conv.weight.device))  # fmt: skip


class ConvLSTM(nn.Module):
    def __init__(self, dims=(1, 4, 4)):
        super().__init__()
        self.cells = nn.ModuleList(ConvLSTMCell(a, b) for a, b in zip(dims[:-1], dims[1:],
                                                                      strict=True))  # fmt: skip
        self.head = nn.Conv2d(dims[-1], 1, 1)

    def forward(self, frames):  # (B, T, C, H, W)
        b, t, _, h, w = frames.size()
        states = [cell.init_hidden(b, (h, w)) for cell in self.cells]
        preds = []
        for step in range(t):
            x = frames[:, step]
            for i, cell in enumerate(self.cells):
                states[i] = cell(x, states[i])
                x = states[i][0]
            preds.append(torch.sigmoid(self.head(x)))
        return torch.stack(preds, dim=1), states


class R2Plus1D(nn.Module):
    def __init__(self, cin, cout, mid=4):
        super().__init__()
        self.spatial = nn.Conv3d(cin, mid, (1, 3, 3), padding=(0, 1, 1), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.temporal = nn.Conv3d(mid, cout, (3, 1, 1), padding=(1, 0, 0), bias=False)

    def forward(self, x):
        return self.temporal(F.relu(self.bn(self.spatial(x))))


class C3D(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2)),
            R2Plus1D(4, 6), nn.ReLU(),
            nn.MaxPool3d(2, stride=2, ceil_mode=True),
            nn.AdaptiveAvgPool3d(1),
        )  # fmt: skip
        self.fc = nn.Linear(6, n_classes)

    def forward(self, x):  # (B, C, T, H, W)
        return self.fc(self.features(x).flatten(1))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    # moving squares: 2 clips of 6 frames of 8x8
    frames = np.zeros((2, 7, 1, 8, 8), np.float32)
    for b in range(2):
        for t in range(7):
            r, c = (t + b) % 6, (2 * t + b) % 6
            frames[b, t, 0, r : r + 3, c : c + 3] = 1.0
    frames = torch.from_numpy(frames + 0.05 * rng.rand(*frames.shape).astype(np.float32))
    out = {}
    model = sync(ConvLSTM())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        preds, states = model(frames[:, :-1])
        loss = F.binary_cross_entropy(preds, frames[:, 1:].clamp(0, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["convlstm"] = [losses, states[1][1], model.cells[0].conv.weight.grad]
    with torch.no_grad():
        x = frames[:, :3]
        for _ in range(2):  # autoregressive rollout
            p, _ = model(x)
            x = torch.cat([x, p[:, -1:]], dim=1)
    out["rollout"] = x[:, -2:]

    clips = frames.permute(0, 2, 1, 3, 4).contiguous()  # (B, C, T, H, W)
    clips = torch.cat([clips, clips.flip(2)], dim=0)
    labels = torch.tensor([0, 1, 2, 0])
    c3d = sync(C3D())
    opt = torch.optim.SGD(c3d.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):
        loss = F.cross_entropy(c3d(clips), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["c3d"] = [loss, c3d.features[4].temporal.weight.grad, c3d.features[1].running_var,
                  list(c3d.features[:4](clips).shape)]  # fmt: skip
    c3d.eval()
    with torch.no_grad():
        out["c3d_eval"] = c3d(clips)

    up = sync(nn.ConvTranspose3d(1, 2, (2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1),
                                 output_padding=(0, 1, 1)))  # fmt: skip
    v = clips[:1, :, :3, :4, :4].clone().requires_grad_()
    y = up(v)
    z = F.interpolate(v, scale_factor=(2, 1.5, 1.5), mode="trilinear", align_corners=False)
    (y.square().sum() + z.sum() + F.interpolate(v, size=(2, 3, 5), mode="nearest").sum()).backward()
    out["transposed3d"] = [y, z, v.grad, up.weight.grad]
    return out
