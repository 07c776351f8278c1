"""Attention as used in model code: nn.MultiheadAttention with padding and causal masks,
a full nn.Transformer (batch_first, norm_first, gelu), a hand-written causal self-attention
block (nanoGPT style) with scaled_dot_product_attention, and a ViT-style patch embedding."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size),
        )

    def forward(self, x, flash=True):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if flash:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True
            )
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class PatchEmbed(nn.Module):
    def __init__(self, img_size=8, patch_size=4, in_chans=3, embed_dim=8):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img_size // patch_size) ** 2 + 1, embed_dim))

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat((cls, x), dim=1) + self.pos_embed


def main(sync, workdir):
    rng = np.random.RandomState(0)

    def randn(*shape):
        return torch.from_numpy(rng.randn(*shape).astype(np.float32))

    out = {}
    mha = sync(nn.MultiheadAttention(8, 2, batch_first=True))
    x = randn(2, 5, 8)
    pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    o1, w1 = mha(x, x, x, key_padding_mask=pad)
    o2, w2 = mha(x, x, x, attn_mask=causal, need_weights=True, average_attn_weights=False)
    o3, w3 = mha(
        x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(5), need_weights=False
    )
    (o1.sum() + o2.sum() + o3.sum()).backward()
    out["mha"] = [o1, w1, o2, w2, o3, w3 is None, mha.in_proj_weight.grad]
    cross = sync(nn.MultiheadAttention(8, 2, kdim=6, vdim=4))
    o, w = cross(randn(3, 2, 8), randn(4, 2, 6), randn(4, 2, 4))
    out["cross"] = [o, w]

    model = sync(
        nn.Transformer(
            d_model=8,
            nhead=2,
            num_encoder_layers=2,
            num_decoder_layers=1,
            dim_feedforward=16,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
    )
    src, tgt = randn(2, 6, 8), randn(2, 4, 8)
    tgt_mask = model.generate_square_subsequent_mask(4)
    src_pad = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    y = model(
        src,
        tgt,
        tgt_mask=tgt_mask,
        src_key_padding_mask=src_pad,
        memory_key_padding_mask=src_pad,
        tgt_is_causal=True,
    )
    y.pow(2).mean().backward()
    out["transformer"] = [
        y,
        model.encoder.layers[0].self_attn.out_proj.weight.grad,
        model.decoder.layers[0].linear1.bias.grad,
    ]

    dec_layer = sync(
        nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0)
    )
    memory = randn(6, 2, 8)
    out["decoder_layer"] = dec_layer(
        randn(4, 2, 8), memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4)
    )

    attn = sync(CausalSelfAttention(8, 2, 6))
    x = randn(2, 6, 8).requires_grad_()
    y_flash = attn(x)
    y_slow = attn(x, flash=False)
    y_flash.sum().backward()
    out["causal"] = [y_flash, torch.allclose(y_flash, y_slow, atol=1e-5), x.grad]
    q, k, v = randn(2, 2, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 4)
    mask = torch.tensor([[True, True, False, True, False]]).expand(3, 5)
    out["sdpa_mask"] = [
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        F.scaled_dot_product_attention(q, k, v, attn_mask=randn(3, 5), scale=0.3),
    ]

    vit = sync(PatchEmbed())
    tokens = vit(randn(2, 3, 8, 8))
    enc = sync(
        nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, activation=F.gelu),
            1,
            norm=nn.LayerNorm(8),
            enable_nested_tensor=False,
        )
    )
    feats = enc(tokens)
    out["vit"] = [tokens, feats[:, 0]]
    return out
