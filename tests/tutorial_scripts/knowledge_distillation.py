"""Knowledge distillation (the PyTorch knowledge-distillation tutorial and Hinton et al.):
a teacher trained briefly then frozen in eval mode, a student trained on soft targets with
nn.KLDivLoss(reduction='batchmean') at temperature T scaled by T**2 plus hard-label cross
entropy, the tutorial's soft_targets * (log soft_targets - log student) form, log_target=True,
cosine-embedding hidden-state matching through a projection, feature-map MSE through a 1x1 conv
regressor, and attention transfer between intermediate maps."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class DeepNN(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 8, kernel_size=3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.0), nn.Linear(32, num_classes)
        )

    def forward(self, x):
        feature_map = self.features(x)
        x = torch.flatten(F.max_pool2d(feature_map, 1), 1)
        hidden = self.classifier[:2](x)
        return self.classifier[2:](hidden), hidden, feature_map


class LightNN(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(8, 4, kernel_size=3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, num_classes)
        )
        self.hidden_proj = nn.Linear(16, 32)  # student hidden -> teacher hidden size
        self.regressor = nn.Conv2d(4, 8, kernel_size=1)  # student map -> teacher channels

    def forward(self, x):
        feature_map = self.features(x)
        hidden = self.classifier[:2](torch.flatten(feature_map, 1))
        return self.classifier[2](hidden), self.hidden_proj(hidden), self.regressor(feature_map)


def attention_map(fm, p=2):
    return F.normalize(fm.pow(p).mean(1).view(fm.size(0), -1))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    images = torch.from_numpy(rng.rand(24, 3, 8, 8).astype(np.float32))
    labels = torch.from_numpy(rng.randint(0, 4, size=24))
    teacher = sync(DeepNN())
    student = sync(LightNN())
    ce = nn.CrossEntropyLoss()

    # train the teacher a little
    optimizer = torch.optim.Adam(teacher.parameters(), lr=1e-3)
    teacher.train()
    for epoch in range(2):
        for i in range(0, 24, 8):
            optimizer.zero_grad()
            loss = ce(teacher(images[i : i + 8])[0], labels[i : i + 8])
            loss.backward()
            optimizer.step()
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    T, soft_target_loss_weight, ce_loss_weight = 2.0, 0.25, 0.75
    kl = nn.KLDivLoss(reduction="batchmean")
    cosine = nn.CosineEmbeddingLoss()
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    student.train()
    history = []
    for epoch in range(2):
        for i in range(0, 24, 8):
            x, y = images[i : i + 8], labels[i : i + 8]
            with torch.no_grad():
                teacher_logits, teacher_hidden, teacher_map = teacher(x)
            student_logits, student_hidden, student_map = student(x)
            soft_targets = F.softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            # the tutorial's hand-written KL and the library one agree
            tutorial_kd = (
                torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0]
            ) * (T**2)
            kd = kl(soft_prob, soft_targets) * T**2
            label_loss = ce(student_logits, y)
            hidden_loss = cosine(student_hidden, teacher_hidden, torch.ones(x.size(0)))
            map_loss = F.mse_loss(student_map, teacher_map)
            at_loss = (attention_map(student_map) - attention_map(teacher_map)).pow(2).mean()
            loss = (
                soft_target_loss_weight * kd + ce_loss_weight * label_loss
                + 0.1 * hidden_loss + 0.1 * map_loss + at_loss
            )  # fmt: skip
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append([loss.item(), kd.item(), tutorial_kd.item(), hidden_loss.item()])

    student.eval()
    with torch.no_grad():
        t_logits = teacher(images)[0]
        s_logits = student(images)[0]
        log_t = F.log_softmax(t_logits / T, dim=1)
        log_s = F.log_softmax(s_logits / T, dim=1)
        out = {
            "history": history,
            "teacher_acc": (t_logits.argmax(1) == labels).float().mean().item(),
            "student_correct": (s_logits.argmax(1) == labels).sum().item(),
            "kl_log_target": F.kl_div(log_s, log_t, reduction="batchmean", log_target=True),
            "kl_none": F.kl_div(log_s, log_t.exp(), reduction="none").sum(1),
            "kl_sum_mean": [
                nn.KLDivLoss(reduction="sum")(log_s, log_t.exp()),
                nn.KLDivLoss(reduction="mean")(log_s, log_t.exp()),
            ],
            "teacher_requires_grad": any(p.requires_grad for p in teacher.parameters()),
            "student_state": student.state_dict(),
        }
    return out
