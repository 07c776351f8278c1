"""A sparse mixture-of-experts layer as in the popular from-scratch implementations (Shazeer et
al. noisy top-k gating, Switch-style load balancing): a router with torch.topk over logits,
softmax over the kept logits, scatter into a dense gate matrix, per-expert dispatch by
torch.where / nonzero / index_select and combination with index_add_, expert capacity through a
cumsum over one_hot assignments, the coefficient-of-variation importance loss and the Switch
auxiliary loss, a noisy gate with softplus noise std (noise given as data), and a transformer
block whose feed-forward is the MoE, trained a few steps."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Expert(nn.Module):
    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_model)
        )

    def forward(self, x):
        return self.net(x)


class NoisyTopkRouter(nn.Module):
    def __init__(self, d_model, num_experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.topkroute_linear = nn.Linear(d_model, num_experts)
        self.noise_linear = nn.Linear(d_model, num_experts)

    def forward(self, x, noise=None):
        logits = self.topkroute_linear(x)
        if noise is not None:
            noisy_logits = logits + noise * F.softplus(self.noise_linear(x))
        else:
            noisy_logits = logits
        top_k_logits, indices = noisy_logits.topk(self.top_k, dim=-1)
        zeros = torch.full_like(noisy_logits, float("-inf"))
        sparse_logits = zeros.scatter(-1, indices, top_k_logits)
        return F.softmax(sparse_logits, dim=-1), indices, logits


class SparseMoE(nn.Module):
    def __init__(self, d_model, d_hidden, num_experts=4, top_k=2, capacity_factor=1.5):
        super().__init__()
        self.router = NoisyTopkRouter(d_model, num_experts, top_k)
        self.experts = nn.ModuleList([Expert(d_model, d_hidden) for _ in range(num_experts)])
        self.num_experts, self.top_k, self.capacity_factor = num_experts, top_k, capacity_factor

    def forward(self, x, noise=None):
        B, T, C = x.shape
        gating_output, indices, logits = self.router(x, noise)
        final_output = torch.zeros_like(x)
        flat_x = x.view(-1, C)
        flat_gating_output = gating_output.view(-1, gating_output.size(-1))
        flat_indices = indices.view(-1, self.top_k)
        capacity = int((B * T * self.top_k / self.num_experts) * self.capacity_factor)
        updates = torch.zeros_like(flat_x)
        for i, expert in enumerate(self.experts):
            expert_mask = (flat_indices == i).any(dim=-1)
            selected = torch.nonzero(expert_mask).squeeze(-1)
            limited = selected[:capacity] if selected.numel() > capacity else selected
            if limited.numel() > 0:
                expert_input = flat_x.index_select(0, limited)
                expert_output = expert(expert_input)
                gating_scores = flat_gating_output[limited, i].unsqueeze(1)
                updates.index_add_(0, limited, expert_output * gating_scores)
        final_output += updates.view(B, T, C)
        return final_output, gating_output, logits


def cv_squared(x, eps=1e-10):
    if x.shape[0] == 1:
        return torch.tensor([0], device=x.device, dtype=x.dtype)
    return x.float().var() / (x.float().mean() ** 2 + eps)


def switch_aux_loss(router_logits, num_experts, top_k):
    probs = router_logits.softmax(-1).view(-1, num_experts)
    _, selected = torch.topk(probs, top_k, dim=-1)
    expert_mask = F.one_hot(selected, num_experts).float()  # (tokens, k, E)
    tokens_per_expert = expert_mask.mean(dim=0)
    router_prob_per_expert = probs.mean(dim=0)
    return (tokens_per_expert * router_prob_per_expert.unsqueeze(0)).sum() * num_experts


def capacity_positions(expert_index, num_experts):
    # position of each token in its expert's queue: cumsum over a one-hot assignment
    one_hot = F.one_hot(expert_index, num_experts)
    return ((torch.cumsum(one_hot, dim=0) - 1) * one_hot).sum(-1)


class Block(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_head, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.moe = SparseMoE(d_model, 4 * d_model)

    def forward(self, x, noise=None):
        T = x.size(1)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        moe_out, gates, logits = self.moe(self.ln2(x), noise)
        return x + moe_out, gates, logits


def main(sync, workdir):
    rng = np.random.RandomState(0)
    vocab, d_model, T = 11, 8, 6
    emb = sync(nn.Embedding(vocab, d_model))
    block = sync(Block(d_model, 2))
    head = sync(nn.Linear(d_model, vocab))
    params = list(emb.parameters()) + list(block.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=3e-3)
    data = torch.from_numpy(rng.randint(0, vocab, size=(4, T + 1)))
    history = []
    for step in range(4):
        noise = torch.from_numpy(rng.randn(4, T, 4).astype(np.float32))
        x, y = data[:, :-1], data[:, 1:]
        h, gates, logits = block(emb(x), noise)
        lm_loss = F.cross_entropy(head(h).view(-1, vocab), y.reshape(-1))
        importance = gates.sum(dim=(0, 1))
        load = (gates > 0).sum(dim=(0, 1)).float()
        aux = cv_squared(importance) + cv_squared(load) + switch_aux_loss(logits, 4, 2)
        loss = lm_loss + 0.01 * aux
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append([lm_loss.item(), aux.item(), load.tolist()])
    with torch.no_grad():
        h, gates, logits = block(emb(data[:, :-1]))
    top1 = logits.argmax(-1).view(-1)
    out = {
        "history": history,
        "gates": gates[0],
        "gate_rows_sum_to_one": torch.allclose(gates.sum(-1), torch.ones(4, T)),
        "nonzero_per_token": (gates > 0).sum(-1),
        "queue_positions": capacity_positions(top1, 4),
        "router_grad": block.moe.router.noise_linear.weight.grad,
        "expert_grads": [
            None if e.net[0].weight.grad is None else e.net[0].weight.grad.norm()
            for e in block.moe.experts
        ],
    }
    return out
