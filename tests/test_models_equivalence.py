"""Zoo models against the same architectures written here in torch (torchvision's module names),
torch's weights copied in: outputs, input gradients, parameter gradients and BatchNorm buffers
must agree, in train and eval mode.

torchvision is not installed, so the torch side is written out below from torchvision's
structure; the parameter counts and key rules in test_models.py pin that structure down.
"""

from __future__ import annotations

from functools import partial

import pytest
import torch
import torch.nn.functional as TF
from torch import nn as tnn

import ember
from ember import models
from nn_helpers import compare_module

F64 = dict(dtype="float64", rtol=1e-7, atol=1e-9)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """torch's CPU threads on small convolutions only add overhead (10-100x on a busy 2-core
    machine, depthwise ones the worst)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def randomize_norms(module: tnn.Module) -> tnn.Module:
    """BatchNorm starts at weight 1, bias 0, mean 0, var 1, which would hide a swapped or
    ignored affine/statistic: give every one random values (torch's generator, seeded)."""
    for m in module.modules():
        if isinstance(m, tnn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.3)
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return module


def pair(torch_build, ember_build):
    """A `make` for compare_module: torch's module (randomized norms) or Ember's."""
    return lambda m: randomize_norms(torch_build()) if m is torch else ember_build()


# ---- LeNet-5 ----

class TorchLeNet5(tnn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, pad: int = 2) -> None:
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(in_channels, 6, 5, padding=pad), tnn.Tanh(), tnn.AvgPool2d(2, 2),
            tnn.Conv2d(6, 16, 5), tnn.Tanh(), tnn.AvgPool2d(2, 2))
        self.classifier = tnn.Sequential(
            tnn.Linear(400, 120), tnn.Tanh(), tnn.Linear(120, 84), tnn.Tanh(),
            tnn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


@pytest.mark.parametrize("in_channels,size", [(1, 28), (3, 32)])
def test_lenet5_matches_torch(in_channels: int, size: int) -> None:
    make = pair(lambda: TorchLeNet5(10, in_channels, (32 - size) // 2),
                lambda: models.lenet5(10, in_channels, size))
    compare_module(make, [(3, in_channels, size, size)], **F64)


# ---- torchvision's ResNet ----

class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, padding=dilation, dilation=dilation,
                                groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64,
                 dilate=(False, False, False)):
        super().__init__()
        self.inplanes, self.dilation = 64, 1
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, False)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, dilate[2])
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride, dilate):
        first_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(
                tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                tnn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        first_dilation)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, None, self.groups, self.base_width,
                         self.dilation) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@pytest.mark.parametrize("train", [True, False])
def test_tiny_resnet_basicblock_matches_torch(train: bool) -> None:
    make = pair(lambda: TorchResNet(TorchBasicBlock, [1, 1, 1, 1], num_classes=6),
                lambda: models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=6))
    compare_module(make, [(2, 3, 32, 32)], train=train, **F64)


@pytest.mark.parametrize("train", [True, False])
def test_tiny_resnext_bottleneck_with_dilation_matches_torch(train: bool) -> None:
    # grouped 3x3 (ResNeXt), a narrow width per group and dilated layer3/layer4
    kwargs = dict(groups=4, width_per_group=8)
    make = pair(lambda: TorchResNet(TorchBottleneck, [1, 2, 1, 1], 5, dilate=(False, True, True),
                                    **kwargs),
                lambda: models.ResNet(models.Bottleneck, [1, 2, 1, 1], 5,
                                      replace_stride_with_dilation=[False, True, True], **kwargs))
    compare_module(make, [(2, 3, 24, 24)], train=train, **F64)


def test_resnet18_matches_torch() -> None:
    make = pair(lambda: TorchResNet(TorchBasicBlock, [2, 2, 2, 2]), lambda: models.resnet18())
    compare_module(make, [(2, 3, 40, 40)], train=True, **F64)


@pytest.mark.parametrize("torch_build,ember_build", [
    (lambda: TorchResNet(TorchBasicBlock, [3, 4, 6, 3]), models.resnet34),
    (lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3]), models.resnet50),
    (lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3], groups=32, width_per_group=4),
     models.resnext50_32x4d),
])
def test_resnet_state_dict_layout_equals_torch_mirror(torch_build, ember_build) -> None:
    t_sd, e_sd = torch_build().state_dict(), ember_build().state_dict()
    assert list(e_sd) == list(t_sd)  # same keys, same order
    for key, value in t_sd.items():
        assert tuple(e_sd[key].shape) == tuple(value.shape), key


# ---- CIFAR ResNet ----

class TorchCifarResNet(tnn.Module):
    def __init__(self, n, num_classes=10, in_channels=3, option="A"):
        super().__init__()
        self.option, self.inplanes = option, 16
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU()
        self.layer1 = self._stage(16, n, 1)
        self.layer2 = self._stage(32, n, 2)
        self.layer3 = self._stage(64, n, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(64, num_classes)

    def _stage(self, planes, n, stride):
        downsample = None
        if stride != 1:
            if self.option == "A":
                extra = planes - self.inplanes
                downsample = _Lambda(lambda x: TF.pad(x[:, :, ::2, ::2],
                                                      (0, 0, 0, 0, extra // 2, extra - extra // 2)))
            else:
                downsample = tnn.Sequential(
                    tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                    tnn.BatchNorm2d(planes))
        blocks = [TorchBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        return tnn.Sequential(*blocks, *[TorchBasicBlock(planes, planes) for _ in range(n - 1)])

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class _Lambda(tnn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize("option,in_channels,size,train", [
    ("A", 3, 32, True), ("A", 1, 28, False), ("B", 1, 28, True), ("B", 3, 32, False)])
def test_resnet20_matches_torch(option: str, in_channels: int, size: int, train: bool) -> None:
    make = pair(lambda: TorchCifarResNet(3, 10, in_channels, option),
                lambda: models.resnet20(10, in_channels, shortcut=option))
    compare_module(make, [(2, in_channels, size, size)], train=train, **F64)


# ---- EfficientNet ----

class TorchConvBNAct(tnn.Sequential):
    def __init__(self, cin, cout, k, stride=1, groups=1, norm=tnn.BatchNorm2d, act=True):
        layers = [tnn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                  norm(cout)]
        super().__init__(*layers, *([tnn.SiLU(inplace=True)] if act else []))


class TorchSE(tnn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc1 = tnn.Conv2d(channels, squeeze, 1)
        self.fc2 = tnn.Conv2d(squeeze, channels, 1)
        self.activation = tnn.SiLU()
        self.scale_activation = tnn.Sigmoid()

    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class TorchMBConv(tnn.Module):
    def __init__(self, expand, k, stride, cin, cout, norm):
        super().__init__()
        wide = cin * expand
        assert wide % 8 == 0  # (the configs below need no rounding)
        layers = [TorchConvBNAct(cin, wide, 1, norm=norm)] if wide != cin else []
        layers += [TorchConvBNAct(wide, wide, k, stride, groups=wide, norm=norm),
                   TorchSE(wide, max(1, cin // 4)),
                   TorchConvBNAct(wide, cout, 1, norm=norm, act=False)]
        self.block = tnn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return y + x if self.residual else y  # stochastic depth: p = 0 or eval mode


class TorchEfficientNet(tnn.Module):
    def __init__(self, stages, num_classes=1000, norm=tnn.BatchNorm2d):
        super().__init__()
        layers = [TorchConvBNAct(3, stages[0][3], 3, 2, norm=norm)]
        for expand, k, stride, cin, cout, n in stages:
            layers.append(tnn.Sequential(*[
                TorchMBConv(expand, k, stride if i == 0 else 1, cin if i == 0 else cout, cout,
                            norm) for i in range(n)]))
        layers.append(TorchConvBNAct(stages[-1][4], 4 * stages[-1][4], 1, norm=norm))
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.classifier = tnn.Sequential(tnn.Dropout(0.0), tnn.Linear(4 * stages[-1][4],
                                                                      num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


TINY_STAGES = [  # expand, kernel, stride, in, out, layers: MBConv1, strides, k5, residuals
    (1, 3, 1, 16, 8, 1), (6, 3, 2, 8, 16, 2), (6, 5, 2, 16, 24, 2), (4, 3, 1, 24, 24, 1)]
B0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
             (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
             (6, 3, 1, 192, 320, 1)]


@pytest.mark.parametrize("train", [True, False])
def test_tiny_efficientnet_matches_torch(train: bool) -> None:
    # B5-B7's BatchNorm settings; in train mode no dropout/stochastic depth (random), in eval
    # mode both are on and must be the identity
    t_norm = partial(tnn.BatchNorm2d, eps=1e-3, momentum=0.01)
    e_norm = partial(ember.nn.BatchNorm2d, eps=1e-3, momentum=0.01)
    p = 0.0 if train else 0.5
    make = pair(lambda: TorchEfficientNet(TINY_STAGES, 7, t_norm),
                lambda: models.EfficientNet([models.MBConvConfig(*s) for s in TINY_STAGES],
                                            dropout=p, stochastic_depth_prob=p, num_classes=7,
                                            norm_layer=e_norm))
    compare_module(make, [(2, 3, 32, 32)], train=train, steps=2, **F64)


@pytest.mark.parametrize("train", [True, False])
def test_efficientnet_b0_matches_torch(train: bool) -> None:
    # train: 64x64, since at 1x1 maps a batch of 2 makes BatchNorm ill-conditioned (float64
    # results then differ in the 8th digit); eval: the default model, dropout and stochastic
    # depth on, which eval mode must turn off
    make = pair(lambda: TorchEfficientNet(B0_STAGES),
                _b0_without_randomness if train else models.efficientnet_b0)
    compare_module(make, [(2, 3, 64, 64) if train else (2, 3, 32, 32)], train=train, **F64)


def _b0_without_randomness() -> models.EfficientNet:
    """B0 with stochastic depth and dropout off, so train mode is deterministic."""
    model = models.efficientnet_b0(stochastic_depth_prob=0.0)
    model.classifier[0].p = 0.0
    return model


@pytest.mark.slow
@pytest.mark.parametrize("torch_build,ember_build", [
    (lambda: TorchResNet(TorchBottleneck, [3, 4, 6, 3]), models.resnet50),
    (lambda: TorchEfficientNet(B0_STAGES), models.efficientnet_b0)])
def test_full_models_at_224_match_torch(torch_build, ember_build) -> None:
    compare_module(pair(torch_build, ember_build), [(1, 3, 224, 224)], train=False,
                   rtol=1e-3, atol=1e-4)


def test_efficientnet_b0_state_dict_layout_equals_torch_mirror() -> None:
    t_sd = TorchEfficientNet(B0_STAGES).state_dict()
    e_sd = models.efficientnet_b0().state_dict()
    assert list(e_sd) == list(t_sd)
    for key, value in t_sd.items():
        assert tuple(e_sd[key].shape) == tuple(value.shape), key


def test_efficientnet_trains_with_stochastic_depth() -> None:
    ember.manual_seed(0)
    model = models.EfficientNet([models.MBConvConfig(*s) for s in TINY_STAGES], dropout=0.2,
                                stochastic_depth_prob=0.9, num_classes=3)
    x = ember.randn(8, 3, 16, 16, requires_grad=True)
    model(x).sum().backward()
    assert all(p.grad is not None and bool(ember.isfinite(p.grad).all())
               for p in model.parameters())
    assert bool(ember.isfinite(x.grad).all())
