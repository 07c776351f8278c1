"""Dense-prediction heads from the detection and segmentation repositories: a small backbone
returning multi-scale features, an FPN with 1x1 lateral convs and a top-down path through
F.interpolate(size=lateral.shape[-2:], mode='nearest') on odd sizes, 3x3 smoothing convs and an
extra P6 by max_pool2d(kernel_size=1, stride=2), a DeepLabv3 ASPP (dilated 3x3 convs, an image-
pooling branch upsampled with bilinear align_corners=False), a decoder joining low-level
features by torch.cat, nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True), GroupNorm,
InstanceNorm2d(affine=True, track_running_stats=True) in train and eval, interpolate with
non-integer scale_factor and recompute_scale_factor, 'nearest-exact', 'area' and antialias."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


def conv_gn(cin, cout, stride=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.GroupNorm(2, cout), nn.ReLU(inplace=True),
    )  # fmt: skip


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_gn(3, 4)
        self.c2 = conv_gn(4, 8, stride=2)
        self.c3 = conv_gn(8, 8, stride=2)
        self.c4 = conv_gn(8, 12, stride=2)

    def forward(self, x):
        c1 = self.stem(x)
        c2 = self.c2(c1)
        c3 = self.c3(c2)
        return {"c2": c2, "c3": c3, "c4": self.c4(c3)}


class FPN(nn.Module):
    def __init__(self, in_channels=(8, 8, 12), out=6):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, out, 1) for c in in_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(out, out, 3, padding=1) for _ in in_channels)

    def forward(self, feats):
        feats = list(feats.values())
        laterals = [lat(f) for lat, f in zip(self.lateral, feats, strict=True)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[-2:], mode="nearest"
            )
        outs = [s(p) for s, p in zip(self.smooth, laterals, strict=True)]
        outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))  # P6
        return outs


class ASPP(nn.Module):
    def __init__(self, cin, cout=6, rates=(1, 2, 3)):
        super().__init__()
        self.branches = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())]
            + [nn.Sequential(nn.Conv2d(cin, cout, 3, padding=r, dilation=r, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU()) for r in rates]
        )  # fmt: skip
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False),
                                  nn.ReLU())  # fmt: skip
        self.project = nn.Sequential(nn.Conv2d(cout * (len(rates) + 2), cout, 1, bias=False),
                                     nn.BatchNorm2d(cout), nn.ReLU(), nn.Dropout(0.0))  # fmt: skip

    def forward(self, x):
        res = [b(x) for b in self.branches]
        pooled = self.pool(x)
        res.append(F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=False))
        return self.project(torch.cat(res, dim=1))


class DeepLabV3Plus(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.backbone = Backbone()
        self.aspp = ASPP(12)
        self.low = nn.Sequential(nn.Conv2d(8, 4, 1, bias=False), nn.InstanceNorm2d(
            4, affine=True, track_running_stats=True), nn.ReLU())  # fmt: skip
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.head = nn.Conv2d(10, n_classes, 3, padding=1)

    def forward(self, x):
        f = self.backbone(x)
        a = self.up(self.aspp(f["c4"]))
        a = F.interpolate(a, size=f["c2"].shape[-2:], mode="bilinear", align_corners=False)
        y = self.head(torch.cat([a, self.low(f["c2"])], dim=1))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.rand(2, 3, 27, 21).astype(np.float32))
    target = torch.from_numpy(rng.randint(0, 3, size=(2, 27, 21)))
    out = {}

    backbone, fpn = sync(Backbone()), sync(FPN())
    feats = backbone(x)
    pyramid = fpn(feats)
    out["fpn_shapes"] = [list(p.shape) for p in pyramid]
    sum(p.square().mean() for p in pyramid).backward()
    out["fpn_grads"] = [fpn.lateral[2].weight.grad, backbone.c2[1].weight.grad]

    model = sync(DeepLabV3Plus())
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    losses = []
    for _ in range(3):
        logits = model(x)
        loss = F.cross_entropy(logits, target, ignore_index=255)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["in_running"] = [model.low[1].running_mean, model.low[1].running_var]
    out["bn_running"] = model.aspp.branches[2][1].running_var
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    out["pred"] = pred
    out["head_weight"] = model.head.weight

    img = torch.from_numpy(rng.rand(1, 2, 7, 9).astype(np.float32)).requires_grad_()
    resized = [
        F.interpolate(img, scale_factor=1.7, mode="bilinear"),
        F.interpolate(img, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
        F.interpolate(img, scale_factor=0.6, mode="nearest"),
        F.interpolate(img, size=(4, 5), mode="nearest-exact"),
        F.interpolate(img, size=(3, 4), mode="area"),
        F.interpolate(img, size=(4, 5), mode="bilinear", antialias=True),
        F.interpolate(img, scale_factor=(2, 1.5), mode="bicubic", align_corners=True),
        nn.Upsample(size=(5, 6), mode="nearest")(img),
    ]
    sum((r * torch.arange(r.numel()).view(r.shape).sin()).sum() for r in resized).backward()
    out["resized"] = [r.detach() for r in resized]
    out["resize_grad"] = img.grad
    return out
