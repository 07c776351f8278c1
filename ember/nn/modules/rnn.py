"""Recurrent layers: RNN (tanh/relu), LSTM and GRU over whole sequences.

The cells' equations are in ember/nn/functional/rnn.py, the loop over time (and its backward)
in ember/nn/functional/recurrence.py. A layer here stacks `num_layers` of them: layer l reads
the output of layer l - 1 (both directions concatenated when bidirectional), with dropout in
between during training. Parameters, their names (`weight_ih_l0`, `bias_hh_l1_reverse`,
`weight_hr_l0` ...), shapes, gate order and initialisation are torch's, so a torch
state_dict loads as is. Cells for one time step are in rnn_cells.py.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ... import creation
from ...ops.join import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional.recurrence import recurrent_layer
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from .rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase  # noqa: F401  torch's path too

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, argument checks and the layer stack."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _check_arguments(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, proj_size)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, \
            proj_size
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size if proj_size > 0 else hidden_size  # size of h
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, out_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix,
                            Parameter(creation.empty(*shape, device=device, dtype=dtype)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op: torch packs weights for cuDNN here; Ember's loop uses them as they are."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction: [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ------------------------------------------------------------------------------
    def forward(self, input: Any, hx: Any = None) -> tuple:
        lstm = self.mode == "LSTM"
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(b) for b in batch_sizes_tensor.tolist())
            batch = batch_sizes[0] if batch_sizes else 0
            if x.ndim != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {x.ndim}")
            if hx is not None and sorted_indices is not None:  # hx is in the caller's order
                hx = tuple(h.index_select(1, sorted_indices) for h in hx) if lstm else \
                    hx.index_select(1, sorted_indices)
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 + ("instead" if lstm else "tensor instead"))
            batched = input.ndim == 3
            batch_dim = 0 if self.batch_first else 1
            if hx is not None:
                hx = _check_hx_dims(hx, lstm, batched)
            if not batched:
                input = input.unsqueeze(batch_dim)
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            batch_sizes = (batch,) * steps
            x = input.reshape(steps * batch, input.shape[2])
        self._check_input(x, hx, batch)
        h0, c0 = (hx if lstm else (hx, None)) if hx is not None else (None, None)
        out, h_n, c_n = self._run_layers(x, h0, c0, batch_sizes)
        if packed:
            output = PackedSequence(out, batch_sizes_tensor, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if lstm else None
            return output, ((h_n, c_n) if lstm else h_n)
        output = out.reshape(steps, batch, out.shape[1])
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)

    def _run_layers(self, x: Tensor, h0: Any, c0: Any, batch_sizes: tuple) -> tuple:
        """x: (N, H_in) packed rows; h0/c0: (layers * directions, B, H) or None."""
        directions = 2 if self.bidirectional else 1
        count = self.num_layers * directions
        h_init = h0.unbind(0) if h0 is not None else (None,) * count
        c_init = c0.unbind(0) if c0 is not None else (None,) * count
        h_last, c_last = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(k)
                out, h, c = recurrent_layer(self.mode, x, h_init[k], c_init[k], w_ih, w_hh,
                                            b_ih, b_hh, w_hr, batch_sizes,
                                            reverse=direction == 1)
                outs.append(out)
                h_last.append(h)
                c_last.append(c)
            x = outs[0] if directions == 1 else cat(outs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, stack(h_last), (stack(c_last) if self.mode == "LSTM" else None)

    def _weights(self, k: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of layer-direction k (None where absent)."""
        params = [getattr(self, name) for name in self._all_weights[k]]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
        w_hr = params[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _check_input(self, x: Tensor, hx: Any, batch: int) -> None:
        weight = self.weight_ih_l0
        if x.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        if hx is None:
            return
        count = self.num_layers * (2 if self.bidirectional else 1)
        h_size = (count, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)
        if self.mode != "LSTM":
            if tuple(hx.shape) != h_size:
                raise RuntimeError(f"Expected hidden size {h_size}, got {list(hx.shape)}")
            return
        c_size = (count, batch, self.hidden_size)
        for i, (h, size) in enumerate(zip(hx, (h_size, c_size))):
            if tuple(h.shape) != size:
                raise RuntimeError(f"Expected hidden[{i}] size {size}, got {list(h.shape)}")


def _check_arguments(mode: str, input_size: Any, hidden_size: Any, num_layers: int,
                     bias: Any, batch_first: Any, dropout: Any, proj_size: int) -> None:
    """torch's argument checks, with its messages."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) \
            or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
    for what, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int),
                              ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{what} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable "
                         "projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise ValueError("Unrecognized RNN mode: " + mode)


def _check_hx_dims(hx: Any, lstm: bool, batched: bool) -> Any:
    """Unbatched input takes unbatched states (2-D); they gain a batch dim of 1."""
    want = 3 if batched else 2
    what = "batched 3-D" if batched else "unbatched 2-D"
    if lstm:
        if hx[0].ndim != want or hx[1].ndim != want:
            raise RuntimeError(f"For {what} input, hx and cx should also be {want}-D but got "
                               f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors")
        return hx if batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
    if hx.ndim != want:
        raise RuntimeError(f"For {what} input, hx should also be {want}-D but got "
                           f"{hx.ndim}-D tensor")
    return hx if batched else hx.unsqueeze(1)


class RNN(RNNBase):
    """Elman RNN, per layer and time step:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    (relu instead of tanh with nonlinearity='relu').

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False). Input (T, B, H_in) (or (B, T, H_in),
    (T, H_in) or a PackedSequence); returns (output, h_n).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args,
                         **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gate equations in ember/nn/functional/rnn.py: LSTMStep).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0). Input (T, B, H_in) (or (B, T, H_in), (T, H_in) or a
    PackedSequence) and optionally (h_0, c_0); returns (output, (h_n, c_n)). With
    proj_size > 0, h is projected to proj_size by weight_hr (Sak et al. 2014).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (equations in ember/nn/functional/rnn.py: GRUStep).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). Input (T, B, H_in) (or (B, T, H_in), (T, H_in) or a
    PackedSequence); returns (output, h_n).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)
