"""Upsampling decoders and efficient convolutions: a convolutional autoencoder whose
ConvTranspose2d layers use output_padding to undo stride-2 convs on odd sizes, forward(x,
output_size=...) on a transposed conv, nn.Unflatten from a linear bottleneck, SegNet-style
MaxPool2d(return_indices=True) / MaxUnpool2d(output_size=...), grouped and dilated
ConvTranspose1d/2d, F.conv_transpose2d with groups, depthwise-separable convs (groups=in_channels
+ 1x1), ShuffleNet's channel shuffle by view/transpose/contiguous, and a PixelShuffle upsampler
with ICNR initialisation (kaiming_normal_ on a sub-kernel repeated with repeat_interleave)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class ConvAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),   # 13 -> 7
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(),   # 7 -> 4
            nn.Flatten(), nn.Linear(8 * 4 * 4, 6),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Linear(6, 8 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (8, 4, 4)),
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=0), nn.ReLU(),  # 7
            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=0), nn.Sigmoid(),  # 13
        )  # fmt: skip

    def forward(self, x):
        return self.decoder(self.encoder(x))


class SegNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(2, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        self.dec = nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.enc(x))
        size = h.size()
        p, idx = self.pool(h)
        u = self.unpool(p, idx, output_size=size)
        return self.dec(u), idx


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu6(self.bn(self.pointwise(self.depthwise(x))))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    return torch.transpose(x, 1, 2).contiguous().view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, channels=8, groups=2):
        super().__init__()
        self.groups = groups
        self.gconv1 = nn.Conv2d(channels, channels, 1, groups=groups)
        self.dw = nn.Conv2d(channels, channels, 3, padding=2, dilation=2, groups=channels)
        self.gconv2 = nn.Conv2d(channels, channels, 1, groups=groups)

    def forward(self, x):
        h = channel_shuffle(F.relu(self.gconv1(x)), self.groups)
        return F.relu(x + self.gconv2(self.dw(h)))


def icnr_(weight, scale=2):
    out_c, in_c, kh, kw = weight.shape
    sub = torch.zeros(out_c // scale**2, in_c, kh, kw)
    nn.init.kaiming_normal_(sub)
    weight.data.copy_(sub.repeat_interleave(scale**2, dim=0))


class Upsampler(nn.Module):
    def __init__(self, channels=4, scale=2):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels * scale**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        return self.shuffle(F.leaky_relu(self.conv(x), 0.1))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    imgs = torch.from_numpy(rng.rand(4, 1, 13, 13).astype(np.float32))
    ae = sync(ConvAE())
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        recon = ae(imgs)
        loss = F.binary_cross_entropy(recon, imgs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["ae"] = [losses, list(recon.shape), ae.decoder[3].weight]

    up = sync(nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1))
    z = torch.from_numpy(rng.rand(1, 3, 5, 6).astype(np.float32)).requires_grad_()
    y1, y2 = up(z), up(z, output_size=[10, 12])
    (y1.sum() + (y2 * y2).sum()).backward()
    out["output_size"] = [list(y1.shape), y2, z.grad, up.weight.grad]
    pad_out = sync(nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), padding=1, output_padding=(1, 2)))
    out["output_padding"] = pad_out(z)

    seg = sync(SegNetBlock())
    x = torch.from_numpy(rng.rand(2, 2, 7, 9).astype(np.float32))
    y, idx = seg(x)
    y.pow(2).mean().backward()
    out["segnet"] = [y, idx, seg.enc.weight.grad]

    grouped_t1 = sync(nn.ConvTranspose1d(4, 6, 3, stride=2, groups=2, dilation=2))
    grouped_t2 = sync(nn.ConvTranspose2d(4, 4, (2, 3), stride=(2, 1), groups=4, bias=False))
    s = torch.from_numpy(rng.rand(2, 4, 5).astype(np.float32)).requires_grad_()
    im = torch.from_numpy(rng.rand(1, 4, 3, 4).astype(np.float32)).requires_grad_()
    a, b = grouped_t1(s), grouped_t2(im)
    c = F.conv_transpose2d(im, grouped_t2.weight, stride=2, padding=1, groups=4, output_padding=1)
    (a.sum() + b.pow(2).sum() + c.mean()).backward()
    out["grouped_transposed"] = [a, b, c, s.grad, im.grad, grouped_t1.weight.grad,
                                 grouped_t2.weight.grad]  # fmt: skip

    net = sync(nn.Sequential(DepthwiseSeparable(3, 8, stride=2), ShuffleUnit(), ShuffleUnit(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)))  # fmt: skip
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x = torch.from_numpy(rng.rand(4, 3, 10, 10).astype(np.float32))
    t = torch.tensor([0, 1, 1, 0])
    for _ in range(2):
        loss = F.cross_entropy(net(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["shuffle_net"] = [loss, net[1].dw.weight, net[0].depthwise.weight.grad]
    out["channel_shuffle"] = channel_shuffle(torch.arange(8.0).view(1, 8, 1, 1), 2).flatten()

    ups = Upsampler()
    icnr_(ups.conv.weight)
    nn.init.zeros_(ups.conv.bias)
    sync(ups)
    lr = torch.from_numpy(rng.rand(1, 4, 3, 3).astype(np.float32))
    hr = ups(lr)
    F.l1_loss(hr, torch.zeros_like(hr)).backward()
    out["pixel_shuffle"] = [hr, ups.conv.weight.grad]
    # ICNR: every 2x2 output block starts out constant (no checkerboard)
    blocks = hr.detach()[0, 0].unfold(0, 2, 2).unfold(1, 2, 2)
    out["icnr_block_spread"] = (blocks.amax((-1, -2)) - blocks.amin((-1, -2))).max() < 1e-6
    return out
