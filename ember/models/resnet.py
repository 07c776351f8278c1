"""ResNet (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition", Table 1)
in torchvision's form: a 7x7 stem, four stages of residual blocks (64, 128, 256, 512 channels
before expansion), global average pooling and one Linear layer.

Each block adds its input to what it computes, y = relu(F(x) + x), so a deep stack only has to
learn corrections to the identity. Bottleneck puts its stride on the 3x3 convolution ("ResNet
v1.5", as torchvision and NVIDIA do; the paper strided the first 1x1). ResNeXt and Wide ResNet
are the same network with grouped or wider 3x3 convolutions (`groups`, `width_per_group`).
Keys and counts are torchvision's: resnet18 11,689,512; resnet50 25,557,032.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import nn
from ..tensor import Tensor
from ._layers import accepts_pretrained, check_no_weights


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution, padded to keep H x W at stride 1; no bias (a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution: mixes channels (and subsamples when strided)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (ResNet-18/34): x -> conv-bn-relu -> conv-bn -> + shortcut -> relu."""

    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)  # strided: (B, planes, H/s, W/s)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample  # matches the shortcut's shape when the block changes it
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x                                # (B, inplanes, H, W)
        out = self.relu(self.bn1(self.conv1(x)))    # (B, planes, H/s, W/s)
        out = self.bn2(self.conv2(out))             # (B, planes, H/s, W/s)
        if self.downsample is not None:
            identity = self.downsample(x)           # (B, planes, H/s, W/s)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (strided, grouped) -> 1x1 expand by 4 (ResNet-50/101/152)."""

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups  # wider for ResNeXt / Wide ResNet
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x                                    # (B, inplanes, H, W)
        out = self.relu(self.bn1(self.conv1(x)))        # (B, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))      # (B, width, H/s, W/s)
        out = self.bn3(self.conv3(out))                 # (B, 4 planes, H/s, W/s)
        if self.downsample is not None:
            identity = self.downsample(x)               # (B, 4 planes, H/s, W/s)
        out += identity
        return self.relu(out)


Block = type[BasicBlock | Bottleneck]


class ResNet(nn.Module):
    """Stem -> layer1..layer4 -> avgpool -> fc. Shapes are for a 3x224x224 input and a
    BasicBlock (x4 channels for Bottleneck); adaptive pooling accepts any input >= 32x32."""

    def __init__(self, block: Block, layers: Sequence[int], num_classes: int = 1000,
                 zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
                 replace_stride_with_dilation: Sequence[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            # True for a stage replaces its stride 2 by dilation (keeps resolution: segmentation)
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group

        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3,
                               bias=False)                              # (B, 64, 112, 112)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)  # (B, 64, 56, 56)
        self.layer1 = self._make_layer(block, 64, layers[0])             # (B, 64, 56, 56)
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])  # (B, 128, 28, 28)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])  # (B, 256, 14, 14)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])  # (B, 512, 7, 7)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))                      # (B, 512, 1, 1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)          # (B, num_classes)

        for m in self.modules():  # He init, fan_out (torchvision's); fc keeps Linear's default
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            # Each residual branch starts at zero, so each block starts as the identity
            # (Goyal et al. 2017, "Accurate, large minibatch SGD": +0.2-0.3% top-1).
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        """One stage: the first block changes resolution/width, the others keep them."""
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(  # projection shortcut ("option B")
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # (B, 64, 112, 112)
        x = self.maxpool(x)                     # (B, 64, 56, 56)
        x = self.layer1(x)                      # (B, 64, 56, 56)
        x = self.layer2(x)                      # (B, 128, 28, 28)
        x = self.layer3(x)                      # (B, 256, 14, 14)
        x = self.layer4(x)                      # (B, 512, 7, 7)
        x = self.avgpool(x)                     # (B, 512, 1, 1)
        x = x.flatten(1)                        # (B, 512)
        return self.fc(x)                       # (B, num_classes)


def _resnet(block: Block, layers: list[int], weights: None, **kwargs) -> ResNet:
    check_no_weights(weights)
    return ResNet(block, layers, **kwargs)


@accepts_pretrained
def resnet18(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2]. kwargs go to ResNet (num_classes, ...)."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, **kwargs)


@accepts_pretrained
def resnet34(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3]."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, **kwargs)


@accepts_pretrained
def resnet50(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50: Bottleneck x [3, 4, 6, 3]."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)


@accepts_pretrained
def resnet101(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101: Bottleneck x [3, 4, 23, 3]."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, **kwargs)


@accepts_pretrained
def resnet152(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152: Bottleneck x [3, 8, 36, 3]."""
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, **kwargs)


@accepts_pretrained
def resnext50_32x4d(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32x4d (Xie et al. 2017): 32 groups of 4 channels in each 3x3."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, groups=32, width_per_group=4, **kwargs)


@accepts_pretrained
def wide_resnet50_2(*, weights: None = None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis 2016): bottlenecks twice as wide."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, width_per_group=128, **kwargs)
