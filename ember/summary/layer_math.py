"""The per-layer arithmetic of a summary: which kind a layer is, its multiply-accumulates, and
how it changes the receptive field and jump of the positions it computes.

A layer with kernel k, stride s and dilation d maps the receptive field r and jump j (the
distance in input pixels between neighbouring output positions) of its input to
r + d(k-1) j and j s (k_eff = d(k-1)+1 taps span d(k-1) input steps of size j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Layer kinds by torch's class names, looked up in ember.nn when a summary runs (so layers added
# later are found); the first kind a module is an instance of wins.
KINDS = {
    "conv_transpose": ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "conv": ("Conv1d", "Conv2d", "Conv3d"),
    "adaptive_pool": ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                      "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"),
    "pool": ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
             "LPPool1d", "LPPool2d", "LPPool3d"),
    "resample": ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
                 "PixelUnshuffle"),
    "flatten": ("Flatten",),
    "linear": ("Linear",),
    "bilinear": ("Bilinear",),
    "norm": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm",
             "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
}
SPATIAL_KINDS = {"conv", "conv_transpose", "pool", "adaptive_pool", "resample"}
DENSE_KINDS = {"flatten", "linear", "bilinear"}  # show a field only when it is "whole"


@dataclass(frozen=True)
class Field:
    """Receptive field `rf` and jump of a tensor's positions per spatial dim, in input pixels.
    `()` is one input pixel in every dim (the model's input); `whole`: every position depends
    on the whole input."""

    rf: tuple = ()
    jump: tuple = ()
    whole: bool = False

    def dims(self, n: int) -> tuple:
        """(rf, jump) as n-tuples: the last n dims, padded on the left with 1s."""
        def fit(t: tuple) -> tuple:
            return t[len(t) - n:] if len(t) >= n else (1,) * (n - len(t)) + t
        return fit(self.rf), fit(self.jump)

    def key(self) -> tuple:
        return (self.whole, math.prod(self.rf), math.prod(self.jump))

    @staticmethod
    def merge(fields: list) -> Field:
        """The field of a result computed from several tensors: elementwise the largest."""
        if any(f.whole for f in fields):
            return Field(whole=True)
        n = max(len(f.rf) for f in fields)
        pairs = [f.dims(n) for f in fields]
        return Field(tuple(map(max, zip(*(p[0] for p in pairs), strict=True))),
                     tuple(map(max, zip(*(p[1] for p in pairs), strict=True))))


def ntuple(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _ratio(a: float, b: float) -> float:
    """a / b, kept an int when it divides."""
    q = a / b
    return int(q) if float(q).is_integer() else q


def _transposed_span(k: int, s: int, d: int) -> int:
    """How many input steps the taps feeding one output of a transposed conv span: output o
    reads input i where i*s = o + p - t*d, so taps t with equal (t*d mod s) share an output."""
    span = 0
    for residue in range(s):
        taps = [t for t in range(k) if (t * d) % s == residue]
        if taps:
            span = max(span, (taps[-1] - taps[0]) * d // s)
    return span


def propagate(kind: str | None, n: int, module: Any, fin: Field, inputs: list,
              outputs: list) -> Field:
    """The field of a layer's output given the field `fin` of its input; `n`: the layer's
    number of spatial dims (from its class name), or 0 to take it from the input."""
    if fin.whole or not inputs or not outputs:
        return fin
    x, y = inputs[0], outputs[0]
    if kind in ("linear", "bilinear"):  # on (B, F) every output reads every feature
        return Field(whole=True) if x.ndim <= 2 else fin
    if kind == "flatten":
        return Field(whole=True) if y.ndim <= 2 < x.ndim else fin
    if kind not in SPATIAL_KINDS:  # elementwise and per-position layers keep the field
        return fin
    n = n or max(x.ndim - 2, 0)
    if n == 0 or x.ndim < n or y.ndim < n:
        return fin
    rf, jump = fin.dims(n)
    if kind in ("conv", "pool"):
        k = ntuple(module.kernel_size, n)
        stride = getattr(module, "stride", None)
        s = k if stride is None or stride == () else ntuple(stride, n)
        d = ntuple(getattr(module, "dilation", 1), n)
        rf = tuple(r + di * (ki - 1) * j for r, ki, di, j in zip(rf, k, d, jump, strict=True))
        return Field(rf, tuple(j * si for j, si in zip(jump, s, strict=True)))
    if kind == "conv_transpose":
        k, s = ntuple(module.kernel_size, n), ntuple(module.stride, n)
        d = ntuple(module.dilation, n)
        spans = map(_transposed_span, k, s, d)
        rf = tuple(r + span * j for r, span, j in zip(rf, spans, jump, strict=True))
        return Field(rf, tuple(_ratio(j, si) for j, si in zip(jump, s, strict=True)))
    sizes = list(zip(x.shape[-n:], y.shape[-n:], strict=True))  # (in, out) per dim
    jump_out = tuple(_ratio(j * i, o) for j, (i, o) in zip(jump, sizes, strict=True))
    if kind == "adaptive_pool":
        if all(o == 1 for _, o in sizes) and any(i > 1 for i, _ in sizes):
            return Field(whole=True)  # global pooling
        # window b covers [floor(b*i/o), ceil((b+1)*i/o)): the widest gives the field
        k = [max(-(-(b + 1) * i // o) - b * i // o for b in range(o)) if o != i else 1
             for i, o in sizes]
        rf = tuple(r + (ki - 1) * j for r, ki, j in zip(rf, k, jump, strict=True))
        return Field(rf, jump_out)
    # resample (Upsample, PixelShuffle): the grid gets finer or coarser; counted as nearest
    # neighbour, where each output reads one input position
    return Field(rf, jump_out)


def count_macs(kind: str | None, module: Any, inputs: list, outputs: list) -> int:
    """Multiply-accumulates of one call (conventions: the docstring of `ember.summary`)."""
    if kind is None or not outputs:
        return 0
    out = outputs[0].numel()
    weight = getattr(module, "weight", None)
    if kind == "norm":
        return out
    if weight is None:
        return 0
    if kind == "conv":  # weight (out, in/groups, *kernel): each output reads in/groups x kernel
        return out * math.prod(weight.shape[1:])
    if kind == "conv_transpose":  # weight (in, out/groups, *kernel): each input is scattered
        return inputs[0].numel() * math.prod(weight.shape[1:]) if inputs else 0
    if kind in ("linear", "bilinear"):  # weight (out, in) or (out, in1, in2)
        return out * math.prod(weight.shape[1:])
    return 0
