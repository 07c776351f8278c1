"""ember.models ViT: torchvision's parameter counts and state_dict keys, and the same outputs
and gradients as a ViT written in PyTorch from the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import ember
from ember.models import VisionTransformer, vit_b_16, vit_tiny


class TorchViT(nn.Module):
    """torchvision's ViT layout, written directly in PyTorch (the test oracle)."""

    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
                 num_classes, in_channels=3):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, patch_size, patch_size)
        self.class_token = nn.Parameter(torch.randn(1, 1, hidden_dim))
        self.encoder = nn.Module()
        tokens = (image_size // patch_size) ** 2 + 1
        self.encoder.pos_embedding = nn.Parameter(torch.randn(1, tokens, hidden_dim))
        self.encoder.layers = nn.Module()
        for i in range(num_layers):
            block = nn.Module()
            block.ln_1 = nn.LayerNorm(hidden_dim, eps=1e-6)
            block.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, batch_first=True)
            block.ln_2 = nn.LayerNorm(hidden_dim, eps=1e-6)
            block.mlp = nn.Sequential(nn.Linear(hidden_dim, mlp_dim), nn.GELU(), nn.Dropout(0.0),
                                      nn.Linear(mlp_dim, hidden_dim), nn.Dropout(0.0))
            setattr(self.encoder.layers, f"encoder_layer_{i}", block)
        self.encoder.ln = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.heads = nn.Module()
        self.heads.head = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(len(x), -1, -1), x], 1)
        x = x + self.encoder.pos_embedding
        for block in self.encoder.layers.children():
            h = block.ln_1(x)
            x = x + block.self_attention(h, h, h, need_weights=False)[0]
            x = x + block.mlp(block.ln_2(x))
        return self.heads.head(self.encoder.ln(x)[:, 0])


def test_vit_b_16_matches_torchvision_size_and_keys():
    model = vit_b_16()
    assert sum(p.numel() for p in model.parameters()) == 86_567_656  # torchvision's count
    keys = list(model.state_dict())
    assert len(keys) == 152
    assert keys[:5] == ["class_token", "conv_proj.weight", "conv_proj.bias",
                        "encoder.pos_embedding", "encoder.layers.encoder_layer_0.ln_1.weight"]
    assert "encoder.layers.encoder_layer_11.self_attention.in_proj_weight" in keys
    assert "encoder.layers.encoder_layer_11.mlp.3.weight" in keys
    assert keys[-4:] == ["encoder.ln.weight", "encoder.ln.bias", "heads.head.weight",
                         "heads.head.bias"]
    assert model.encoder.pos_embedding.shape == (1, 197, 768)


@pytest.mark.parametrize("in_channels,image_size,patch_size", [(3, 32, 8), (1, 28, 7)])
def test_outputs_and_gradients_match_torch(in_channels, image_size, patch_size):
    torch.manual_seed(0)
    theirs = TorchViT(image_size, patch_size, 2, 4, 32, 64, 5, in_channels)
    ours = VisionTransformer(image_size, patch_size, 2, 4, 32, 64, num_classes=5,
                             in_channels=in_channels)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, in_channels, image_size, image_size),
                                                 dtype=np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    t_out, e_out = theirs(tx), ours(ex)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    weights = torch.tensor(np.random.default_rng(1).standard_normal((3, 5), dtype=np.float32))
    (t_out * weights).sum().backward()
    (e_out * ember.tensor(weights.numpy())).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-5)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-5, err_msg=name)


def test_torchvision_initialisation():
    model = vit_tiny()
    assert float(model.heads.head.weight.abs().sum()) == 0.0  # zero-initialised head
    assert float(model.class_token.abs().sum()) == 0.0
    std = model.encoder.pos_embedding.std().item()
    assert 0.015 < std < 0.025
    mlp_bias = model.encoder.layers.encoder_layer_0.mlp[0].bias
    assert 0 < mlp_bias.abs().max().item() < 1e-5


def test_wrong_image_size_names_the_model_and_the_patch_arithmetic():
    model = vit_tiny(image_size=32, patch_size=4)
    with pytest.raises(RuntimeError, match=r"VisionTransformer.*32, 32.*\(32 / 4\)\^2 = 64"):
        model(ember.randn(1, 3, 28, 28))
    with pytest.raises(ValueError, match="not divisible by patch_size"):
        VisionTransformer(30, 4, 1, 2, 8, 16)
    with pytest.raises(ValueError, match="pretrained"):
        vit_b_16(weights="IMAGENET1K_V1")


def test_a_small_vit_learns_digits():
    from ember.datasets import Digits  # noqa: PLC0415
    from ember.training.catalog import as_tensors  # noqa: PLC0415

    ember.manual_seed(0)
    x, y = as_tensors(Digits())
    x, y = x[:128], y[:128]
    model = VisionTransformer(8, 2, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                              num_classes=10, in_channels=1)
    opt = ember.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = ember.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    assert vit_tiny(image_size=8, patch_size=2, in_channels=1)(x[:2]).shape == (2, 10)
