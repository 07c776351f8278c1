"""Choosing the next token from a language model's logits: temperature and top-k sampling."""

from __future__ import annotations

import math
from typing import Any

from ..nn import functional as F
from ..random import multinomial
from ..tensor import Tensor


def check_sampling(temperature: float, top_k: int | None, where: str) -> None:
    if temperature < 0:
        raise ValueError(f"{where}: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"{where}: top_k must be >= 1 or None, got {top_k}")


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                generator: Any = None) -> Tensor:
    """One token id per row of logits (B, vocab) -> (B, 1).

    Dividing the logits by the temperature before the softmax sharpens the distribution
    (T < 1) or flattens it (T > 1); T = 0 takes the most likely token. top_k keeps only the k
    most likely tokens (the rest get probability 0).
    """
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = logits.topk(min(top_k, logits.size(-1)), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    return multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
