"""Text for language models: character- and byte-level tokenizers, and `TextDataset`, the
next-token windows over a token stream that a char-level GPT or LSTM trains on.

A window of `block_size` tokens gives `block_size` training examples at once: the target of
position t is the token at t + 1, so x = tokens[i : i + B] and y = tokens[i + 1 : i + B + 1].
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy

from ..creation import from_numpy
from ..random import default_generator
from ..tensor import Tensor
from ..utils.data import Dataset


class CharTokenizer:
    """One id per distinct character, ids in sorted character order (as in nanoGPT's and
    Karpathy's char-rnn preprocessing, so vocabularies built from the same text agree)."""

    kind = "char"

    def __init__(self, chars: Iterable[str]) -> None:
        self.itos: list[str] = sorted(set(chars))
        if any(len(c) != 1 for c in self.itos):
            raise ValueError("CharTokenizer: every vocabulary entry must be one character")
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        self._lookup = numpy.full(max((ord(c) for c in self.itos), default=0) + 1, -1,
                                  dtype=numpy.int64)
        for c, i in self.stoi.items():
            self._lookup[ord(c)] = i

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(text)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        return self.encode_array(text).tolist()

    def encode_array(self, text: str) -> numpy.ndarray:
        """int64 ids of every character, vectorized (a 5 MB corpus encodes in milliseconds)."""
        codes = numpy.frombuffer(text.encode("utf-32-le"), dtype=numpy.uint32).astype(numpy.int64)
        ids = numpy.full(len(codes), -1, dtype=numpy.int64)
        known = codes < len(self._lookup)
        ids[known] = self._lookup[codes[known]]
        if (ids < 0).any():
            unknown = sorted({text[i] for i in numpy.flatnonzero(ids < 0)[:1000]})
            raise ValueError(f"CharTokenizer.encode: characters not in the vocabulary of "
                             f"{self.vocab_size}: {''.join(unknown)!r}; the vocabulary comes "
                             "from the training text (use byte_level=True to cover any text)")
        return ids

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        ids = _as_int_list(ids)
        if any(i < 0 or i >= self.vocab_size for i in ids):
            raise ValueError(f"CharTokenizer.decode: ids must be in [0, {self.vocab_size})")
        return "".join(self.itos[i] for i in ids)

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps to decode its model's samples later."""
        return {"kind": self.kind, "chars": "".join(self.itos)}

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


class ByteTokenizer:
    """The 256 byte values of the UTF-8 encoding: any text, no vocabulary to build or store."""

    kind = "byte"
    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def encode_array(self, text: str) -> numpy.ndarray:
        return numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8).astype(numpy.int64)

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        ids = _as_int_list(ids)
        if any(i < 0 or i > 255 for i in ids):
            raise ValueError("ByteTokenizer.decode: ids must be bytes, in [0, 256)")
        # a sampled stream may cut a multi-byte character: show U+FFFD rather than fail
        return bytes(ids).decode("utf-8", errors="replace")

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def __repr__(self) -> str:
        return "ByteTokenizer(vocab_size=256)"


Tokenizer = CharTokenizer | ByteTokenizer


def tokenizer_from_state(state: dict[str, Any]) -> Tokenizer:
    """Rebuild the tokenizer a checkpoint stored with `state_dict()`."""
    if state.get("kind") == "byte":
        return ByteTokenizer()
    if state.get("kind") == "char":
        return CharTokenizer(state["chars"])
    raise ValueError(f"unknown tokenizer state {state!r}")


def _as_int_list(ids: Iterable[int] | Tensor) -> list[int]:
    if isinstance(ids, Tensor):
        if ids.dim() > 1:
            raise ValueError(f"decode takes one sequence of ids, got shape {tuple(ids.shape)}")
        return [int(i) for i in ids.tolist()]
    return [int(i) for i in ids]


class TextDataset(Dataset):
    """Every window of `block_size` + 1 consecutive tokens, as (x, y) int64 tensors of length
    `block_size` with y shifted by one: len(dataset) = len(tokens) - block_size.

    `tokenizer` turns samples back into text. `random_batch` draws a batch of windows at random
    offsets in one vectorized step, the cheap way to feed a language model (a `DataLoader`
    with shuffle=True works too, one window per item).
    """

    def __init__(self, tokens: Sequence[int] | numpy.ndarray | Tensor, block_size: int,
                 tokenizer: Tokenizer | None = None) -> None:
        if isinstance(tokens, Tensor):
            tokens = tokens.numpy()
        self.tokens = numpy.ascontiguousarray(tokens, dtype=numpy.int64).reshape(-1)
        if not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"TextDataset: block_size must be a positive int, got {block_size!r}")
        if len(self.tokens) <= block_size:
            raise ValueError(f"TextDataset: {len(self.tokens)} tokens make no window of "
                             f"block_size + 1 = {block_size + 1} tokens; use a smaller block_size "
                             "or more text")
        self.block_size = block_size
        self.tokenizer = tokenizer

    @classmethod
    def from_text(cls, text: str, block_size: int, split: str = "train",
                  val_fraction: float = 0.1, byte_level: bool = False) -> TextDataset:
        """The `split` ('train' or 'val') of `text`: the first 1 - val_fraction of the tokens
        train, the rest validate (a contiguous tail, so no window straddles both). The
        character vocabulary comes from the whole text, so both splits share it."""
        if split not in ("train", "val"):
            raise ValueError(f"TextDataset: split must be 'train' or 'val', got {split!r}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"TextDataset: val_fraction must be in [0, 1), got {val_fraction}")
        tokenizer: Tokenizer = ByteTokenizer() if byte_level else CharTokenizer.from_text(text)
        tokens = tokenizer.encode_array(text)
        cut = len(tokens) - int(round(len(tokens) * val_fraction))
        part = tokens[:cut] if split == "train" else tokens[cut:]
        if split == "val" and len(part) <= block_size:
            raise ValueError(f"TextDataset: the validation split has {len(part)} tokens, too few "
                             f"for block_size {block_size}; raise val_fraction or use more text")
        return cls(part, block_size, tokenizer)

    @classmethod
    def from_file(cls, path: str | os.PathLike, block_size: int, split: str = "train",
                  val_fraction: float = 0.1, byte_level: bool = False,
                  encoding: str = "utf-8") -> TextDataset:
        """`from_text` on a text file's contents."""
        file = pathlib.Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"TextDataset.from_file: no text file at {str(file)!r}")
        if byte_level:  # any bytes are fine: don't insist on the file being valid text
            text = file.read_bytes().decode("utf-8", errors="replace")
        else:
            text = file.read_text(encoding=encoding)
        return cls.from_text(text, block_size, split, val_fraction, byte_level)

    @property
    def vocab_size(self) -> int:
        if self.tokenizer is not None:
            return self.tokenizer.vocab_size
        return int(self.tokens.max()) + 1

    def __len__(self) -> int:
        return len(self.tokens) - self.block_size

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"TextDataset index {index} out of range for {len(self)} windows")
        window = self.tokens[index:index + self.block_size + 1]
        return from_numpy(window[:-1].copy()), from_numpy(window[1:].copy())

    def random_batch(self, batch_size: int, generator: Any = None) -> tuple[Tensor, Tensor]:
        """`batch_size` windows at uniformly random offsets: x and y of shape (batch, block).
        `generator`: an ember.Generator (or a numpy Generator) for repeatable batches."""
        rng = getattr(generator, "rng", generator)  # ember.Generator wraps a numpy Generator
        if rng is None:
            rng = default_generator.rng
        starts = rng.integers(0, len(self), size=batch_size)
        rows = starts[:, None] + numpy.arange(self.block_size + 1)
        windows = self.tokens[rows]
        return (from_numpy(numpy.ascontiguousarray(windows[:, :-1])),
                from_numpy(numpy.ascontiguousarray(windows[:, 1:])))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(tokens={len(self.tokens):,}, block_size={self.block_size},"
                f" tokenizer={self.tokenizer!r})")
