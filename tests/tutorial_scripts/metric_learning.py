"""Siamese / metric learning: triplet and contrastive losses, cosine embedding loss, NT-Xent."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 16), nn.PReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=1.0):
        super().__init__()
        self.margin = margin

    def forward(self, output1, output2, label):
        euclidean_distance = F.pairwise_distance(output1, output2, keepdim=True)
        loss = torch.mean(
            (1 - label) * torch.pow(euclidean_distance, 2)
            + label * torch.pow(torch.clamp(self.margin - euclidean_distance, min=0.0), 2)
        )
        return loss


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def batch_hard_triplet(embeddings, labels, margin=0.3):
    dist = torch.cdist(embeddings, embeddings)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    hardest_pos = (dist * same.float()).max(dim=1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    net = sync(EmbeddingNet())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    triplet = nn.TripletMarginLoss(margin=1.0, p=2)
    contrastive = ContrastiveLoss()
    cosine = nn.CosineEmbeddingLoss(margin=0.1)
    ranking = nn.MarginRankingLoss(margin=0.2)
    hinge = nn.HingeEmbeddingLoss(margin=1.0)
    soft_triplet = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: 1.0 - F.cosine_similarity(a, b), margin=0.5, swap=True
    )
    history = []
    for step in range(4):
        x = torch.from_numpy(rng.randn(6, 10).astype(np.float32))
        labels = torch.from_numpy(rng.randint(0, 3, size=6))
        pair_label = torch.from_numpy(rng.randint(0, 2, size=(6, 1)).astype(np.float32))
        sign = pair_label.squeeze(1) * 2 - 1
        anchor, positive, negative = net(x), net(x + 0.1), net(x.flip(0))
        losses = {
            "triplet": triplet(anchor, positive, negative),
            "functional_triplet": F.triplet_margin_loss(
                anchor, positive, negative, margin=0.5, p=1, swap=True
            ),
            "contrastive": contrastive(anchor, negative, pair_label),
            "cosine": cosine(anchor, negative, sign),
            "ranking": ranking(anchor[:, 0], negative[:, 0], sign),
            "hinge": hinge(F.pairwise_distance(anchor, negative), sign),
            "soft_triplet": soft_triplet(anchor, positive, negative),
            "nt_xent": nt_xent(anchor, positive),
            "batch_hard": batch_hard_triplet(anchor, labels),
        }
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append({k: v.item() for k, v in losses.items()})
    out = {"history": history, "weights": net.state_dict()}
    with torch.no_grad():
        e = net(torch.from_numpy(rng.randn(5, 10).astype(np.float32)))
        out["cos_matrix"] = F.cosine_similarity(e.unsqueeze(1), e.unsqueeze(0), dim=-1)
        out["pdist"] = F.pdist(e)
        out["knn"] = torch.cdist(e, e).topk(2, largest=False).indices
    return out
