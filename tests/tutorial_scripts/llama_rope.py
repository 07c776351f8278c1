"""A LLaMA-style decoder as in the from-scratch repositories: nn.RMSNorm and a hand-written
RMSNorm (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)), rotary embeddings from
torch.outer + torch.polar applied through view_as_complex/view_as_real and, the other common
way, with rotate_half on cos/sin caches, grouped-query attention (repeat_interleave of K/V
heads, and SDPA's enable_gqa), SwiGLU feed-forward, a causal mask from torch.full(-inf).triu(1),
a KV cache filled by slice assignment for incremental decoding that matches the full forward,
top-p filtering through sort/cumsum/scatter, and greedy generation with torch.no_grad."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}
DIM, N_HEADS, N_KV, VOCAB, MAX_LEN = 16, 4, 2, 20, 16


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def precompute_freqs_cis(dim, end, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device, dtype=torch.float32)
    freqs = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(freqs), freqs)  # complex64


def apply_rotary_emb(xq, xk, freqs_cis):
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = freqs_cis.view(1, xq_.shape[1], 1, xq_.shape[-1])
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.head_dim = DIM // N_HEADS
        self.wq = nn.Linear(DIM, N_HEADS * self.head_dim, bias=False)
        self.wk = nn.Linear(DIM, N_KV * self.head_dim, bias=False)
        self.wv = nn.Linear(DIM, N_KV * self.head_dim, bias=False)
        self.wo = nn.Linear(N_HEADS * self.head_dim, DIM, bias=False)
        self.cache_k = torch.zeros(2, MAX_LEN, N_KV, self.head_dim)
        self.cache_v = torch.zeros(2, MAX_LEN, N_KV, self.head_dim)

    def forward(self, x, start_pos, freqs_cis, mask, use_cache=False):
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, N_HEADS, self.head_dim)
        xk = self.wk(x).view(bsz, seqlen, N_KV, self.head_dim)
        xv = self.wv(x).view(bsz, seqlen, N_KV, self.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis)
        if use_cache:
            self.cache_k[:bsz, start_pos : start_pos + seqlen] = xk
            self.cache_v[:bsz, start_pos : start_pos + seqlen] = xv
            xk = self.cache_k[:bsz, : start_pos + seqlen]
            xv = self.cache_v[:bsz, : start_pos + seqlen]
        keys = torch.repeat_interleave(xk, dim=2, repeats=N_HEADS // N_KV)
        values = torch.repeat_interleave(xv, dim=2, repeats=N_HEADS // N_KV)
        xq, keys, values = xq.transpose(1, 2), keys.transpose(1, 2), values.transpose(1, 2)
        scores = torch.matmul(xq, keys.transpose(2, 3)) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = scores + mask
        scores = F.softmax(scores.float(), dim=-1).type_as(xq)
        output = torch.matmul(scores, values)  # (bs, n_heads, seqlen, head_dim)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim, multiple_of=8):
        super().__init__()
        hidden_dim = int(2 * hidden_dim / 3)
        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, norm):
        super().__init__()
        self.attention = Attention()
        self.feed_forward = FeedForward(DIM, 4 * DIM)
        self.attention_norm = norm(DIM)
        self.ffn_norm = norm(DIM)

    def forward(self, x, start_pos, freqs_cis, mask, use_cache=False):
        h = x + self.attention(self.attention_norm(x), start_pos, freqs_cis, mask, use_cache)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList([Block(RMSNorm), Block(lambda d: nn.RMSNorm(d, eps=1e-6))])
        self.norm = nn.RMSNorm(DIM, eps=1e-5)
        self.output = nn.Linear(DIM, VOCAB, bias=False)
        self.freqs_cis = precompute_freqs_cis(DIM // N_HEADS, MAX_LEN * 2)

    def forward(self, tokens, start_pos=0, use_cache=False):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        freqs_cis = self.freqs_cis[start_pos : start_pos + seqlen]
        mask = None
        if seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
            mask = torch.triu(mask, diagonal=1)
            mask = torch.hstack([torch.zeros((seqlen, start_pos)), mask]).type_as(h)
        for layer in self.layers:
            h = layer(h, start_pos, freqs_cis, mask, use_cache)
        return self.output(self.norm(h)).float()


def top_p_filter(logits, p=0.8):
    sorted_logits, sorted_idx = torch.sort(logits, descending=True)
    cum = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
    remove = cum - F.softmax(sorted_logits, dim=-1) > p
    sorted_logits[remove] = float("-inf")
    return torch.full_like(logits, float("-inf")).scatter(-1, sorted_idx, sorted_logits)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    model = sync(Transformer())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    data = torch.from_numpy(rng.randint(0, VOCAB, size=(2, 9)))
    losses = []
    for _ in range(3):
        logits = model(data[:, :-1])
        loss = F.cross_entropy(logits.view(-1, VOCAB), data[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["grads"] = [model.layers[0].attention.wk.weight.grad, model.layers[1].ffn_norm.weight.grad]

    with torch.no_grad():
        full = model(data[:, :6])
        inc = [model(data[:, :4], 0, use_cache=True)]
        for pos in range(4, 6):
            inc.append(model(data[:, pos : pos + 1], pos, use_cache=True))
        inc = torch.cat(inc, dim=1)
    out["kv_cache_matches"] = (full - inc).abs().max() < 1e-4
    out["full"] = full

    # rotate_half form equals the complex form once the features are interleaved
    hd = DIM // N_HEADS
    x = torch.from_numpy(rng.randn(1, 5, 1, hd).astype(np.float32))
    fc = precompute_freqs_cis(hd, 5)
    rq, _ = apply_rotary_emb(x, x, fc)
    cos = torch.cat([fc.real, fc.real], -1).view(1, 5, 1, hd)
    sin = torch.cat([fc.imag, fc.imag], -1).view(1, 5, 1, hd)
    x_half = torch.cat([x[..., 0::2], x[..., 1::2]], -1)
    rh = x_half * cos + rotate_half(x_half) * sin
    out["rope"] = [rq, rh, fc.angle(), str(fc.dtype)]

    q = torch.from_numpy(rng.randn(1, 4, 5, 3).astype(np.float32)).requires_grad_()
    kv = torch.from_numpy(rng.randn(2, 1, 2, 5, 3).astype(np.float32)).requires_grad_()
    o = F.scaled_dot_product_attention(q, kv[0], kv[1], is_causal=True, enable_gqa=True)
    o.sum().backward()
    out["sdpa_gqa"] = [o, q.grad, kv.grad]

    model.eval()
    tokens = data[:1, :3]
    with torch.no_grad():
        for _ in range(4):
            logits = top_p_filter(model(tokens)[:, -1], p=0.9)
            nxt = torch.argmax(logits, dim=-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], dim=1)
    out["generated"] = tokens
    out["top_p"] = top_p_filter(torch.tensor([[2.0, 1.0, 0.5, -1.0, 3.0]]), p=0.7)
    return out
