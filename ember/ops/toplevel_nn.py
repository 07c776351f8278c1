"""The torch.* spellings of nn.functional: `torch.kl_div`, `torch.lstm_cell`, `torch.convolution`...

These are ATen's entry points, exposed at top level by torch and used by code written against
them. They differ from the nn.functional forms in argument order and in taking `reduction` as
ATen's integer enum (0 none, 1 mean, 2 sum); each one here converts and calls the one
implementation in nn.functional.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value: Any, op: str) -> str:
    """ATen's reduction enum (or a string, which torch's Python layer would have converted)."""
    if isinstance(value, str) and value in _REDUCTIONS.values():
        return value
    if value not in _REDUCTIONS:
        raise ValueError(f"torch.{op}: reduction must be 0 (none), 1 (mean) or 2 (sum), "
                         f"got {value!r}")
    return _REDUCTIONS[value]


def _F() -> Any:
    from ..nn import functional  # noqa: PLC0415

    return functional


# ------------------------------------------------------------------ losses
def kl_div(input: Tensor, target: Tensor, reduction: Any = 0, *,
           log_target: bool = False) -> Tensor:
    """The elementwise KL terms, reduced by the enum (ATen's 'mean' is over all elements, with
    none of F.kl_div's warning about 'batchmean')."""
    loss = _F().kl_div(input, target, reduction="none", log_target=log_target)
    mode = _reduction(reduction, "kl_div")
    return loss if mode == "none" else (loss.mean() if mode == "mean" else loss.sum())


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None,
                                     reduction: Any = 0) -> Tensor:
    return _F().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: Any = 0) -> Tensor:
    return _F().cosine_embedding_loss(input1, input2, target, margin,
                                      reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: Any = 0) -> Tensor:
    return _F().hinge_embedding_loss(input, target, margin,
                                     reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: Any = 0) -> Tensor:
    return _F().margin_ranking_loss(input1, input2, target, margin,
                                    reduction=_reduction(reduction, "margin_ranking_loss"))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: Any = 0) -> Tensor:
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction(reduction, "triplet_margin_loss"))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: Any) -> Tensor:
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_reduction(reduction, "poisson_nll_loss"))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: Any = 0, zero_infinity: bool = False) -> Tensor:
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         _reduction(reduction, "ctc_loss"), zero_infinity)


# ------------------------------------------------------------------ activations and dropout
def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return _F().threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _F().threshold_(input, threshold, value)


def selu_(input: Tensor) -> Tensor:
    return _F().selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _F().celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    return _F().rrelu(input, lower, upper, training, inplace=True)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _F().dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Whole channels (dim 1) zeroed: nn.Dropout1d/2d/3d's rule for any rank >= 2."""
    return _feature_dropout(input, p, train, inplace=False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _feature_dropout(input, p, train, inplace=True)


def _feature_dropout(input: Tensor, p: float, train: bool, inplace: bool) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"feature_dropout: expected an input of at least 2 dims (N, C, ...), "
                           f"got shape {tuple(input.shape)}")
    F = _F()
    if input.ndim == 2:  # (N, C): one feature per channel is ordinary dropout
        return F.dropout(input, p, train, inplace)
    flat = input if input.ndim == 4 else input.reshape(input.shape[0], input.shape[1], -1, 1)
    out = F.dropout2d(flat, p, train, inplace)
    return out if input.ndim == 4 else out.reshape(input.shape)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _F().alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _F().feature_alpha_dropout(input, p, train, inplace=True)


# ------------------------------------------------------------------ normalization and padding
def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    return _F().rms_norm(input, normalized_shape, weight, eps)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    return _F().pad(input, pad, "constant", value)


def embedding_renorm_(weight: Tensor, indices: Tensor, max_norm: float,
                      norm_type: float) -> Tensor:
    """Rescale, in place, the rows of `weight` named in `indices` whose norm passes max_norm:
    what F.embedding(max_norm=...) does before its lookup."""
    from ..autograd.grad_mode import no_grad  # noqa: PLC0415
    from .indexing import where  # noqa: PLC0415

    with no_grad():
        rows = indices.reshape(-1).unique()
        norms = weight[rows].norm(p=norm_type, dim=1, keepdim=True)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = weight[rows] * scale
    return weight


# ------------------------------------------------------------------ convolution and sampling
def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                dilation: Any, transposed: bool, output_padding: Any, groups: int) -> Tensor:
    """ATen's one convolution entry: 1, 2 or 3 spatial dims, direct or transposed."""
    F = _F()
    dims = weight.ndim - 2
    if dims not in (1, 2, 3):
        raise RuntimeError(f"torch.convolution: expected a weight of 3, 4 or 5 dims "
                           f"(out, in/groups, *kernel), got shape {tuple(weight.shape)}")
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    fn = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    return fn(input, weight, bias, stride, padding, dilation, groups)


_GRID_MODES = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_GRID_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """F.grid_sample with ATen's integer modes (0 bilinear, 1 nearest, 2 bicubic; padding
    0 zeros, 1 border, 2 reflection)."""
    if interpolation_mode not in _GRID_MODES or padding_mode not in _GRID_PADDING:
        raise ValueError(f"torch.grid_sampler: interpolation_mode must be 0, 1 or 2 and "
                         f"padding_mode 0, 1 or 2, got {interpolation_mode}, {padding_mode}")
    return _F().grid_sample(input, grid, _GRID_MODES[interpolation_mode],
                            _GRID_PADDING[padding_mode], align_corners)


def affine_grid_generator(theta: Tensor, size: Any, align_corners: bool) -> Tensor:
    return _F().affine_grid(theta, size, align_corners)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (),
                            padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> tuple:
    return _F().max_pool1d_with_indices(input, kernel_size, stride or None, padding, dilation,
                                        ceil_mode)


# ------------------------------------------------------------------ one recurrent step
def _cell(mode: str, input: Tensor, states: tuple, w_ih: Tensor, w_hh: Tensor,
          b_ih: Tensor | None, b_hh: Tensor | None) -> tuple:
    from ..nn.functional.recurrence import recurrent_layer  # noqa: PLC0415

    name = {"LSTM": "lstm_cell", "GRU": "gru_cell", "RNN_TANH": "rnn_tanh_cell",
            "RNN_RELU": "rnn_relu_cell"}[mode]
    if input.ndim != 2 or any(s.ndim != 2 for s in states):
        raise RuntimeError(f"torch.{name}: expected a 2-D input (batch, input_size) and 2-D "
                           f"states (batch, hidden_size), got {tuple(input.shape)} and "
                           f"{[tuple(s.shape) for s in states]}")
    if w_ih.shape[1] != input.shape[1]:
        raise RuntimeError(f"torch.{name}: input has inconsistent input_size: got "
                           f"{input.shape[1]} expected {w_ih.shape[1]}")
    c0 = states[1] if len(states) > 1 else None
    _, h, c = recurrent_layer(mode, input, states[0], c0, w_ih, w_hh, b_ih, b_hh, None,
                              (input.shape[0],))
    return h, c


def lstm_cell(input: Tensor, hx: Any, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple:
    """(h', c') of one LSTM step; hx is [h, c]."""
    if len(hx) != 2:
        raise RuntimeError(f"torch.lstm_cell: hx must be [h, c], got {len(hx)} tensors")
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    return _cell("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    return _cell("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    return _cell("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]
