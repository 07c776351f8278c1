"""EfficientNet/MobileNet building blocks: _make_divisible, depthwise separable convs,
squeeze-and-excitation, inverted residuals with SiLU/ReLU6/Hardswish, stochastic depth from
torch.rand + floor, BatchNorm with momentum/eps variants, channels_last, RMSprop as in the
papers, and an eval pass."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


def _make_divisible(v, divisor=4, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def drop_path(x, drop_prob: float = 0.0, training: bool = False):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)
    random_tensor.floor_()
    return x.div(keep_prob) * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self):
        return f"drop_prob={self.drop_prob}"


class SqueezeExcitation(nn.Module):
    def __init__(self, in_ch, squeeze_ch, activation=nn.SiLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(in_ch, squeeze_ch, 1)
        self.fc2 = nn.Conv2d(squeeze_ch, in_ch, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x):
        scale = self.avgpool(x)
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(scale))))
        return scale * x


class ConvBNAct(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, groups=1, act=nn.SiLU):
        padding = (kernel_size - 1) // 2
        layers = [
            nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch, eps=1e-3, momentum=0.01),
        ]
        if act is not None:
            layers.append(act(inplace=True) if act in (nn.ReLU6, nn.SiLU) else act())
        super().__init__(*layers)
        self.out_channels = out_ch


class MBConv(nn.Module):
    def __init__(self, in_ch, out_ch, expand_ratio, stride, sd_prob, act=nn.SiLU):
        super().__init__()
        self.use_res_connect = stride == 1 and in_ch == out_ch
        hidden = _make_divisible(in_ch * expand_ratio)
        layers = []
        if hidden != in_ch:
            layers.append(ConvBNAct(in_ch, hidden, kernel_size=1, act=act))
        layers.append(ConvBNAct(hidden, hidden, 3, stride, groups=hidden, act=act))
        layers.append(SqueezeExcitation(hidden, max(1, in_ch // 4)))
        layers.append(ConvBNAct(hidden, out_ch, kernel_size=1, act=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = DropPath(sd_prob)

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class DepthwiseSeparable(nn.Module):
    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_ch, in_ch, 3, stride, 1, groups=in_ch, bias=False)
        self.bn1 = nn.BatchNorm2d(in_ch, momentum=None)  # cumulative moving average
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch, eps=1e-5, momentum=0.1, track_running_stats=True)

    def forward(self, x):
        x = F.relu6(self.bn1(self.depthwise(x)))
        return F.hardswish(self.bn2(self.pointwise(x)))


class TinyEfficientNet(nn.Module):
    def __init__(self, num_classes=3, drop_path_rate=0.2):
        super().__init__()
        self.stem = ConvBNAct(3, 8, stride=2)
        cfg = [(8, 8, 1, 1), (8, 12, 4, 2), (12, 12, 4, 1)]
        blocks = []
        for i, (c_in, c_out, e, s) in enumerate(cfg):
            blocks.append(MBConv(c_in, c_out, e, s, drop_path_rate * i / len(cfg)))
        self.blocks = nn.Sequential(*blocks)
        self.dws = DepthwiseSeparable(12, 16)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(p=0.2, inplace=True),
            nn.Linear(16, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / (m.out_features**0.5)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.head(self.dws(self.blocks(self.stem(x))))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(TinyEfficientNet())
    out = {"divisible": [_make_divisible(v) for v in (3, 7.5, 10, 33, 100)]}
    out["repr"] = repr(model.blocks[1].stochastic_depth)
    # stochastic depth: the mask is random, but each sample is either dropped or scaled
    torch.manual_seed(1)
    x = torch.ones(64, 2, 2, 2)
    y = drop_path(x, 0.5, training=True)
    out["drop_path_values"] = sorted(set(y.flatten().tolist()))
    out["drop_path_eval"] = drop_path(x, 0.5, training=False) is x
    out["per_sample"] = bool((y.flatten(1).std(dim=1) == 0).all())

    # train with dropout and drop path off (they draw from each framework's generator)
    for m in model.modules():
        if isinstance(m, DropPath):
            m.drop_prob = 0.0
        elif isinstance(m, nn.Dropout):
            m.p = 0.0
    optimizer = torch.optim.RMSprop(
        model.parameters(), lr=0.01, alpha=0.9, eps=1e-3, momentum=0.9, weight_decay=1e-5
    )
    losses = []
    for _ in range(3):
        images = torch.from_numpy(rng.rand(4, 3, 12, 12).astype(np.float32))
        target = torch.from_numpy(rng.randint(0, 3, size=4))
        loss = F.cross_entropy(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss)
    out["losses"] = losses
    out["state"] = model.state_dict()
    out["bn_tracked"] = model.dws.bn1.num_batches_tracked
    out["grad_sample"] = {n: p.grad for n, p in model.named_parameters() if "fc" in n}
    model.eval()
    with torch.no_grad():
        images = torch.from_numpy(rng.rand(2, 3, 12, 12).astype(np.float32))
        out["eval"] = model(images)
        cl_model = model.to(memory_format=torch.channels_last)
        cl_images = images.to(memory_format=torch.channels_last)
        out["channels_last_in"] = cl_images.is_contiguous(memory_format=torch.channels_last)
        out["channels_last_weight"] = cl_model.stem[0].weight.is_contiguous(
            memory_format=torch.channels_last
        )
        out["eval_cl"] = cl_model(cl_images)
    return out
