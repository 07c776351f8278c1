"""Dive into Deep Learning, chapter 11: attention from scratch: Nadaraya-Watson kernel regression
(x_test.repeat_interleave(n_train).reshape((-1, n_train)), softmax of -(diff) ** 2 / 2, a
parametric NWKernelRegression trained with torch.bmm and X_tile[(1 - torch.eye(n_train))
.type(torch.bool)]), masked_softmax through X.reshape(-1, shape[-1]) with a -1e6 fill and
torch.repeat_interleave of valid lengths, AdditiveAttention (features.unsqueeze broadcasting,
self.w_v(features).squeeze(-1)), DotProductAttention, Bahdanau-style decoding steps,
MultiHeadAttention with transpose_qkv/transpose_output and valid_lens repeated per head,
self-attention and sinusoidal PositionalEncoding (P[:, :, 0::2] = torch.sin(X))."""

import math

import numpy as np
import torch
from torch import nn


def f(x):
    return 2 * torch.sin(x) + x ** 0.8


def nadaraya_watson(rng):
    n_train = 20
    x_train, _ = torch.sort(torch.tensor(rng.rand(n_train).astype(np.float32)) * 5)
    y_train = f(x_train) + torch.tensor(rng.normal(0.0, 0.5, (n_train,)).astype(np.float32))
    x_test = torch.arange(0, 5, 0.25)
    y_truth = f(x_test)
    n_test = len(x_test)
    y_hat_mean = torch.repeat_interleave(y_train.mean(), n_test)
    X_repeat = x_test.repeat_interleave(n_train).reshape((-1, n_train))
    attention_weights = nn.functional.softmax(-(X_repeat - x_train) ** 2 / 2, dim=1)
    y_hat = torch.matmul(attention_weights, y_train)
    X = torch.ones((2, 1, 4))
    Y = torch.ones((2, 4, 6))
    weights = torch.ones((2, 10)) * 0.1
    values = torch.arange(20.0).reshape((2, 10))
    bmm_demo = torch.bmm(weights.unsqueeze(1), values.unsqueeze(-1))
    return {
        "mean_baseline": y_hat_mean,
        "y_hat": y_hat,
        "err": ((y_hat - y_truth) ** 2).mean(),
        "bmm_shape": list(torch.bmm(X, Y).shape),
        "bmm_demo": bmm_demo,
    }, (x_train, y_train, x_test)


class NWKernelRegression(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, queries, keys, values):
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = nn.functional.softmax(
            -((queries - keys) * self.w) ** 2 / 2, dim=1)
        return torch.bmm(self.attention_weights.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)


def parametric_nw(data):
    x_train, y_train, x_test = data
    n_train = len(x_train)
    X_tile = x_train.repeat((n_train, 1))
    Y_tile = y_train.repeat((n_train, 1))
    keys = X_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))
    values = Y_tile[(1 - torch.eye(n_train)).type(torch.bool)].reshape((n_train, -1))
    net = NWKernelRegression(torch.tensor([0.8]))
    loss = nn.MSELoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=0.5)
    losses = []
    for epoch in range(5):
        trainer.zero_grad()
        l = loss(net(x_train, keys, values), y_train)
        l.sum().backward()
        trainer.step()
        losses.append(float(l.sum()))
    keys = x_train.repeat((len(x_test), 1))
    values = y_train.repeat((len(x_test), 1))
    y_hat = net(x_test, keys, values).unsqueeze(1).detach()
    return {"losses": losses, "w": net.w, "y_hat": y_hat,
            "weights": net.attention_weights.detach()[:2]}


def masked_softmax(X, valid_lens):
    """Perform softmax operation by masking elements on the last axis."""
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32,
                        device=X.device)[None, :] < valid_lens[:, None]
    X[~mask] = -1e6
    return nn.functional.softmax(X.reshape(shape), dim=-1)


class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super(AdditiveAttention, self).__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    def __init__(self, dropout, **kwargs):
        super(DotProductAttention, self).__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


def transpose_qkv(X, num_heads):
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)
    X = X.permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])
    X = X.permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super(MultiHeadAttention, self).__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        output_concat = transpose_output(output, self.num_heads)
        return self.W_o(output_concat)


class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    nw, data = nadaraya_watson(rng)
    out = {"nw": nw, "nw_param": parametric_nw(data)}
    rand = torch.tensor(rng.rand(2, 2, 4).astype(np.float32))
    out["masked"] = [masked_softmax(rand.clone(), torch.tensor([2, 3])),
                     masked_softmax(rand.clone(), torch.tensor([[1, 3], [2, 4]]))]

    queries = torch.tensor(rng.normal(0, 1, (2, 1, 20)).astype(np.float32))
    keys = torch.ones((2, 10, 2))
    values = torch.arange(40, dtype=torch.float32).reshape(1, 10, 4).repeat(2, 1, 1)
    valid_lens = torch.tensor([2, 6])
    attention = sync(AdditiveAttention(key_size=2, query_size=20, num_hiddens=8, dropout=0.1))
    attention.eval()
    out["additive"] = [attention(queries, keys, values, valid_lens),
                       attention.attention_weights]
    queries = torch.tensor(rng.normal(0, 1, (2, 1, 2)).astype(np.float32))
    dot = DotProductAttention(dropout=0.5)
    dot.eval()
    out["dot"] = [dot(queries, keys, values, valid_lens), dot.attention_weights]

    num_hiddens, num_heads = 12, 3
    mha = sync(MultiHeadAttention(num_hiddens, num_hiddens, num_hiddens, num_hiddens,
                                  num_heads, 0.5))
    mha.eval()
    batch_size, num_queries, num_kvpairs = 2, 4, 6
    valid_lens = torch.tensor([3, 2])
    X = torch.tensor(rng.rand(batch_size, num_queries, num_hiddens).astype(np.float32))
    Y = torch.tensor(rng.rand(batch_size, num_kvpairs, num_hiddens).astype(np.float32),
                     requires_grad=True)
    mh_out = mha(X, Y, Y, valid_lens)
    mh_out.pow(2).sum().backward()
    out["mha"] = [mh_out, Y.grad, mha.W_q.weight.grad,
                  transpose_output(transpose_qkv(X, 3), 3)]
    out["self_attention"] = mha(X, X, X, torch.tensor([3, 4]))

    encoding_dim, num_steps = 16, 10
    pos_encoding = PositionalEncoding(encoding_dim, 0)
    X = pos_encoding(torch.zeros((1, num_steps, encoding_dim)))
    P = pos_encoding.P[:, : X.shape[1], :]
    out["pos"] = [X, P[0, :, 6:10].T]
    for i in range(8):
        out[f"binary_{i}"] = f"{i} in binary is {i:>03b}"
    return out
