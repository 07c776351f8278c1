"""Explaining a small ViT: patches by Tensor.unfold(2, p, p).unfold(3, p, p) and by a
stride=patch Conv2d (the same numbers), a pre-norm encoder block over nn.MultiheadAttention with
need_weights=True and average_attn_weights=False, per-head maps captured by a forward hook
returning the (output, weights) tuple, attention rollout (identity added for the residual,
rows renormalised, matrices multiplied through the layers) and the cls-row heat map reshaped to
the patch grid and upsampled with F.interpolate(bilinear), head-discarding by min/max fusion,
retain_grad on the returned maps (views off the gradient path: .grad stays None), and
position-embedding interpolation for a larger image (bicubic, align_corners=False)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}
P, D, HEADS = 4, 12, 3


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, eps=1e-6)
        self.attn = nn.MultiheadAttention(D, HEADS, batch_first=True)
        self.norm2 = nn.LayerNorm(D, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))

    def forward(self, x):
        h = self.norm1(x)
        a, w = self.attn(h, h, h, need_weights=True, average_attn_weights=False)
        self.weights = w
        x = x + a
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, img=12, n_classes=4, depth=2):
        super().__init__()
        self.grid = img // P
        self.patch_embed = nn.Conv2d(3, D, kernel_size=P, stride=P)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid**2 + 1, D) * 0.02)
        self.blocks = nn.Sequential(*[Block() for _ in range(depth)])
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, n_classes)

    def interpolate_pos_embed(self, grid):
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        patch_pos = patch_pos.reshape(1, self.grid, self.grid, D).permute(0, 3, 1, 2)
        patch_pos = F.interpolate(patch_pos, size=grid, mode="bicubic", align_corners=False)
        return torch.cat([cls_pos, patch_pos.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)

    def forward(self, x):
        x = self.patch_embed(x)  # (B, D, gh, gw)
        grid = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # (B, N, D)
        same_grid = tuple(grid) == (self.grid,) * 2
        pos = self.pos_embed if same_grid else self.interpolate_pos_embed(grid)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def rollout(attentions, discard_ratio=0.0, head_fusion="mean"):
    result = torch.eye(attentions[0].size(-1)).unsqueeze(0)
    with torch.no_grad():
        for attention in attentions:
            if head_fusion == "mean":
                fused = attention.mean(dim=1)
            elif head_fusion == "max":
                fused = attention.max(dim=1)[0]
            else:
                fused = attention.min(dim=1).values
            flat = fused.view(fused.size(0), -1)
            _, indices = flat.topk(int(flat.size(-1) * discard_ratio), -1, largest=False)
            indices = indices[indices != 0]
            flat[0, indices] = 0
            a = (fused + torch.eye(fused.size(-1))) / 2
            a = a / a.sum(dim=-1, keepdim=True)
            result = torch.matmul(a, result)
    mask = result[0, 0, 1:]
    width = int(mask.size(-1) ** 0.5)
    mask = mask.reshape(width, width)
    return mask / mask.max()


def main(sync, workdir):
    rng = np.random.RandomState(0)
    imgs = torch.from_numpy(rng.rand(4, 3, 12, 12).astype(np.float32))
    labels = torch.tensor([0, 1, 2, 3])
    model = sync(ViT())
    out = {}
    patches = imgs.unfold(2, P, P).unfold(3, P, P)  # (B, C, gh, gw, P, P)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(4, 9, 3 * P * P)
    w = model.patch_embed.weight.reshape(D, -1)
    by_unfold = patches @ w.t() + model.patch_embed.bias
    by_conv = model.patch_embed(imgs).flatten(2).transpose(1, 2)
    out["patch_embed_same"] = torch.allclose(by_unfold, by_conv, atol=1e-5)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    for _ in range(3):
        loss = F.cross_entropy(model(imgs), labels, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["loss"] = loss

    captured = []
    handles = [b.attn.register_forward_hook(lambda m, i, o: captured.append(o[1]))
               for b in model.blocks]  # fmt: skip
    model.eval()
    with torch.no_grad():
        logits = model(imgs[:1])
    for h in handles:
        h.remove()
    out["weights_shape"] = list(captured[0].shape)
    out["per_head"] = captured[1]
    out["row_sums"] = captured[0].sum(-1)
    masks = [rollout(captured, 0.0, "mean"), rollout(captured, 0.5, "max"),
             rollout(captured, 0.9, "min")]  # fmt: skip
    out["rollout"] = masks
    out["heatmap"] = F.interpolate(masks[0][None, None], size=(12, 12), mode="bilinear",
                                   align_corners=False)  # fmt: skip
    out["pred"] = logits.argmax(-1)

    # gradient-weighted rollout: keep the attention maps' gradients
    x = imgs[:1]
    weights = []

    def keep(module, inputs, output):
        output[1].retain_grad()
        weights.append(output[1])

    handles = [b.attn.register_forward_hook(keep) for b in model.blocks]
    score = model(x)[0, 1]
    score.backward()
    # the returned maps are views beside the graph's path: their .grad stays None, as in torch
    out["weights_grad_is_none"] = [w.grad is None for w in weights]
    out["weights_grad_fn"] = [w.grad_fn.name() for w in weights]
    out["cls_grad"] = model.cls_token.grad
    for h in handles:
        h.remove()

    with torch.no_grad():
        out["bigger_image"] = model(torch.from_numpy(rng.rand(1, 3, 20, 16).astype(np.float32)))
    return out
