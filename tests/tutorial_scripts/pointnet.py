"""PointNet classification and segmentation on point clouds (the popular PyTorch port): a T-Net
predicting a k x k transform (Conv1d with kernel 1, BatchNorm1d over (B, C, N), max over points,
identity added through torch.eye(...).repeat), torch.bmm on transposed points, the feature
transform regulariser ||I - A A^T|| with torch.norm over dims (1, 2), global features repeated
per point for segmentation, and random rotation/jitter augmentation done with numpy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TNet(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.k = k
        self.conv1 = nn.Conv1d(k, 16, 1)
        self.conv2 = nn.Conv1d(16, 32, 1)
        self.fc1 = nn.Linear(32, 16)
        self.fc2 = nn.Linear(16, k * k)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.bn3 = nn.BatchNorm1d(16)

    def forward(self, x):
        batchsize = x.size()[0]
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 32)
        x = F.relu(self.bn3(self.fc1(x)))
        x = self.fc2(x)
        iden = torch.eye(self.k).flatten().view(1, self.k * self.k).repeat(batchsize, 1)
        return (x + iden).view(-1, self.k, self.k)


class PointNetfeat(nn.Module):
    def __init__(self, global_feat=True, feature_transform=True):
        super().__init__()
        self.stn = TNet(k=3)
        self.conv1 = nn.Conv1d(3, 16, 1)
        self.conv2 = nn.Conv1d(16, 32, 1)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.global_feat = global_feat
        self.feature_transform = feature_transform
        if self.feature_transform:
            self.fstn = TNet(k=16)

    def forward(self, x):
        n_pts = x.size()[2]
        trans = self.stn(x)
        x = x.transpose(2, 1)
        x = torch.bmm(x, trans)
        x = x.transpose(2, 1)
        x = F.relu(self.bn1(self.conv1(x)))
        if self.feature_transform:
            trans_feat = self.fstn(x)
            x = torch.bmm(x.transpose(2, 1), trans_feat).transpose(2, 1)
        else:
            trans_feat = None
        pointfeat = x
        x = self.bn2(self.conv2(x))
        x = torch.max(x, 2, keepdim=True)[0].view(-1, 32)
        if self.global_feat:
            return x, trans, trans_feat
        x = x.view(-1, 32, 1).repeat(1, 1, n_pts)
        return torch.cat([x, pointfeat], 1), trans, trans_feat


class PointNetCls(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.feat = PointNetfeat(global_feat=True)
        self.fc1 = nn.Linear(32, 16)
        self.fc2 = nn.Linear(16, k)
        self.dropout = nn.Dropout(p=0.0)
        self.bn1 = nn.BatchNorm1d(16)

    def forward(self, x):
        x, trans, trans_feat = self.feat(x)
        x = F.relu(self.bn1(self.dropout(self.fc1(x))))
        return F.log_softmax(self.fc2(x), dim=1), trans, trans_feat


class PointNetDenseCls(nn.Module):
    def __init__(self, k=2):
        super().__init__()
        self.k = k
        self.feat = PointNetfeat(global_feat=False, feature_transform=False)
        self.conv1 = nn.Conv1d(48, 16, 1)
        self.conv2 = nn.Conv1d(16, self.k, 1)
        self.bn1 = nn.BatchNorm1d(16)

    def forward(self, x):
        batchsize, n_pts = x.size()[0], x.size()[2]
        x, trans, trans_feat = self.feat(x)
        x = self.conv2(F.relu(self.bn1(self.conv1(x))))
        x = x.transpose(2, 1).contiguous()
        x = F.log_softmax(x.view(-1, self.k), dim=-1)
        return x.view(batchsize, n_pts, self.k), trans, trans_feat


def feature_transform_regularizer(trans):
    d = trans.size()[1]
    identity = torch.eye(d)[None, :, :]
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - identity, dim=(1, 2)))


def augment(rng, points):
    theta = rng.uniform(0, np.pi * 2)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    points[:, [0, 2]] = points[:, [0, 2]].dot(rotation)
    return points + rng.normal(0, 0.02, size=points.shape)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    clouds = np.stack([augment(rng, rng.randn(24, 3)) for _ in range(8)]).astype(np.float32)
    points = torch.from_numpy(clouds).transpose(2, 1)  # (B, 3, N)
    target = torch.from_numpy(rng.randint(0, 3, size=8))
    classifier = sync(PointNetCls(k=3))
    # SGD, not the repository's Adam: the biases before BatchNorm have a zero gradient up to
    # rounding, and Adam's normalised step turns that rounding noise into +-lr per step
    optimizer = torch.optim.SGD(classifier.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = []
    for epoch in range(3):
        for i in range(0, 8, 4):
            optimizer.zero_grad()
            classifier = classifier.train()
            pred, trans, trans_feat = classifier(points[i : i + 4])
            loss = F.nll_loss(pred, target[i : i + 4])
            loss = loss + feature_transform_regularizer(trans_feat) * 0.001
            loss.backward()
            optimizer.step()
            pred_choice = pred.data.max(1)[1]
            correct = pred_choice.eq(target[i : i + 4].data).cpu().sum()
            history.append([loss.item(), correct.item()])
        scheduler.step()
    classifier.eval()
    with torch.no_grad():
        pred, trans, _ = classifier(points)
    out = {"history": history, "pred": pred, "trans": trans, "lr": scheduler.get_last_lr()}

    seg = sync(PointNetDenseCls(k=2))
    seg_target = torch.from_numpy((clouds[..., 1] > 0).astype(np.int64))
    opt = torch.optim.SGD(seg.parameters(), lr=0.01, momentum=0.9)
    seg_losses = []
    for step in range(3):
        pred, _, _ = seg(points)
        pred = pred.view(-1, 2)
        loss = F.nll_loss(pred, seg_target.view(-1, 1)[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        seg_losses.append(loss.item())
    out["seg"] = [seg_losses, seg.feat.stn.fc2.weight.grad, pred.argmax(1)[:10]]
    return out
