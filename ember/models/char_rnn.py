"""A character-level recurrent language model (Karpathy's char-rnn, 2015):

    tokens (B, T) -> Embedding -> LSTM / GRU / RNN (num_layers, dropout between layers)
      -> Dropout -> Linear -> logits (B, T, vocab)

Unlike GPT it has no context limit: the hidden state carries everything seen so far, so
`generate` feeds one token at a time and keeps the state.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..ops.join import cat
from ..tensor import Tensor
from .sampling import check_sampling, sample_next

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class CharRNN(nn.Module):
    """`model(idx)` -> (logits (B, T, vocab), None); `model(idx, targets)` -> (logits, the
    mean cross-entropy of predicting targets; target -1 is ignored)."""

    def __init__(self, vocab_size: int, cell: str = "lstm", embedding_dim: int = 64,
                 hidden_size: int = 256, num_layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"CharRNN: cell must be one of {', '.join(_CELLS)}, got {cell!r}")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = _CELLS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def step(self, idx: Tensor, hidden: Any = None) -> tuple[Tensor, Any]:
        """(logits (B, T, vocab), the hidden state after the last token)."""
        if idx.dim() != 2:
            raise ValueError(f"CharRNN: expected token ids of shape (batch, time), got "
                             f"{tuple(idx.shape)}")
        output, hidden = self.rnn(self.embedding(idx), hidden)
        return self.head(self.dropout(output)), hidden

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        logits, _ = self.step(idx)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=-1)
        return logits, loss

    @no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: Any = None) -> Tensor:
        """Extend each row of idx (B, T) by `max_new_tokens` sampled tokens: the prompt is
        read once, then each new token updates the hidden state (see sampling.sample_next
        for temperature and top_k)."""
        check_sampling(temperature, top_k, "CharRNN.generate")
        logits, hidden = self.step(idx)
        for _ in range(max_new_tokens):
            token = sample_next(logits[:, -1, :], temperature, top_k, generator)
            idx = cat([idx, token], dim=1)
            logits, hidden = self.step(token, hidden)
        return idx

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}"


def char_rnn(vocab_size: int, **kwargs: Any) -> CharRNN:
    return CharRNN(vocab_size, **kwargs)
