"""Evaluation code people copy: a validate() loop under torch.no_grad() and inference_mode with
model.eval(), an AverageMeter, top-k accuracy (ImageNet example's accuracy()), a confusion
matrix through bincount, per-class precision/recall/F1, balanced accuracy, ROC-AUC by
sorting, calibration bins with bucketize, and predictions gathered across batches."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}

NUM_CLASSES = 5


class AverageMeter:
    def __init__(self, name, fmt=":f"):
        self.name, self.fmt = name, fmt
        self.reset()

    def reset(self):
        self.val = self.avg = self.sum = self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = "{name} {val" + self.fmt + "} ({avg" + self.fmt + "})"
        return fmtstr.format(**self.__dict__)


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


def confusion_matrix(preds, targets, num_classes):
    idx = targets * num_classes + preds
    return torch.bincount(idx, minlength=num_classes**2).reshape(num_classes, num_classes)


def roc_auc(scores, labels):
    order = torch.argsort(scores, descending=True)
    labels = labels[order].float()
    tps = torch.cumsum(labels, dim=0)
    fps = torch.cumsum(1 - labels, dim=0)
    tpr = torch.cat([torch.zeros(1), tps / tps[-1]])
    fpr = torch.cat([torch.zeros(1), fps / fps[-1]])
    return torch.trapz(tpr, fpr)


def validate(loader, model, criterion):
    losses = AverageMeter("Loss", ":.4e")
    top1 = AverageMeter("Acc@1", ":6.2f")
    top3 = AverageMeter("Acc@3", ":6.2f")
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for i, (images, target) in enumerate(loader):
            output = model(images)
            loss = criterion(output, target)
            acc1, acc3 = accuracy(output, target, topk=(1, 3))
            losses.update(loss.item(), images.size(0))
            top1.update(acc1[0], images.size(0))
            top3.update(acc3[0], images.size(0))
            all_preds.append(torch.argmax(output, dim=1))
            all_targets.append(target)
            all_probs.append(F.softmax(output, dim=1))
    return losses, top1, top3, torch.cat(all_preds), torch.cat(all_targets), torch.cat(all_probs)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(
        nn.Sequential(nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(12, NUM_CLASSES))  # fmt: skip
    )
    x = torch.from_numpy(rng.randn(30, 6).astype(np.float32))
    y = torch.from_numpy(rng.randint(0, NUM_CLASSES, size=30))
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False)
    criterion = nn.CrossEntropyLoss()
    losses, top1, top3, preds, targets, probs = validate(loader, model, criterion)
    out = {
        "loss_avg": losses.avg,
        "top1": top1.avg,
        "top3": top3.avg,
        "meter_str": str(losses).split(" (")[0][:9],
        "training_after": model.training,
        "preds": preds,
        "probs": probs,
    }
    cm = confusion_matrix(preds, targets, NUM_CLASSES)
    out["cm"] = cm
    tp = cm.diag().float()
    precision = tp / cm.sum(0).clamp(min=1)
    recall = tp / cm.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-8)
    out["prf"] = [precision, recall, f1, f1.mean(), recall.mean()]
    out["accuracy"] = (cm.trace() / cm.sum()).item()
    out["hist"] = torch.histc(probs.max(1).values, bins=4, min=0, max=1)
    out["scatter_cm"] = torch.zeros(NUM_CLASSES, NUM_CLASSES, dtype=torch.long).index_put_(
        (targets, preds), torch.ones_like(targets), accumulate=True
    )
    # binary metrics on class 0 against the rest
    scores, labels = probs[:, 0], (targets == 0).long()
    out["auc"] = roc_auc(scores, labels)
    # expected calibration error with bucketize
    conf, pred = probs.max(dim=1)
    bins = torch.linspace(0, 1, 6)
    which = torch.bucketize(conf, bins[1:-1])
    ece = torch.zeros(1)
    for b in range(5):
        in_bin = which == b
        if in_bin.any():
            acc_bin = (pred[in_bin] == targets[in_bin]).float().mean()
            ece += in_bin.float().mean() * (conf[in_bin].mean() - acc_bin).abs()
    out["ece"] = ece
    out["bin_counts"] = torch.bincount(which, minlength=5)
    # inference_mode tensors are not part of autograd
    with torch.inference_mode():
        logits = model(x[:4])
    out["inference"] = [logits, logits.requires_grad, torch.is_inference_mode_enabled()]
    # ranking: mean average precision of the scores for one class
    sorted_labels = labels[torch.argsort(scores, descending=True)].float()
    hits = torch.cumsum(sorted_labels, 0)
    prec_at = hits / torch.arange(1, len(hits) + 1)
    out["map"] = (prec_at * sorted_labels).sum() / sorted_labels.sum().clamp(min=1)
    # most confused pairs, off-diagonal
    off = cm.clone().fill_diagonal_(0)
    vals, flat = off.flatten().topk(3)
    out["confused"] = [vals, torch.stack([flat // NUM_CLASSES, flat % NUM_CLASSES], 1)]
    out["unique"] = torch.unique(preds, sorted=True, return_counts=True)
    out["mode"] = torch.mode(preds).values
    return out
