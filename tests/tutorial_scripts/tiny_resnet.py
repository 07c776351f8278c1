"""A small ResNet: BasicBlock with a 1x1 downsample, kaiming init, AdaptiveAvgPool2d, flatten;
trained a few steps with SGD + weight decay, evaluated in eval mode."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, layers=(1, 1), num_classes=4):
        super().__init__()
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(8, layers[0])
        self.layer2 = self._make_layer(16, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(ResNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    losses = []
    for step in range(3):
        images = torch.from_numpy(rng.rand(4, 3, 12, 12).astype(np.float32))
        target = torch.from_numpy(rng.randint(0, 4, size=4))
        output = model(images)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out = {"losses": losses, "state": model.state_dict()}
    out["grads"] = {n: p.grad for n, p in model.named_parameters()}
    model.eval()
    with torch.no_grad():
        images = torch.from_numpy(rng.rand(2, 3, 12, 12).astype(np.float32))
        logits = model(images)
        probs = F.softmax(logits, dim=1)
        top_p, top_class = probs.topk(2, dim=1)
    out["eval"] = [logits, top_p, top_class]
    out["n_params"] = sum(p.numel() for p in model.parameters())
    out["n_buffers"] = [n for n, _ in model.named_buffers()]
    # channels_last input gives the same numbers
    model = model.to(memory_format=torch.channels_last)
    with torch.no_grad():
        out["channels_last"] = model(images.contiguous(memory_format=torch.channels_last))
    return out
