"""A Vision Transformer from scratch: patch embedding by Conv2d and by unfold (the same numbers),
cls token and nn.Parameter positional embedding with trunc_normal_ init, nn.TransformerEncoder
with batch_first and norm_first, a key_padding_mask over dropped patches, AdamW with no weight
decay on norms/biases/embeddings, and attention maps through a hand-written block."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import TransformerEncoder, TransformerEncoderLayer

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class PatchEmbed(nn.Module):
    def __init__(self, img_size=8, patch_size=4, in_chans=3, embed_dim=16):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        x = self.proj(x)  # (B, D, H/P, W/P)
        return x.flatten(2).transpose(1, 2)  # (B, N, D)

    def forward_unfold(self, x):
        p = self.patch_size
        patches = F.unfold(x, kernel_size=p, stride=p)  # (B, C*P*P, N)
        weight = self.proj.weight.flatten(1)  # (D, C*P*P)
        return patches.transpose(1, 2) @ weight.t() + self.proj.bias

    def forward_reshape(self, x):
        b, c, h, w = x.shape
        p = self.patch_size
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        x = x.reshape(b, (h // p) * (w // p), c * p * p)
        return F.linear(x, self.proj.weight.reshape(self.proj.out_channels, -1), self.proj.bias)


class ViT(nn.Module):
    def __init__(self, num_classes=4, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0):
        super().__init__()
        self.patch_embed = PatchEmbed(embed_dim=embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(p=0.0)
        layer = TransformerEncoderLayer(
            d_model=embed_dim,
            nhead=num_heads,
            dim_feedforward=int(embed_dim * mlp_ratio),
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = TransformerEncoder(
            layer, num_layers=depth, norm=nn.LayerNorm(embed_dim), enable_nested_tensor=False
        )
        self.head = nn.Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward(self, x, key_padding_mask=None):
        b = x.shape[0]
        x = self.patch_embed(x)
        cls_tokens = self.cls_token.expand(b, -1, -1)
        x = torch.cat((cls_tokens, x), dim=1)
        x = self.pos_drop(x + self.pos_embed)
        x = self.encoder(x, src_key_padding_mask=key_padding_mask)
        return self.head(x[:, 0])


class Attention(nn.Module):
    """timm's attention: one qkv projection, attention maps kept for visualisation."""

    def __init__(self, dim, num_heads=2):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, nh, N, hs)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        fused = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x), attn, self.proj(fused)


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(ViT())
    images = torch.from_numpy(rng.rand(3, 3, 8, 8).astype(np.float32))
    pe = model.patch_embed
    out = {"n_patches": pe.num_patches}
    with torch.no_grad():
        out["embeds"] = [pe(images), pe.forward_unfold(images), pe.forward_reshape(images)]
    # torch.nn.init.trunc_normal_ keeps values inside [a, b]
    w = torch.empty(200, 20)
    nn.init.trunc_normal_(w, mean=0.0, std=1.0, a=-2.0, b=2.0)
    out["trunc_in_range"] = bool((w.abs() <= 2.0).all())

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim == 1 or name.endswith(".bias") or name in ("pos_embed", "cls_token"):
            no_decay.append(name)
        else:
            decay.append(name)
    params = dict(model.named_parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [params[n] for n in decay], "weight_decay": 0.05},
            {"params": [params[n] for n in no_decay], "weight_decay": 0.0},
        ],
        lr=1e-3,
        betas=(0.9, 0.999),
    )
    out["groups"] = [decay, no_decay]
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    losses = []
    # a mask that hides the last patch of the second image (True = ignore)
    mask = torch.zeros(3, pe.num_patches + 1, dtype=torch.bool)
    mask[1, -1] = True
    for step in range(3):
        target = torch.from_numpy(rng.randint(0, 4, size=3))
        logits = model(images, key_padding_mask=mask if step > 0 else None)
        loss = criterion(logits, target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["pos_grad"] = model.pos_embed.grad
    out["cls_grad"] = model.cls_token.grad
    # the key bias gets a zero gradient (softmax ignores a constant per query): Adam turns its
    # rounding noise into full-size steps, so that third of in_proj_bias is left out
    out["state"] = {
        k: torch.cat([v[:16], v[32:]]) if k.endswith("in_proj_bias") else v
        for k, v in model.state_dict().items()
    }
    model.eval()
    with torch.inference_mode():
        out["eval"] = model(images, key_padding_mask=mask)
        out["pred"] = model(images).argmax(dim=-1)

    attn = sync(Attention(16))
    tokens = torch.from_numpy(rng.randn(2, 5, 16).astype(np.float32))
    y, maps, fused = attn(tokens)
    out["attn"] = [y, maps, fused, maps.sum(-1)]
    # attention rollout: average heads, add identity, renormalise, multiply across layers
    a = maps.mean(dim=1) + torch.eye(5)
    a = a / a.sum(dim=-1, keepdim=True)
    out["rollout"] = torch.matmul(a, a)[:, 0, 1:]
    return out
