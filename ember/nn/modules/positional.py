"""Positional encodings: attention alone is blind to order, so each position's vector is added
to the input. Ember's own layers (torch has none): fixed sinusoids or learned embeddings.

Both take (T, N, d_model) input, (N, T, d_model) with batch_first=True, or unbatched
(T, d_model), and return it with the encoding of positions 0..T-1 added.
"""

from __future__ import annotations

import math
from typing import Any

from ... import creation, dtypes
from ...tensor import Tensor
from .. import functional as F
from .module import Module
from .sparse import Embedding


def _add_positions(x: Tensor, pe: Tensor, batch_first: bool, max_len: int, name: str) -> Tensor:
    """x + pe[:T], with pe (T, d_model) broadcast over the batch dim."""
    seq_dim = 1 if batch_first and x.ndim == 3 else 0
    length = x.shape[seq_dim]
    if length > max_len:
        raise ValueError(f"{name}: the input has {length} positions (dim {seq_dim} of "
                         f"{tuple(x.shape)}) but max_len={max_len}")
    pe = pe[:length]
    if x.ndim == 3 and not batch_first:
        pe = pe.unsqueeze(1)  # (T, 1, d_model) against (T, N, d_model)
    return x + pe


class SinusoidalPositionalEncoding(Module):
    """Fixed encodings of Vaswani et al. 2017, added to the input (then dropout):

        PE(pos, 2i)     = sin(pos / 10000^(2i / d_model))
        PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model))

    Each pair of dims is a sinusoid with its own wavelength (2 pi to 10000 * 2 pi), so a fixed
    offset is a linear map of the encoding. The table is a non-persistent buffer `pe`
    (max_len, d_model): it moves with `.to()` but is not saved in the state_dict.

    >>> pos = ember.nn.SinusoidalPositionalEncoding(64, batch_first=True)
    >>> pos(ember.zeros(8, 10, 64)).shape
    ember.Size([8, 10, 64])
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0,
                 batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.p = dropout
        position = creation.arange(max_len, dtype=dtypes.float64, device=device).unsqueeze(1)
        # 1 / 10000^(2i / d) for the even dims 2i = 0, 2, 4, ...
        inv_freq = (creation.arange(0, d_model, 2, dtype=dtypes.float64, device=device)
                    * (-math.log(10000.0) / d_model)).exp()
        angles = position * inv_freq  # (max_len, ceil(d_model / 2))
        pe = creation.zeros(max_len, d_model, dtype=dtypes.float64, device=device)
        pe[:, 0::2] = angles.sin()
        pe[:, 1::2] = angles[:, : d_model // 2].cos()
        self.register_buffer("pe", pe.to(dtype or dtypes.get_default_dtype()),
                             persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        out = _add_positions(x, self.pe, self.batch_first, self.max_len,
                             "SinusoidalPositionalEncoding")
        return F.dropout(out, self.p, self.training)

    def extra_repr(self) -> str:
        text = f"{self.d_model}, max_len={self.max_len}"
        if self.p:
            text += f", dropout={self.p}"
        return text + (", batch_first=True" if self.batch_first else "")


class LearnedPositionalEmbedding(Module):
    """A learned vector per position (an `Embedding(max_len, d_model)` indexed by 0..T-1, as in
    BERT, GPT-2 and ViT), added to the input. Starts N(0, 1) like any Embedding; re-initialise
    `embedding.weight` (GPT-2 uses std 0.02) if you want smaller vectors.

    >>> pos = ember.nn.LearnedPositionalEmbedding(128, 64, batch_first=True)
    >>> pos(ember.zeros(8, 10, 64)).shape
    ember.Size([8, 10, 64])
    """

    def __init__(self, max_len: int, d_model: int, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first
        self.embedding = Embedding(max_len, d_model, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return _add_positions(x, self.embedding.weight, self.batch_first, self.max_len,
                              "LearnedPositionalEmbedding")

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.d_model}" + (", batch_first=True" if self.batch_first
                                                    else "")
