"""Convolutions over text (Kim 2014 and the character-level CNNs): static and non-static
embeddings from nn.Embedding.from_pretrained(freeze=...) stacked as two input channels,
Conv2d with (k, emb_dim) kernels squeezed to (N, C, T), max-over-time by F.max_pool1d(x,
x.size(2)), Conv1d branches with padding='same' (even and odd kernels), AdaptiveMaxPool1d with
return_indices, Kim's max-norm constraint through weight.data.renorm, a character CNN with
MaxPool1d(ceil_mode=True), Dropout1d, nn.Flatten, and BCEWithLogitsLoss for multi-label tags."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class KimCNN(nn.Module):
    def __init__(self, vectors, n_classes=3, n_filters=4, sizes=(2, 3, 4)):
        super().__init__()
        self.static = nn.Embedding.from_pretrained(vectors, freeze=True)
        self.dynamic = nn.Embedding.from_pretrained(vectors, freeze=False, padding_idx=0)
        emb = vectors.size(1)
        self.convs = nn.ModuleList(nn.Conv2d(2, n_filters, (k, emb)) for k in sizes)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(n_filters * len(sizes), n_classes)

    def forward(self, x):
        e = torch.stack([self.static(x), self.dynamic(x)], dim=1)  # (N, 2, T, E)
        feats = [F.relu(conv(e)).squeeze(3) for conv in self.convs]  # (N, C, T - k + 1)
        pooled = [F.max_pool1d(f, f.size(2)).squeeze(2) for f in feats]
        return self.fc(self.dropout(torch.cat(pooled, 1)))


class SameConvText(nn.Module):
    def __init__(self, vocab, emb=6):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.branches = nn.ModuleList(nn.Conv1d(emb, 4, k, padding="same") for k in (2, 3, 4))
        self.pool = nn.AdaptiveMaxPool1d(1, return_indices=True)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        h = self.emb(x).transpose(1, 2)  # (N, E, T)
        outs, where = [], []
        for conv in self.branches:
            y = torch.tanh(conv(h))
            assert y.shape[-1] == x.shape[1]
            p, i = self.pool(y)
            outs.append(p.squeeze(-1))
            where.append(i.squeeze(-1))
        return self.fc(torch.cat(outs, dim=1)), torch.stack(where, 1)


class CharCNN(nn.Module):
    def __init__(self, alphabet=12, n_labels=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(alphabet, 8, kernel_size=5), nn.ReLU(), nn.MaxPool1d(3, ceil_mode=True),
            nn.Conv1d(8, 8, kernel_size=3), nn.ReLU(), nn.Dropout1d(0.0),
            nn.MaxPool1d(3, stride=2, ceil_mode=True), nn.Flatten(),
        )  # fmt: skip
        self.fc = nn.LazyLinear(n_labels)

    def forward(self, x):
        return self.fc(self.features(x))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    vectors = torch.from_numpy(rng.randn(20, 5).astype(np.float32))
    vectors[0] = 0
    x = torch.from_numpy(rng.randint(0, 20, size=(6, 9)))
    y = torch.from_numpy(rng.randint(0, 3, size=6))
    model = sync(KimCNN(vectors))
    opt = torch.optim.Adadelta(filter(lambda p: p.requires_grad, model.parameters()), lr=1.0)
    losses = []
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.fc.weight.data = model.fc.weight.data.renorm(2, 0, 0.5)
        losses.append(loss.item())
    out = {
        "kim_losses": losses,
        "kim_static_requires_grad": model.static.weight.requires_grad,
        "kim_static_grad": model.static.weight.grad is None,
        "kim_dynamic_pad_row": model.dynamic.weight[0],
        "kim_dynamic": model.dynamic.weight,
        "kim_fc_norms": model.fc.weight.norm(dim=1),
        "n_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }

    same = sync(SameConvText(20))
    logits, where = same(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out["same"] = [loss, where, same.branches[0].weight.grad, same.branches[2].bias.grad]

    chars = torch.from_numpy(rng.randint(0, 12, size=(4, 30)))
    onehot = F.one_hot(chars, 12).float().transpose(1, 2)  # (N, alphabet, L)
    tags = torch.from_numpy((rng.rand(4, 5) > 0.5).astype(np.float32))
    cnn = CharCNN()
    cnn(onehot)  # materialise the lazy layer
    sync(cnn)
    opt = torch.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    crit = nn.BCEWithLogitsLoss()
    for _ in range(3):
        loss = crit(cnn(onehot), tags)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["char_loss"] = loss
    out["char_shapes"] = [list(cnn.features[:3](onehot).shape), list(cnn.features(onehot).shape)]
    out["char_fc"] = cnn.fc.weight
    return out
