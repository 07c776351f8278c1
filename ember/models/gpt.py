"""GPT: a decoder-only Transformer language model (Radford et al. 2018, 2019), with module
names of GPT-2 (and nanoGPT), so GPT-2's weights load.

    tokens (B, T) -> wte(tokens) + wpe(0..T-1)        token and learned position embeddings
      -> n_layer x Block:                              pre-LayerNorm residual blocks
             x = x + attn(ln_1(x))                     causal multi-head self-attention
             x = x + mlp(ln_2(x))                      Linear 4C -> GELU -> Linear C
      -> ln_f -> lm_head                               logits (B, T, vocab); lm_head.weight IS
                                                       wte.weight (weight tying)

Position t may only attend to positions <= t (the causal mask), so one forward pass over a
block of T tokens trains T next-token predictions at once.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from dataclasses import asdict, dataclass
from typing import Any

from .. import creation, nn, optim
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..ops.join import cat
from ..tensor import Tensor
from .sampling import check_sampling, sample_next


@dataclass
class GPTConfig:
    """The shape of a GPT. The defaults are GPT-2 small (124M parameters)."""

    block_size: int = 1024   # the longest context, in tokens
    vocab_size: int = 50257  # GPT-2's byte-pair vocabulary
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768        # model width C; each head has C / n_head dims
    dropout: float = 0.0
    bias: bool = True        # biases in the Linears and LayerNorms, as GPT-2

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head "
                             f"({self.n_head}), each head gets n_embd / n_head dims")
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise ValueError(f"GPTConfig: {name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")


class CausalSelfAttention(nn.Module):
    """All heads' queries, keys and values from one Linear (c_attn), causal scaled dot-product
    attention per head, the heads concatenated and mixed by c_proj."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)          # 3 x (B, T, C)
        shape = (B, T, self.n_head, C // self.n_head)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, T, C)                     # heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """The position-wise feed-forward net: C -> 4C -> GELU -> C."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-LayerNorm Transformer block: normalise, transform, add back to the residual."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """`model(idx)` -> (logits (B, T, vocab), None); `model(idx, targets)` -> (logits, the mean
    cross-entropy of predicting targets (B, T); target -1 is ignored)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(config.vocab_size, config.n_embd),
            "wpe": nn.Embedding(config.block_size, config.n_embd),
            "drop": nn.Dropout(config.dropout),
            "h": nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            "ln_f": nn.LayerNorm(config.n_embd, bias=config.bias),
        })
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying (Press & Wolf 2017)

        # GPT-2's init: N(0, 0.02), and the projections into the residual stream scaled by
        # 1/sqrt(2 n_layer), since each block adds two of them to it
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self, non_embedding: bool = True) -> int:
        """Parameters counted once (the tied matrix too); without the position embeddings
        when `non_embedding`, the count the GPT-2 and scaling-law papers report."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if idx.dim() != 2:
            raise ValueError(f"GPT: expected token ids of shape (batch, time), got "
                             f"{tuple(idx.shape)}")
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"GPT: a sequence of {T} tokens is longer than block_size "
                             f"{self.config.block_size}, the longest context the position "
                             "embeddings cover; crop it to the last block_size tokens")
        pos = creation.arange(T, dtype=idx.dtype, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay: float, learning_rate: float,
                             betas: tuple[float, float] = (0.9, 0.95),
                             eps: float = 1e-8) -> optim.AdamW:
        """AdamW that decays only the matrices (Linear weights, embeddings): biases and
        LayerNorm gains are left alone, as in GPT-2 and nanoGPT."""
        decay = [p for p in self.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return optim.AdamW(groups, lr=learning_rate, betas=betas, eps=eps)

    @no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: Any = None) -> Tensor:
        """Extend each row of idx (B, T) by `max_new_tokens` sampled tokens, feeding back
        the last block_size tokens. temperature < 1 sharpens the distribution, > 1 flattens
        it, 0 takes the most likely token; top_k keeps only the k most likely. Switch to
        eval() first so dropout is off."""
        check_sampling(temperature, top_k, "GPT.generate")
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            token = sample_next(logits[:, -1, :], temperature, top_k, generator)
            idx = cat([idx, token], dim=1)
        return idx

    # ------------------------------------------------------------------------ GPT-2's weights

    @classmethod
    def from_safetensors(cls, path: str | os.PathLike, config: GPTConfig | None = None,
                         **overrides: Any) -> GPT:
        """Build a GPT from GPT-2 weights in a safetensors file a user has (e.g. the
        `model.safetensors` of Hugging Face's gpt2, gpt2-medium, -large or -xl).

        The config is read from the shapes (vocab, width, depth, block size) and the head
        count from a `config.json` beside the file, else from GPT-2's sizes (768 wide: 12
        heads, 1024: 16, 1280: 20, 1600: 25). `overrides` (e.g. dropout=0.1) change it.
        """
        from ..serialization import load  # noqa: PLC0415

        tensors = load(path)
        state = gpt2_state_dict(tensors)
        if config is None:
            config = _config_from_state(state, pathlib.Path(path).parent / "config.json")
        for key, value in overrides.items():
            if not hasattr(config, key):
                raise TypeError(f"GPT.from_safetensors: unknown config field {key!r}")
            setattr(config, key, value)
        model = cls(GPTConfig(**asdict(config)))
        model.load_state_dict(state, strict=True)
        return model


# Hugging Face's GPT-2 stores these Linears as Conv1D, whose weight is (in, out): transposed
_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
_GPT2_HEADS = {768: 12, 1024: 16, 1280: 20, 1600: 25}


def gpt2_state_dict(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """GPT-2 checkpoint tensors (Hugging Face names, with or without the 'transformer.'
    prefix) -> this GPT's state_dict: Conv1D weights transposed, the causal-mask buffers
    dropped, lm_head tied to wte."""
    state: dict[str, Tensor] = {}
    for name, tensor in tensors.items():
        key = name.removeprefix("transformer.")
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # GPT-2's stored causal mask, a buffer, not a parameter
        if key == "lm_head.weight":
            continue  # the same matrix as wte (tied)
        if key.endswith(_CONV1D):
            tensor = tensor.t().contiguous()
        state[key if key.startswith("lm_head") else f"transformer.{key}"] = tensor
    if "transformer.wte.weight" not in state:
        raise KeyError("GPT-2 weights: no 'wte.weight' (token embedding) among the tensors "
                       f"{sorted(tensors)[:8]}...; is this a GPT-2 checkpoint?")
    state["lm_head.weight"] = state["transformer.wte.weight"]
    return state


def _config_from_state(state: dict[str, Tensor], config_json: pathlib.Path) -> GPTConfig:
    vocab_size, n_embd = state["transformer.wte.weight"].shape
    block_size = state["transformer.wpe.weight"].shape[0]
    n_layer = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("transformer.h."))
    bias = "transformer.ln_f.bias" in state
    n_head = None
    if config_json.is_file():
        n_head = json.loads(config_json.read_text()).get("n_head")
    n_head = n_head or _GPT2_HEADS.get(n_embd)
    if n_head is None:
        raise ValueError(f"GPT.from_safetensors: cannot tell the number of heads of a model "
                         f"{n_embd} wide (no config.json beside the file); pass "
                         "config=GPTConfig(...)")
    return GPTConfig(block_size=block_size, vocab_size=vocab_size, n_layer=n_layer,
                     n_head=n_head, n_embd=n_embd, bias=bias)


def gpt(**config: Any) -> GPT:
    """A GPT from GPTConfig fields, e.g. gpt(n_layer=4, n_head=4, n_embd=128, block_size=64,
    vocab_size=65)."""
    return GPT(GPTConfig(**config))
