"""Recommenders and tabular models built from embeddings: matrix factorisation with user/item
biases, sparse embedding gradients (nn.Embedding(sparse=True)) trained by optim.SparseAdam next
to a dense Adam, BPR loss through F.logsigmoid, neural collaborative filtering (GMF + MLP towers
concatenated), EmbeddingBag(mode='sum', per_sample_weights=...) over a user's history with
padding_idx, Embedding(max_norm=...), a fastai-style tabular net (categorical embeddings,
bucketize'd continuous features, BatchNorm1d, Dropout(0)), and top-k recommendation with seen
items masked, hit rate and NDCG through log2."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MatrixFactorization(nn.Module):
    def __init__(self, n_users, n_items, n_factors=8):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors, sparse=True)
        self.item_factors = nn.Embedding(n_items, n_factors, sparse=True)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.zeros(1))

    def forward(self, user, item):
        dot = (self.user_factors(user) * self.item_factors(item)).sum(dim=1)
        return (
            dot
            + self.user_bias(user).squeeze(1)
            + self.item_bias(item).squeeze(1)
            + self.global_bias
        )


class NCF(nn.Module):
    def __init__(self, n_users, n_items, dim=8):
        super().__init__()
        self.gmf_user = nn.Embedding(n_users, dim)
        self.gmf_item = nn.Embedding(n_items, dim)
        self.mlp_user = nn.Embedding(n_users, dim, max_norm=1.0)
        self.mlp_item = nn.Embedding(n_items, dim, max_norm=1.0)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU())
        self.predict = nn.Linear(dim + 8, 1)

    def forward(self, user, item):
        gmf = self.gmf_user(user) * self.gmf_item(item)
        mlp = self.mlp(torch.cat([self.mlp_user(user), self.mlp_item(item)], dim=-1))
        return self.predict(torch.cat([gmf, mlp], dim=-1)).view(-1)


class HistoryEncoder(nn.Module):
    def __init__(self, n_items, dim=8):
        super().__init__()
        self.bag = nn.EmbeddingBag(n_items + 1, dim, mode="sum", padding_idx=0)
        self.out = nn.Linear(dim, n_items)

    def forward(self, history, weights):
        return self.out(self.bag(history, per_sample_weights=weights))


class TabularModel(nn.Module):
    def __init__(self, emb_szs, n_cont, out_sz):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
        self.emb_drop = nn.Dropout(0.0)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        n_emb = sum(nf for _, nf in emb_szs)
        self.layers = nn.Sequential(
            nn.Linear(n_emb + n_cont, 16), nn.ReLU(inplace=True), nn.BatchNorm1d(16),
            nn.Linear(16, out_sz),
        )  # fmt: skip

    def forward(self, x_cat, x_cont):
        x = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], 1)
        x = self.emb_drop(x)
        return self.layers(torch.cat([x, self.bn_cont(x_cont)], 1))


def main(sync, workdir):
    rng = np.random.RandomState(0)
    n_users, n_items = 10, 12
    users = torch.from_numpy(rng.randint(0, n_users, size=40))
    items = torch.from_numpy(rng.randint(0, n_items, size=40))
    ratings = torch.from_numpy(rng.randint(1, 6, size=40).astype(np.float32))

    mf = sync(MatrixFactorization(n_users, n_items))
    sparse_params = [mf.user_factors.weight, mf.item_factors.weight]
    dense_params = [p for p in mf.parameters() if all(p is not q for q in sparse_params)]
    sparse_opt = torch.optim.SparseAdam(sparse_params, lr=0.05)
    dense_opt = torch.optim.Adam(dense_params, lr=0.05)
    mf_losses = []
    for epoch in range(3):
        for i in range(0, 40, 10):
            pred = mf(users[i : i + 10], items[i : i + 10])
            loss = F.mse_loss(pred, ratings[i : i + 10])
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            mf_losses.append(loss.item())
    grad = mf.user_factors.weight.grad
    out = {
        "mf_losses": mf_losses,
        "grad_is_sparse": grad.is_sparse,
        "grad_dense": grad.to_dense(),
        "mf_state": mf.state_dict(),
    }

    # BPR on implicit feedback: a positive and a sampled negative per user
    ncf = sync(NCF(n_users, n_items))
    opt = torch.optim.Adam(ncf.parameters(), lr=1e-2, weight_decay=1e-5)
    negatives = torch.from_numpy(rng.randint(0, n_items, size=40))
    bpr_losses = []
    for epoch in range(3):
        pos_scores = ncf(users, items)
        neg_scores = ncf(users, negatives)
        loss = -F.logsigmoid(pos_scores - neg_scores).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        bpr_losses.append(loss.item())
    out["bpr_losses"] = bpr_losses
    out["mlp_user_norms"] = ncf.mlp_user.weight.norm(dim=1)

    # recommendation for every user, items already seen masked out
    with torch.no_grad():
        all_items = torch.arange(n_items)
        scores = torch.stack([ncf(torch.full((n_items,), u), all_items) for u in range(n_users)])
        seen = torch.zeros(n_users, n_items, dtype=torch.bool)
        seen[users[:20], items[:20]] = True
        scores = scores.masked_fill(seen, float("-inf"))
        top = scores.topk(5, dim=1).indices
        held_out = items[20:30]
        hits = top[users[20:30]] == held_out.unsqueeze(1)
        rank = hits.float().argmax(1)
        ndcg = torch.where(hits.any(1), 1.0 / torch.log2(rank.float() + 2), torch.zeros(10))
    out["top"] = top
    out["hit_rate"] = hits.any(1).float().mean().item()
    out["ndcg"] = ndcg

    # next-item prediction from a weighted bag of past items (0 pads the histories)
    enc = sync(HistoryEncoder(n_items))
    history = torch.from_numpy(rng.randint(0, n_items + 1, size=(6, 4)))
    weights = torch.from_numpy(rng.rand(6, 4).astype(np.float32))
    target = torch.from_numpy(rng.randint(0, n_items, size=6))
    loss = F.cross_entropy(enc(history, weights.flatten().view(6, 4)), target)
    loss.backward()
    out["bag"] = [loss, enc.bag.weight.grad]

    # tabular data: two categorical columns and three continuous ones
    tab = sync(TabularModel([(4, 3), (6, 4)], 3, 2))
    x_cat = torch.from_numpy(np.stack([rng.randint(0, 4, 32), rng.randint(0, 6, 32)], 1))
    age = torch.from_numpy(rng.uniform(18, 80, size=32).astype(np.float32))
    age_bucket = torch.bucketize(age, torch.tensor([30.0, 45.0, 60.0]))
    x_cont = torch.stack([age / 80, torch.from_numpy(rng.randn(32).astype(np.float32)),
                          age_bucket.float()], 1)  # fmt: skip
    y = torch.from_numpy(rng.randint(0, 2, 32))
    opt = torch.optim.AdamW(tab.parameters(), lr=1e-2)
    tab_losses = []
    for epoch in range(3):
        tab.train()
        loss = F.cross_entropy(tab(x_cat, x_cont), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tab_losses.append(loss.item())
    tab.eval()
    with torch.no_grad():
        out["tabular"] = [tab_losses, tab(x_cat[:4], x_cont[:4]), tab.bn_cont.running_mean,
                          age_bucket]  # fmt: skip
    return out
