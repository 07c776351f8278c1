"""Variable-length batches for recurrent layers (torch.nn.utils.rnn).

A packed sequence stores only the real time steps of a batch, time-major: for step t, the
rows of the B_t sequences still running, longest sequence first. Sequences "abc" and "x" pack
as data "axbc" with batch_sizes [2, 1, 1]. Packing and padding are gathers by a row index
(padding gathers from the data plus one row of `padding_value`), so gradients flow through
both. RNN, LSTM and GRU accept a PackedSequence and return one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ... import backend, creation
from ...ops.join import cat, stack
from ...tensor import Tensor

np = backend.numpy  # lengths, batch sizes and row indices are host-side, as in torch


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """(data, batch_sizes, sorted_indices, unsorted_indices) of a packed batch.

    `batch_sizes[t]` is the number of sequences still running at step t (an int64 tensor);
    `sorted_indices` orders the original batch by decreasing length (None if it already
    was) and `unsorted_indices` undoes that. Made by `pack_padded_sequence`/`pack_sequence`.
    """

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch also accepts PackedSequence((data, batch_sizes))
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: expected data and batch_sizes, or a (data, "
                                "batch_sizes) pair")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """`data.to(...)`; the indices follow data's device, batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cuda" if not args else args[0], **kwargs)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype("float64"))

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype("float32"))

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype("float16"))

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype("int64"))

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype("int32"))

    def short(self) -> PackedSequence:
        return self.to(dtype=_dtype("int16"))

    def char(self) -> PackedSequence:
        return self.to(dtype=_dtype("int8"))

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dtype("uint8"))

    def pin_memory(self) -> PackedSequence:
        return self

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _dtype(name: str) -> Any:
    from ... import dtypes  # noqa: PLC0415

    return getattr(dtypes, name)


def _int64(values: Any) -> Tensor:
    return creation.tensor(np.asarray(values, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation: out[permutation[i]] = i."""
    if permutation is None:
        return None
    order = permutation.detach().cpu().numpy()
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _int64(inverse).to(permutation.device)


def _lengths_list(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths.detach().cpu().numpy().astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """batch_sizes[t] = how many (sorted) sequences are longer than t."""
    steps = int(lengths.max()) if lengths.size else 0
    return (lengths[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences whose
    lengths are `lengths`. With enforce_sorted=False the batch is sorted by decreasing
    length first (kept in `sorted_indices`)."""
    lengths = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected an input of at least 2 dimensions "
                         f"(T, B, *), got shape {tuple(input.shape)}")
    batch = input.shape[batch_dim]
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _int64(order).to(input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps = input.shape[0]
    if lengths.size and lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a sequence of length {lengths[0]} does not "
                           f"fit in an input of {steps} time steps")
    batch_sizes = _batch_sizes(lengths)
    # row t * B + b of the flattened (T * B, *) input, for every b < batch_sizes[t]
    rows = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)]
                          or [np.zeros(0, np.int64)])
    data = input.reshape((steps * batch,) + tuple(input.shape[2:]))[rows]
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """The inverse of `pack_padded_sequence`: (padded (T, B, *) or (B, T, *), lengths), in the
    batch's original order; T is the longest length, or `total_length`."""
    data = sequence.data
    batch_sizes = sequence.batch_sizes.detach().cpu().numpy().astype(np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}")
        steps = total_length
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    count = data.shape[0]
    # where each (t, b) of the padded batch comes from: its packed row, or the padding row
    offsets = np.concatenate(([0], np.cumsum(batch_sizes)[:-1])).astype(np.int64)
    source = np.full((steps, batch), count, dtype=np.int64)
    for t, (start, n) in enumerate(zip(offsets, batch_sizes)):
        source[t, :n] = start + np.arange(n)
    pad_row = data.new_full((1,) + tuple(data.shape[1:]), padding_value)
    padded = cat([data, pad_row])[source.reshape(-1)]
    padded = padded.reshape((steps, batch) + tuple(data.shape[1:]))
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1).astype(np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted.detach().cpu().numpy()]
    return padded, _int64(lengths)


def pad_sequence(sequences: Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (T, B, *) (or (B, T, *)), T = max L_i,
    filling with `padding_value` on the right (or the left)."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected Tensor as element {i} in argument 0, but "
                            f"got {type(s).__name__}")
        if s.ndim == 0:
            raise RuntimeError(f"pad_sequence: element {i} is a 0-d tensor; each sequence "
                               "needs a time dimension (L, *)")
    steps = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = steps - s.shape[0]
        if missing:
            fill = s.new_full((missing,) + tuple(s.shape[1:]), padding_value)
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any,
                   batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (the inverse of `pad_sequence`)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:length] for seq, length in zip(padded_sequences.unbind(0),
                                                  _lengths_list(lengths).tolist())]


def pack_sequence(sequences: list, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *): `pad_sequence` then `pack_padded_sequence`."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]
