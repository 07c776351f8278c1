"""Object-detection helpers written by hand in many repositories: anchors from meshgrid, box
IoU/GIoU by broadcasting, box encoding/decoding, anchor matching with max/argmax, sigmoid focal
loss, smooth-L1 regression over positives, a YOLO-style head decoded on a grid, and greedy NMS
with a while loop; a tiny detector trained a few steps."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


def make_anchors(feat_h, feat_w, stride, sizes=(4.0, 8.0), ratios=(0.5, 1.0)):
    shifts_x = (torch.arange(0, feat_w, dtype=torch.float32) + 0.5) * stride
    shifts_y = (torch.arange(0, feat_h, dtype=torch.float32) + 0.5) * stride
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    shifts = torch.stack((shift_x.reshape(-1), shift_y.reshape(-1)) * 2, dim=1)
    scales = torch.as_tensor(sizes)
    aspect = torch.as_tensor(ratios)
    h_ratios = torch.sqrt(aspect)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).view(-1)
    hs = (h_ratios[:, None] * scales[None, :]).view(-1)
    base = torch.stack([-ws, -hs, ws, hs], dim=1) / 2
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter / union, union


def generalized_box_iou(boxes1, boxes2):
    iou, union = box_iou(boxes1, boxes2)
    lt = torch.min(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[:, :, 0] * wh[:, :, 1]
    return iou - (area - union) / area


def box_cxcywh_to_xyxy(x):
    x_c, y_c, w, h = x.unbind(-1)
    return torch.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)


def encode(gt, anchors, weights=(10.0, 10.0, 5.0, 5.0)):
    wx, wy, ww, wh = weights
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = anchors[:, 0] + 0.5 * aw, anchors[:, 1] + 0.5 * ah
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    dx, dy = wx * (gx - ax) / aw, wy * (gy - ay) / ah
    return torch.stack([dx, dy, ww * torch.log(gw / aw), wh * torch.log(gh / ah)], dim=1)


def decode(deltas, anchors, weights=(10.0, 10.0, 5.0, 5.0)):
    wx, wy, ww, wh = weights
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = anchors[:, 0] + 0.5 * aw, anchors[:, 1] + 0.5 * ah
    dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
    dw = torch.clamp(deltas[:, 2] / ww, max=math.log(1000.0 / 16))
    dh = torch.clamp(deltas[:, 3] / wh, max=math.log(1000.0 / 16))
    cx, cy = dx * aw + ax, dy * ah + ay
    w, h = torch.exp(dw) * aw, torch.exp(dh) * ah
    return box_cxcywh_to_xyxy(torch.stack([cx, cy, w, h], dim=1))


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="sum"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.sum() if reduction == "sum" else loss.mean()


def nms(boxes, scores, iou_threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i.item())
        if order.numel() == 1:
            break
        ious, _ = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])
        order = order[1:][ious[0] <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes, scores, idxs, iou_threshold):
    # the coordinate trick: offset each class's boxes so they never overlap
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
    return nms(boxes + offsets[:, None], scores, iou_threshold)


class TinyDetector(nn.Module):
    def __init__(self, num_classes=2, num_anchors=4):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.GroupNorm(2, 8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.cls_head = nn.Conv2d(8, num_anchors * num_classes, 3, padding=1)
        self.box_head = nn.Conv2d(8, num_anchors * 4, 3, padding=1)
        self.num_classes = num_classes
        prior_prob = 0.01
        nn.init.constant_(self.cls_head.bias, -math.log((1 - prior_prob) / prior_prob))

    def forward(self, x):
        f = self.backbone(x)
        n = x.size(0)
        cls = self.cls_head(f).permute(0, 2, 3, 1).reshape(n, -1, self.num_classes)
        box = self.box_head(f).permute(0, 2, 3, 1).reshape(n, -1, 4)
        return cls, box


def yolo_decode(pred, anchors_wh, stride):
    # pred: (B, A*(5+C), H, W) -> boxes on the image
    b, _, h, w = pred.shape
    a = anchors_wh.size(0)
    pred = pred.view(b, a, -1, h, w).permute(0, 1, 3, 4, 2).contiguous()
    grid_y, grid_x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    grid = torch.stack((grid_x, grid_y), 2).view(1, 1, h, w, 2).float()
    xy = (pred[..., :2].sigmoid() + grid) * stride
    wh = torch.exp(pred[..., 2:4]) * anchors_wh.view(1, a, 1, 1, 2)
    conf = pred[..., 4:].sigmoid()
    return torch.cat((xy, wh, conf), -1).view(b, -1, pred.size(-1))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    anchors = make_anchors(4, 4, stride=4)  # (64, 4) for a 16x16 image
    out = {"anchors": anchors}
    gt = torch.tensor([[1.0, 2.0, 9.0, 8.0], [6.0, 6.0, 15.0, 14.0]])
    gt_labels = torch.tensor([0, 1])
    iou, _ = box_iou(anchors, gt)
    out["iou"] = iou
    out["giou"] = generalized_box_iou(gt, anchors[:5])
    matched_vals, matches = iou.max(dim=1)
    # low-quality matches: every gt keeps its best anchor
    best_per_gt = iou.max(dim=0).values
    forced = torch.nonzero(iou == best_per_gt[None, :], as_tuple=False)
    matches[forced[:, 0]] = forced[:, 1]
    matched_vals[forced[:, 0]] = 1.0
    positive = matched_vals >= 0.4
    negative = matched_vals < 0.3
    out["matching"] = [matches, positive, negative, forced]
    targets = encode(gt[matches], anchors)
    out["roundtrip"] = decode(targets, anchors) - gt[matches]

    model = sync(TinyDetector())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    cls_t = torch.zeros(64, 2)
    cls_t[positive, gt_labels[matches[positive]]] = 1.0
    valid = positive | negative
    losses = []
    images = torch.from_numpy(rng.rand(2, 3, 16, 16).astype(np.float32))
    for _ in range(3):
        cls, box = model(images)
        num_pos = max(1, int(positive.sum()))
        loss_cls = sum(sigmoid_focal_loss(c[valid], cls_t[valid]) for c in cls) / num_pos
        loss_box = sum(F.smooth_l1_loss(b[positive], targets[positive], beta=1 / 9, reduction="sum")
                       for b in box) / num_pos  # fmt: skip
        loss = loss_cls + loss_box
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append([loss_cls.item(), loss_box.item()])
    out["losses"] = losses
    out["state"] = model.state_dict()

    # post-processing: scores, top-k, decode, per-class NMS
    model.eval()
    with torch.no_grad():
        cls, box = model(images[:1])
        scores = cls[0].sigmoid().flatten()
        topk_scores, topk_idx = scores.topk(10)
        anchor_idx = torch.div(topk_idx, 2, rounding_mode="floor")
        labels = topk_idx % 2
        boxes = decode(box[0][anchor_idx], anchors[anchor_idx]).clamp(min=0, max=16)
        keep = batched_nms(boxes, topk_scores, labels, 0.5)
        out["detections"] = [boxes[keep], topk_scores[keep], labels[keep]]
    boxes = torch.from_numpy(rng.rand(12, 2).astype(np.float32) * 10).repeat(1, 2)
    boxes[:, 2:] += torch.from_numpy(rng.rand(12, 2).astype(np.float32) * 6 + 1)
    scores = torch.from_numpy(rng.rand(12).astype(np.float32))
    out["nms"] = nms(boxes, scores, 0.3)

    pred = torch.from_numpy(rng.randn(1, 2 * 7, 3, 3).astype(np.float32))
    out["yolo"] = yolo_decode(pred, torch.tensor([[2.0, 3.0], [5.0, 4.0]]), stride=8)
    return out
