"""Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"), with
torchvision's constructors, module names (so state_dict keys) and initialisation.

    image (B, 3, H, W) -> conv_proj: a Conv2d with kernel = stride = patch size, i.e. one
                          Linear applied to every non-overlapping P x P patch
      -> (B, N, D) patch tokens, N = (H / P) * (W / P)
      -> prepend the learned class token: (B, N + 1, D)
      -> + learned position embeddings -> num_layers x EncoderBlock (pre-LayerNorm:
         x + MHA(LN(x)), then x + MLP(LN(x))) -> LayerNorm
      -> the class token's output -> heads (Linear) -> logits (B, num_classes)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial
from typing import Any, Callable

from .. import creation, nn
from ..nn.errors import LayerInputError
from ..ops.join import cat
from ..tensor import Tensor


class MLPBlock(nn.Sequential):
    """Linear D -> mlp_dim, GELU, Dropout, Linear mlp_dim -> D, Dropout (torchvision's
    indices: mlp.0 and mlp.3 are the Linears)."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mlp_dim, in_dim), nn.Dropout(dropout))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """A pre-LayerNorm Transformer encoder block."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float, norm_layer: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: Tensor) -> Tensor:
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embeddings, dropout, the blocks, a final LayerNorm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float,
                 norm_layer: Callable[[int], nn.Module]) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(creation.empty(1, seq_length, hidden_dim))
        nn.init.normal_(self.pos_embedding, std=0.02)  # from BERT
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() != 3 or input.shape[1:] != self.pos_embedding.shape[1:]:
            raise LayerInputError(f"expected (batch, {self.pos_embedding.shape[1]}, "
                                  f"{self.pos_embedding.shape[2]}) tokens, got "
                                  f"{tuple(input.shape)}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """ViT as in torchvision; `in_channels` (an Ember addition, default 3) allows grey images."""

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6),
                 in_channels: int = 3) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size {image_size} is not divisible by "
                             f"patch_size {patch_size}")
        if hidden_dim % num_heads:
            raise ValueError(f"VisionTransformer: hidden_dim {hidden_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer

        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch_size,
                                   stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1  # the patches and the class token
        self.class_token = nn.Parameter(creation.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length

        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)

        fan_in = self.conv_proj.in_channels * patch_size * patch_size
        nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        if representation_size is not None:
            nn.init.trunc_normal_(self.heads.pre_logits.weight,
                                  std=math.sqrt(1 / self.heads.pre_logits.in_features))
            nn.init.zeros_(self.heads.pre_logits.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> (B, N, D) patch embeddings, patches in row-major order."""
        if x.dim() != 4 or x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise LayerInputError(
                f"expected images (batch, {self.conv_proj.in_channels}, "
                f"{self.image_size}, {self.image_size}), got {tuple(x.shape)}; the position "
                f"embeddings are learned for ({self.image_size} / {self.patch_size})^2 = "
                f"{self.seq_length - 1} patches")
        n = x.shape[0]
        x = self.conv_proj(x)                          # (B, D, H/P, W/P)
        return x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)  # (B, N, D)

    def forward(self, x: Tensor) -> Tensor:
        x = self._process_input(x)
        cls = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(cat([cls, x], dim=1))         # (B, N + 1, D)
        return self.heads(x[:, 0])                     # the class token's output


def _vit(patch_size: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int,
         kwargs: dict[str, Any]) -> VisionTransformer:
    if kwargs.pop("weights", None) is not None:
        raise ValueError("Ember ships no pretrained weights (it works offline); load a "
                         "state_dict you have with model.load_state_dict(...)")
    kwargs.pop("progress", None)
    image_size = kwargs.pop("image_size", 224)
    return VisionTransformer(image_size, patch_size, num_layers, num_heads, hidden_dim,
                             mlp_dim, **kwargs)


def vit_b_16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:
    """ViT-Base/16: 12 layers, 768 wide, 12 heads, MLP 3072; 86,567,656 parameters."""
    return _vit(16, 12, 12, 768, 3072, {"weights": weights, **kwargs})


def vit_b_32(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:
    """ViT-Base/32: as B/16 with 32x32 patches (49 tokens at 224x224)."""
    return _vit(32, 12, 12, 768, 3072, {"weights": weights, **kwargs})


def vit_l_16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:
    """ViT-Large/16: 24 layers, 1024 wide, 16 heads, MLP 4096."""
    return _vit(16, 24, 16, 1024, 4096, {"weights": weights, **kwargs})


def vit_l_32(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:
    return _vit(32, 24, 16, 1024, 4096, {"weights": weights, **kwargs})


def vit_h_14(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:
    """ViT-Huge/14: 32 layers, 1280 wide, 16 heads, MLP 5120."""
    return _vit(14, 32, 16, 1280, 5120, {"weights": weights, **kwargs})


def vit_tiny(num_classes: int = 10, image_size: int = 32, patch_size: int = 4,
             in_channels: int = 3, **kwargs: Any) -> VisionTransformer:
    """A ViT small enough to train on a CPU: 6 layers, 128 wide, 4 heads, MLP 256, 4x4
    patches (64 patch tokens at 32x32, 49 at 28x28); about 0.8M parameters."""
    return VisionTransformer(image_size, patch_size, num_layers=6, num_heads=4, hidden_dim=128,
                             mlp_dim=256, num_classes=num_classes, in_channels=in_channels,
                             **kwargs)
