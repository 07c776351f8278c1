"""A GPT written directly in PyTorch, the oracle for ember.models.GPT (tests and the GPT
benchmark): GPT-2's module names, pre-LN blocks, causal self-attention, GELU MLP, tied
embeddings. Imports torch, so it lives with the tests, never in the package."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class TorchGPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int,
                 n_embd: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        self.block_size, self.n_head, self.dropout = block_size, n_head, dropout
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(vocab_size, n_embd),
            "wpe": nn.Embedding(block_size, n_embd),
            "drop": nn.Dropout(dropout),
            "h": nn.ModuleList(nn.ModuleDict({
                "ln_1": nn.LayerNorm(n_embd, bias=bias),
                "attn": nn.ModuleDict({"c_attn": nn.Linear(n_embd, 3 * n_embd, bias=bias),
                                       "c_proj": nn.Linear(n_embd, n_embd, bias=bias)}),
                "ln_2": nn.LayerNorm(n_embd, bias=bias),
                "mlp": nn.ModuleDict({"c_fc": nn.Linear(n_embd, 4 * n_embd, bias=bias),
                                      "c_proj": nn.Linear(4 * n_embd, n_embd, bias=bias)}),
            }) for _ in range(n_layer)),
            "ln_f": nn.LayerNorm(n_embd, bias=bias),
        })
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        B, T = idx.shape
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            h = block.ln_1(x)
            q, k, v = block.attn.c_attn(h).split(h.size(-1), dim=2)
            q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
            a = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
            x = x + block.attn.c_proj(a.transpose(1, 2).reshape(B, T, -1))
            x = x + block.mlp.c_proj(F.gelu(block.mlp.c_fc(block.ln_2(x))))
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                       ignore_index=-1)

    def adamw(self, lr: float, weight_decay: float, betas=(0.9, 0.95)) -> torch.optim.AdamW:
        params = list(self.parameters())
        return torch.optim.AdamW([
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ], lr=lr, betas=betas)
