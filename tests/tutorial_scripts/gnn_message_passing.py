"""Graph neural networks written by hand (the PyG-free tutorials): a GCN layer on a normalised
sparse adjacency built with torch.sparse_coo_tensor and torch.sparse.mm, GraphSAGE mean
aggregation through index_add_ and degree counts from bincount, GAT attention with a softmax over
each node's incoming edges via scatter_reduce(amax) and index_add_, and a graph-level readout
(global mean/max pooling over a batch vector) for graph classification."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def normalized_adjacency(edge_index, num_nodes):
    # A_hat = D^-1/2 (A + I) D^-1/2, as a sparse COO matrix
    self_loops = torch.arange(num_nodes).unsqueeze(0).repeat(2, 1)
    edge_index = torch.cat([edge_index, self_loops], dim=1)
    row, col = edge_index
    deg = torch.zeros(num_nodes).scatter_add_(0, row, torch.ones(row.size(0)))
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt[deg_inv_sqrt == float("inf")] = 0
    values = deg_inv_sqrt[row] * deg_inv_sqrt[col]
    return torch.sparse_coo_tensor(edge_index, values, (num_nodes, num_nodes)).coalesce()


class GCNLayer(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x, adj):
        return torch.sparse.mm(adj, self.linear(x)) + self.bias


class SAGELayer(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.lin_self = nn.Linear(in_features, out_features)
        self.lin_neigh = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x, edge_index):
        src, dst = edge_index
        agg = torch.zeros_like(x).index_add_(0, dst, x[src])
        deg = torch.bincount(dst, minlength=x.size(0)).clamp(min=1).unsqueeze(-1)
        return self.lin_self(x) + self.lin_neigh(agg / deg)


class GATLayer(nn.Module):
    def __init__(self, in_features, out_features, heads=2):
        super().__init__()
        self.heads, self.out_features = heads, out_features
        self.W = nn.Linear(in_features, heads * out_features, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_features))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_features))
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def forward(self, x, edge_index):
        N = x.size(0)
        h = self.W(x).view(N, self.heads, self.out_features)  # (N, H, F)
        src, dst = edge_index
        alpha = (h * self.att_src).sum(-1)[src] + (h * self.att_dst).sum(-1)[dst]  # (E, H)
        alpha = F.leaky_relu(alpha, 0.2)
        # softmax over the edges that point at the same node
        amax = torch.full((N, self.heads), float("-inf")).scatter_reduce(
            0, dst.unsqueeze(-1).expand_as(alpha), alpha, reduce="amax", include_self=True
        )
        alpha = (alpha - amax[dst]).exp()
        denom = torch.zeros(N, self.heads).index_add_(0, dst, alpha)
        alpha = alpha / denom[dst].clamp_min(1e-16)
        out = torch.zeros_like(h).index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
        return out.mean(dim=1), alpha


class GraphClassifier(nn.Module):
    def __init__(self, in_features, hidden, num_classes):
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv2 = SAGELayer(hidden, hidden)
        self.gat = GATLayer(hidden, hidden)
        self.head = nn.Linear(2 * hidden, num_classes)

    def forward(self, x, edge_index, adj, batch, num_graphs):
        x = F.relu(self.conv1(x, adj))
        x = F.relu(self.conv2(x, edge_index))
        x, alpha = self.gat(x, edge_index)
        counts = torch.bincount(batch, minlength=num_graphs).unsqueeze(-1).float()
        mean_pool = torch.zeros(num_graphs, x.size(1)).index_add_(0, batch, x) / counts
        max_pool = torch.full((num_graphs, x.size(1)), float("-inf")).scatter_reduce(
            0, batch.unsqueeze(-1).expand_as(x), x, reduce="amax"
        )
        return self.head(torch.cat([mean_pool, max_pool], dim=1)), alpha


def random_graph_batch(rng, sizes):
    edges, offset, batch = [], 0, []
    for g, n in enumerate(sizes):
        a = rng.randint(0, n, size=2 * n)
        b = rng.randint(0, n, size=2 * n)
        keep = a != b
        pairs = np.stack([a[keep], b[keep]]) + offset
        edges.append(np.concatenate([pairs, pairs[::-1]], axis=1))  # undirected
        batch += [g] * n
        offset += n
    edge_index = np.unique(np.concatenate(edges, axis=1), axis=1)
    return torch.from_numpy(edge_index), torch.tensor(batch), offset


def main(sync, workdir):
    rng = np.random.RandomState(0)
    sizes = [5, 7, 4, 6]
    edge_index, batch, N = random_graph_batch(rng, sizes)
    x = torch.from_numpy(rng.randn(N, 6).astype(np.float32))
    y = torch.tensor([0, 1, 1, 0])
    adj = normalized_adjacency(edge_index, N)
    out = {
        "adj_indices": adj.indices(),
        "adj_values": adj.values(),
        "adj_dense_rowsum": adj.to_dense().sum(1),
        "nnz": adj._nnz(),
    }
    model = sync(GraphClassifier(6, 8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    losses = []
    for epoch in range(5):
        model.train()
        optimizer.zero_grad()
        logits, alpha = model(x, edge_index, adj, batch, len(sizes))
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["alpha"] = alpha
    out["grads"] = {n: p.grad for n, p in model.named_parameters()}
    with torch.no_grad():
        logits, _ = model(x, edge_index, adj, batch, len(sizes))
        out["pred"] = logits.argmax(dim=1)
    # the dense equivalent of the sparse product, and a gradient through torch.sparse.mm
    h = torch.from_numpy(rng.randn(N, 3).astype(np.float32)).requires_grad_()
    (torch.sparse.mm(adj, h) ** 2).sum().backward()
    out["sparse_mm_grad"] = h.grad
    out["dense_mm"] = adj.to_dense() @ h.detach()
    return out
